package engine

import (
	"encoding/json"
	"fmt"
	"strings"
)

func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

func decodeJSON(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

// attrValues looks an attribute up case-insensitively.
func attrValues(attrs map[string][]string, name string) []string {
	if v, ok := attrs[name]; ok {
		return v
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// jsonString decodes a canonical JSON string ("" when it is not one).
func jsonString(enc string) string {
	var s string
	if json.Unmarshal([]byte(enc), &s) != nil {
		return ""
	}
	return s
}
