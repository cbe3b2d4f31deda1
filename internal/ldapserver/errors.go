package ldapserver

import (
	"fmt"

	"github.com/go-ldap/ldap/v3"
)

// ResultCode is an LDAP result code (RFC 4511 §4.1.9).
type ResultCode uint16

// The result codes this server returns.
const (
	Success                      ResultCode = 0
	OperationsError              ResultCode = 1
	ProtocolError                ResultCode = 2
	SizeLimitExceeded            ResultCode = 4
	CompareFalse                 ResultCode = 5
	CompareTrue                  ResultCode = 6
	AuthMethodNotSupported       ResultCode = 7
	AdminLimitExceeded           ResultCode = 11
	UnavailableCriticalExtension ResultCode = 12
	NoSuchAttribute              ResultCode = 16
	UndefinedAttributeType       ResultCode = 17
	ConstraintViolation          ResultCode = 19
	AttributeOrValueExists       ResultCode = 20
	InvalidAttributeSyntax       ResultCode = 21
	NoSuchObject                 ResultCode = 32
	InvalidDNSyntax              ResultCode = 34
	InvalidCredentials           ResultCode = 49
	InsufficientAccessRights     ResultCode = 50
	UnwillingToPerform           ResultCode = 53
	NamingViolation              ResultCode = 64
	ObjectClassViolation         ResultCode = 65
	NotAllowedOnNonLeaf          ResultCode = 66
	NotAllowedOnRDN              ResultCode = 67
	EntryAlreadyExists           ResultCode = 68
	Other                        ResultCode = 80
)

func (c ResultCode) String() string {
	if s, ok := ldap.LDAPResultCodeMap[uint16(c)]; ok {
		return s
	}
	return fmt.Sprintf("result code %d", uint16(c))
}

// Error is a failed operation: the LDAP result code a client receives, the
// diagnostic message, and for noSuchObject the deepest existing ancestor.
// Match a code with errors.Is(err, ldapserver.ErrNoSuchObject) and the like.
type Error struct {
	Code      ResultCode
	Msg       string
	MatchedDN string
}

func (e *Error) Error() string {
	if e.Msg == "" {
		return fmt.Sprintf("ldap: %s (%d)", e.Code, uint16(e.Code))
	}
	return fmt.Sprintf("ldap: %s (%d): %s", e.Code, uint16(e.Code), e.Msg)
}

// Is matches another *Error with the same code, so that the sentinel values
// below work with errors.Is whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNoSuchObject             = &Error{Code: NoSuchObject}
	ErrEntryAlreadyExists       = &Error{Code: EntryAlreadyExists}
	ErrInvalidDNSyntax          = &Error{Code: InvalidDNSyntax}
	ErrNoSuchAttribute          = &Error{Code: NoSuchAttribute}
	ErrUndefinedAttributeType   = &Error{Code: UndefinedAttributeType}
	ErrInvalidAttributeSyntax   = &Error{Code: InvalidAttributeSyntax}
	ErrAttributeOrValueExists   = &Error{Code: AttributeOrValueExists}
	ErrConstraintViolation      = &Error{Code: ConstraintViolation}
	ErrNotAllowedOnNonLeaf      = &Error{Code: NotAllowedOnNonLeaf}
	ErrNotAllowedOnRDN          = &Error{Code: NotAllowedOnRDN}
	ErrObjectClassViolation     = &Error{Code: ObjectClassViolation}
	ErrNamingViolation          = &Error{Code: NamingViolation}
	ErrInvalidCredentials       = &Error{Code: InvalidCredentials}
	ErrInsufficientAccessRights = &Error{Code: InsufficientAccessRights}
	ErrUnwillingToPerform       = &Error{Code: UnwillingToPerform}
)

func errorf(code ResultCode, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}
