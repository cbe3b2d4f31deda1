package console

import "strings"

// secretish reports whether an attribute or field name holds a password or
// another secret the console must never show: a mapping that reads every
// attribute ("*") would otherwise bring userPassword or unicodePwd to the
// page, and the initial password a mapping sets is a secret.
func secretish(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "pwd", "secret", "ntlm", "lmhash", "krb", "supplementalcredentials"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// redactSource drops secret attributes and mapped fields from an entry.
func redactSource(e SourceEntry) SourceEntry {
	attrs := make(map[string][]string, len(e.Attributes))
	for k, v := range e.Attributes {
		if !secretish(k) {
			attrs[k] = v
		}
	}
	mapped := make(map[string]any, len(e.Mapped))
	for k, v := range e.Mapped {
		if !secretish(k) {
			mapped[k] = v
		}
	}
	e.Attributes, e.Mapped = attrs, mapped
	return e
}
