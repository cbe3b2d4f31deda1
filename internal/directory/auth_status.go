package directory

import (
	"errors"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

var (
	// ErrAccountLocked: Active Directory refused the bind because the
	// account is locked out (its own lockout, after bad passwords).
	ErrAccountLocked = errors.New("directory: account locked")
	// ErrPasswordExpired: Active Directory refused the bind because the
	// password has expired or must be changed at next logon.
	ErrPasswordExpired = errors.New("directory: password expired")
)

// adBindStatus reads why Active Directory (and Samba) refused a bind: the
// diagnostic message carries "data NNN", the Windows error of the logon.
// It returns nil when the reason is a plain wrong password or unknown.
func adBindStatus(err error) error {
	var le *ldap.Error
	if !errors.As(err, &le) || le.Err == nil {
		return nil
	}
	msg := le.Err.Error()
	switch {
	case strings.Contains(msg, "data 775,"), strings.Contains(msg, "data 775 "):
		return ErrAccountLocked
	case strings.Contains(msg, "data 532,"), strings.Contains(msg, "data 773,"),
		strings.Contains(msg, "data 532 "), strings.Contains(msg, "data 773 "):
		return ErrPasswordExpired
	}
	return nil
}
