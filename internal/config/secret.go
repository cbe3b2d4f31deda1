package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v4"
)

// Secret is a string that never shows itself: it prints, logs and marshals
// as "REDACTED". Use Value to read it where it is needed.
type Secret struct{ value string }

const redacted = "REDACTED"

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{value: v} }

// Value returns the secret itself.
func (s Secret) Value() string { return s.value }

// IsSet reports whether the secret holds a value.
func (s Secret) IsSet() bool { return s.value != "" }

func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps the admin API from returning the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalYAML keeps a dumped configuration from holding the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalText keeps text encoders from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// reference matches a whole value of the form ${env:NAME} or ${file:PATH}.
var reference = regexp.MustCompile(`^\$\{(env|file):([^}]*)\}$`)

// referenceLike catches near misses such as "${ENV:X}" or "${env X}" so they
// are reported rather than used as a literal password.
var referenceLike = regexp.MustCompile(`^\$\{[^}]*\}$`)

// resolver expands secret references. It reads the environment and files
// through functions so tests can supply their own.
type resolver struct {
	getenv   func(string) (string, bool)
	readFile func(string) ([]byte, error)
}

func osResolver() resolver {
	return resolver{getenv: os.LookupEnv, readFile: os.ReadFile}
}

// expand returns the value a string stands for. A string that is not a
// reference is returned as it is. Errors never include the value.
func (r resolver) expand(s string) (string, error) {
	m := reference.FindStringSubmatch(s)
	if m == nil {
		if referenceLike.MatchString(s) && strings.Contains(s, ":") {
			return "", errors.New("is written like a reference but is not a valid one (write ${env:NAME} or ${file:PATH})")
		}
		return s, nil
	}
	kind, name := m[1], strings.TrimSpace(m[2])
	if name == "" {
		return "", fmt.Errorf("${%s:} names nothing (write ${env:NAME} or ${file:PATH})", kind)
	}
	switch kind {
	case "env":
		v, ok := r.getenv(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		return v, nil
	default:
		b, err := r.readFile(name)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", name, unwrapPathError(err))
		}
		// Files written by editors and `echo` end in a newline that is not
		// part of the secret.
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// unwrapPathError drops the path os.PathError repeats, keeping the cause.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// UnmarshalYAML reads the (already expanded) string.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	return n.Decode(&s.value)
}
