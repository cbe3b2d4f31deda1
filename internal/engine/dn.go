package engine

import "github.com/o365prov/o365prov/internal/ldapdn"

// normDN makes DNs comparable as names (escaped commas and plus signs,
// hex escapes, multi-valued RDNs, case and spaces), for the maps that
// resolve managers and members.
func normDN(dn string) string { return ldapdn.Normalize(dn) }

// sameDN reports whether two DNs name the same entry.
func sameDN(a, b string) bool { return ldapdn.Equal(a, b) }
