package sso

import (
	"crypto"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// xmlTime is the xsd:dateTime form every SAML timestamp takes here: UTC,
// milliseconds.
func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newID returns an XML ID: it must not start with a digit, hence "_".
func newID(random io.Reader) (string, error) {
	b := make([]byte, 20)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("random id: %w", err)
	}
	return "_" + hex.EncodeToString(b), nil
}

// signFirst puts a signature before every other child.
const signFirst = "\x00first"

// signer signs XML elements with the current key: RSA-SHA256, exclusive
// c14n, the certificate in KeyInfo.
type signer struct {
	key KeyPair
}

// sign returns el with an enveloped signature inserted after the child
// named after (SAML 2.0 wants it right after Issuer), first when after is
// signFirst (metadata), or appended when after is "" (SAML 1.1 puts it
// last). idAttr names el's ID attribute.
func (s signer) sign(el *etree.Element, idAttr, after string) (*etree.Element, error) {
	ctx, err := dsig.NewSigningContext(s.key.Signer, [][]byte{s.key.Cert.Raw})
	if err != nil {
		return nil, fmt.Errorf("signing context: %w", err)
	}
	ctx.Hash = crypto.SHA256
	ctx.IdAttribute = idAttr
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		return nil, err
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", el.Tag, err)
	}
	out := el.Copy()
	pos := len(out.Child)
	if after == signFirst {
		pos = 0
	} else if after != "" {
		for i, c := range out.Child {
			if ce, ok := c.(*etree.Element); ok && ce.Tag == after {
				pos = i + 1
				break
			}
		}
	}
	out.InsertChildAt(pos, sig)
	return out, nil
}
