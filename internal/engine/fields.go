package engine

import (
	"encoding/json"
	"sort"
	"strings"
)

// Provisioner fields are mapped like properties but are not Graph
// properties: they drive licences, managers and passwords.
var provisionerFields = map[string]bool{
	"skuId": true, "disabledPlans": true, "manager": true, "pingSourceDN": true, "password": true,
	// accountEnabled follows the account's lifecycle (create, disable,
	// enable), never a plain update.
	"accountEnabled": true,
}

// unclearable properties cannot be removed from a user once set (Graph
// refuses), so an empty value leaves them as they are.
var unclearable = map[string]bool{
	"displayName": true, "userPrincipalName": true, "mailNickname": true,
	"onPremisesImmutableId": true, "usageLocation": true,
}

// canon is the canonical JSON of a value, what state compares. HTML is not
// escaped, so "R&D" is stored as people read it.
func canon(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Mapped values are strings, lists and booleans: always encodable.
		panic("engine: canon: " + err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// graphValue shapes a mapped value for Graph: businessPhones takes one
// number ("Only one number can be set", graph.md §1), lists stay lists.
func graphValue(field string, v any) any {
	if field == "businessPhones" {
		if l, ok := v.([]string); ok && len(l) > 1 {
			return l[:1]
		}
		if s, ok := v.(string); ok {
			return []string{s}
		}
	}
	return v
}

// clearValue is how Graph is told a property is now empty.
func clearValue(kind string) any {
	if kind == "list" {
		return []string{}
	}
	return nil
}

// fieldDiff compares desired Graph properties with what was applied. mapped
// lists every field the mapping has (so a field that is mapped but empty is
// cleared, while a field no longer mapped is only forgotten). It returns the
// properties to write and what to record once written.
func fieldDiff(desired map[string]any, createOnly map[string]bool, applied map[string]string, mapped map[string]string) (write map[string]any, record map[string]string) {
	write, record = map[string]any{}, map[string]string{}
	for f, v := range desired {
		if provisionerFields[f] || createOnly[f] {
			continue
		}
		gv := graphValue(f, v)
		enc := canon(gv)
		if applied[f] != enc {
			write[f] = gv
			record[f] = enc
		}
	}
	for f := range applied {
		if _, still := desired[f]; still || provisionerFields[f] || isInternalKey(f) {
			continue
		}
		kind, isMapped := mapped[f]
		switch {
		case !isMapped:
			record[f] = "" // no longer managed: forget, never clear
		case createOnly[f] || unclearable[f]:
		default:
			write[f] = clearValue(kind)
			record[f] = ""
		}
	}
	return write, record
}

// isInternalKey marks Applied entries that are the engine's own (licences,
// manager), not Graph properties.
func isInternalKey(k string) bool { return len(k) > 0 && k[0] == '_' }

// Keys of Applied the engine keeps for itself.
const (
	keyLicenses = "_licenses" // []Assignment applied by o365prov
	keyManager  = "_manager"  // the manager's source GUID
)

// createRecord is what state records after a create: every field written.
func createRecord(props map[string]any) map[string]string {
	rec := make(map[string]string, len(props))
	for f, v := range props {
		if f == "passwordProfile" || f == "accountEnabled" {
			continue
		}
		rec[f] = canon(v)
	}
	return rec
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
