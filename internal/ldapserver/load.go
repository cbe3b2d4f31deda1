package ldapserver

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/o365prov/o365prov/internal/ldapserver/ldif"
)

// loadStore builds the store from the options and loads the initial LDIF.
func loadStore(opts Options) (*store, error) {
	src, name, closeSrc, err := openLDIF(opts)
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	var rd *ldif.Reader
	var first *ldif.Record
	if src != nil {
		rd = ldif.NewReader(src)
		first, err = rd.Next()
		if errors.Is(err, io.EOF) {
			first = nil
		} else if err != nil {
			return nil, fmt.Errorf("ldapserver: load %s: %w", name, err)
		}
	}
	baseStr := opts.BaseDN
	if baseStr == "" {
		if first == nil {
			return nil, errors.New("ldapserver: BaseDN is empty and there is no LDIF entry to take it from")
		}
		baseStr = first.DN
	}
	base, err := parseDN(baseStr)
	if err != nil {
		return nil, fmt.Errorf("ldapserver: BaseDN: %w", err)
	}
	if base.isRoot() {
		return nil, errors.New("ldapserver: BaseDN must not be the empty DN")
	}
	st := newStore(base, opts.Clock, opts.ServerID, opts.Rand)
	who := opts.AdminDN
	for rec := first; rec != nil; {
		if err := st.add(who, rec.DN, recordAttrs(rec), true); err != nil {
			return nil, fmt.Errorf("ldapserver: load %s: line %d: %w", name, rec.Line, err)
		}
		rec, err = rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ldapserver: load %s: %w", name, err)
		}
	}
	return st, nil
}

func openLDIF(opts Options) (io.Reader, string, func(), error) {
	switch {
	case opts.LDIF != nil:
		return opts.LDIF, "LDIF", func() {}, nil
	case opts.LDIFPath != "":
		f, err := os.Open(opts.LDIFPath)
		if err != nil {
			return nil, "", nil, fmt.Errorf("ldapserver: %w", err)
		}
		return f, opts.LDIFPath, func() { _ = f.Close() }, nil
	default:
		return nil, "", func() {}, nil
	}
}

// recordAttrs groups a record's values by attribute, in first-seen order.
func recordAttrs(rec *ldif.Record) []Attribute {
	var out []Attribute
	idx := make(map[string]int, len(rec.Attrs))
	for _, a := range rec.Attrs {
		key := lookupAttr(a.Name).key
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, Attribute{Name: a.Name})
		}
		out[i].Values = append(out[i].Values, a.Value)
	}
	return out
}
