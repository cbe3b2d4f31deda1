package directory

import (
	"errors"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestADBindStatus(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		want      error
	}{
		{"a locked account is locked", "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563", ErrAccountLocked},
		{"an expired password is expired", "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 532, v4563", ErrPasswordExpired},
		{"a password to change at next logon is expired", "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 773, v1db1", ErrPasswordExpired},
		{"a wrong password is neither", "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563", nil},
		{"OpenLDAP's message is neither", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New(c.msg))
			got := adBindStatus(err)
			if (c.want == nil && got != nil) || !errors.Is(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}
