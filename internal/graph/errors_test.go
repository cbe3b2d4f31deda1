package graph

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDecodeError(t *testing.T) {
	conflict := `{"error":{"code":"Request_BadRequest","message":"Another object with the same value for property userPrincipalName already exists.","details":[{"target":"userPrincipalName","code":"ObjectConflict"}],"innerError":{"date":"2021-05-18T19:03:10","request-id":"d9bb","client-request-id":"539d"}}}`
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		code      string
		message   string
		requestID string
		retry     time.Duration
	}{
		{name: "a Graph envelope gives code, message, details and request-id", status: 400, body: conflict,
			code: "Request_BadRequest", message: "Another object", requestID: "d9bb"},
		{name: "the request-id header wins over the body's", status: 404, header: http.Header{"Request-Id": {"hdr"}},
			body: `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist","innerError":{"request-id":"body"}}}`,
			code: "Request_ResourceNotFound", message: "Resource 'x'", requestID: "hdr"},
		{name: "an empty 503 still says what happened", status: 503, header: http.Header{"Retry-After": {"2.5"}},
			message: "Service Unavailable", retry: 2500 * time.Millisecond},
		{name: "a proxy's HTML page is cut short", status: 502, body: "<html>" + strings.Repeat("x", 500) + "</html>",
			message: "Bad Gateway: <html>xxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := decodeError("POST", "/users", tt.status, tt.header, []byte(tt.body))
			if e.Status != tt.status || e.Code != tt.code || !strings.HasPrefix(e.Message, tt.message) ||
				e.RequestID != tt.requestID || e.RetryAfter != tt.retry {
				t.Errorf("got %+v", e)
			}
			if len(e.Message) > maxErrorSnippet+40 {
				t.Errorf("message is %d bytes long", len(e.Message))
			}
		})
	}
}

func TestErrorHelpers(t *testing.T) {
	conflictDetail := &Error{Status: 400, Code: "Request_BadRequest", Details: []ErrorDetail{{Code: "ObjectConflict", Target: "proxyAddresses"}}}
	conflictText := &Error{Status: 400, Message: "Another object with the same value for property mailNickname already exists."}
	wrapped := fmt.Errorf("create user: %w", conflictDetail)
	tests := []struct {
		name                                  string
		err                                   error
		notFound, throttled, retryable, confl bool
		property                              string
	}{
		{name: "an ObjectConflict detail names its target", err: wrapped, confl: true, property: "proxyAddresses"},
		{name: "a conflict without details is read from the message", err: conflictText, confl: true, property: "mailNickname"},
		{name: "a 404 is not found", err: &Error{Status: 404}, notFound: true},
		{name: "ErrNotFound is not found", err: fmt.Errorf("find: %w", ErrNotFound), notFound: true},
		{name: "a 429 is throttled and retryable", err: &Error{Status: 429}, throttled: true, retryable: true},
		{name: "a 503 is retryable", err: &Error{Status: 503}, retryable: true},
		{name: "a transport failure is retryable", err: &TransportError{Err: errors.New("reset")}, retryable: true},
		{name: "an unknown outcome is not retryable as such", err: outcomeUnknown(&Error{Status: 504})},
		{name: "a 400 is nothing of the kind", err: &Error{Status: 400, Message: "Property userPrincipalName is invalid."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prop, confl := IsConflict(tt.err)
			if IsNotFound(tt.err) != tt.notFound || IsThrottled(tt.err) != tt.throttled ||
				IsRetryable(tt.err) != tt.retryable || confl != tt.confl || prop != tt.property {
				t.Errorf("notFound=%v throttled=%v retryable=%v conflict=%v %q", IsNotFound(tt.err),
					IsThrottled(tt.err), IsRetryable(tt.err), confl, prop)
			}
		})
	}
}

func TestOutcomeUnknownKeepsItsCause(t *testing.T) {
	cause := &Error{Status: 504, Code: "GatewayTimeout"}
	err := fmt.Errorf("create user: %w", outcomeUnknown(cause))
	var e *Error
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.As(err, &e) || e.Status != 504 {
		t.Errorf("%v: Is=%v As=%v", err, errors.Is(err, ErrOutcomeUnknown), errors.As(err, &e))
	}
}
