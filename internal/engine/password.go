package engine

import (
	"fmt"
	"io"
)

// password returns the initial password of a new user and whether it must
// be changed at first sign-in: the mapped one, else the channel's default
// (both shared knowledge, so they must be changed), else a random one nobody
// knows (the user signs in federated, or resets it).
func (e *Engine) password(op *Op) (string, bool, error) {
	if op.password != "" {
		return op.password, true, nil
	}
	if pw := e.ch.Options.GlobalDefaultPassword; pw.IsSet() {
		return pw.Value(), true, nil
	}
	pw, err := randomPassword(e.rand)
	return pw, false, err
}

// randomPassword makes a 20-character password with every character class
// Entra's complexity rule asks for.
func randomPassword(r io.Reader) (string, error) {
	classes := []string{"abcdefghijkmnopqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789", "!#%+-=?@^_"}
	const n = 20
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("generate a password: %w", err)
	}
	out := make([]byte, n)
	for i := range out {
		cls := classes[i%len(classes)]
		out[i] = cls[int(b[i])%len(cls)]
	}
	return string(out), nil
}
