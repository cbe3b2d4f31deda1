package mapping

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/o365prov/o365prov/internal/config"
)

// convert shapes a raw value to a field's kind; nil means absent.
func convert(raw any, kind string) (any, error) {
	vals, err := toStrings(raw)
	if err != nil {
		return nil, err
	}
	if b, ok := raw.(bool); ok {
		if kind != config.KindBool {
			return strconv.FormatBool(b), nil
		}
		return b, nil
	}
	if len(vals) == 0 {
		return nil, nil
	}
	switch kind {
	case config.KindList:
		return vals, nil
	case config.KindBool:
		b, err := parseBool(vals[0])
		if err != nil {
			return nil, err
		}
		return b, nil
	default:
		return vals[0], nil
	}
}

// toStrings flattens a raw value to its non-empty strings.
func toStrings(raw any) ([]string, error) {
	var out []string
	add := func(s string) {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	switch v := raw.(type) {
	case nil, bool:
	case string:
		add(v)
	case []string:
		for _, s := range v {
			add(s)
		}
	case []any:
		for _, x := range v {
			switch s := x.(type) {
			case string:
				add(s)
			case nil:
			default:
				add(fmt.Sprint(s))
			}
		}
	case int, int64, float64:
		add(fmt.Sprint(v))
	default:
		return nil, fmt.Errorf("value of type %T is not text, a list or a boolean", raw)
	}
	return out, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "enabled":
		return true, nil
	case "false", "no", "0", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (true or false)", s)
}
