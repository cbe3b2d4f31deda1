package ldapserver

import (
	ber "github.com/go-asn1-ber/asn1-ber"
)

// Decoders of the write and compare request bodies (RFC 4511 §4.6 to §4.10).

// decodeAdd reads AddRequest ::= SEQUENCE { entry, attributes }.
func decodeAdd(body *ber.Packet) (string, []Attribute, error) {
	return decodeDNAndList(body, partialAttribute)
}

// decodeModify reads ModifyRequest ::= SEQUENCE { object, changes }.
func decodeModify(body *ber.Packet) (string, []Change, error) {
	return decodeDNAndList(body, decodeChange)
}

// decodeDNAndList reads SEQUENCE { dn, SEQUENCE OF element }.
func decodeDNAndList[T any](body *ber.Packet, element func(*ber.Packet) (T, error)) (string, []T, error) {
	dn, err := str(body, 0)
	if err != nil {
		return "", nil, err
	}
	list, err := child(body, 1)
	if err != nil {
		return "", nil, err
	}
	out := make([]T, 0, len(list.Children))
	for _, p := range list.Children {
		v, err := element(p)
		if err != nil {
			return "", nil, err
		}
		out = append(out, v)
	}
	return dn, out, nil
}

func decodeChange(p *ber.Packet) (Change, error) {
	op, err := num(p, 0)
	if err != nil {
		return Change{}, err
	}
	mod, err := child(p, 1)
	if err != nil {
		return Change{}, err
	}
	a, err := partialAttribute(mod)
	if err != nil {
		return Change{}, err
	}
	return Change{Op: ChangeOp(op), Attr: a.Name, Values: a.Values}, nil
}

type modifyDNRequest struct {
	dn, newRDN, superior string
	deleteOld            bool
}

// decodeModifyDN reads ModifyDNRequest ::= SEQUENCE { entry, newrdn,
// deleteoldrdn, newSuperior [0] OPTIONAL }.
func decodeModifyDN(body *ber.Packet) (modifyDNRequest, error) {
	var m modifyDNRequest
	var err error
	if m.dn, err = str(body, 0); err != nil {
		return m, err
	}
	if m.newRDN, err = str(body, 1); err != nil {
		return m, err
	}
	if m.deleteOld, err = flag(body, 2); err != nil {
		return m, err
	}
	if len(body.Children) > 3 {
		m.superior = body.Children[3].Data.String()
	}
	return m, nil
}

// decodeCompare reads CompareRequest ::= SEQUENCE { entry, ava } and turns
// the assertion into an equality filter.
func decodeCompare(body *ber.Packet) (dn, *filter, error) {
	dnStr, err := str(body, 0)
	if err != nil {
		return dn{}, nil, err
	}
	d, err := parseDN(dnStr)
	if err != nil {
		return dn{}, nil, err
	}
	avaP, err := child(body, 1)
	if err != nil {
		return dn{}, nil, err
	}
	desc, err := str(avaP, 0)
	if err != nil {
		return dn{}, nil, err
	}
	value, err := str(avaP, 1)
	if err != nil {
		return dn{}, nil, err
	}
	f := &filter{kind: fEquality, value: value}
	f.setAttr(desc)
	f.norm, f.valid = normalize(f.typ.syn, value)
	return d, f, nil
}
