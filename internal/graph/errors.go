package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// ErrOutcomeUnknown marks a request that may or may not have been applied:
// a non-idempotent request (POST /users, POST /groups, restore) whose answer
// was lost to a timeout, a dropped connection or a 500/502/504. The client
// never resends such a request; the caller must look the object up (by
// onPremisesImmutableId or userPrincipalName) before trying again.
var ErrOutcomeUnknown = errors.New("outcome unknown")

// ErrNotFound is returned by lookups that found nothing (a $filter with no
// match). IsNotFound reports true for it as for a Graph 404.
var ErrNotFound = errors.New("not found")

// ErrDependencyFailed marks a batched request that Graph did not run because
// the request it depended on failed (424 Failed Dependency). The error also
// wraps the dependency's own error.
var ErrDependencyFailed = errors.New("dependency failed")

// ErrClosed is returned for requests submitted after Close.
var ErrClosed = errors.New("graph client closed")

// Error is an error answer from Microsoft Graph (graph.md §11).
type Error struct {
	// Method and Path say which request failed; Path is a template
	// ("/users/{id}/manager/$ref") so neither ids nor UPNs leak into logs.
	Method string
	Path   string
	// Status is the HTTP status of the request (inside a $batch, its own
	// status, not the batch's).
	Status  int
	Code    string
	Message string
	Details []ErrorDetail
	// RequestID is Graph's request-id, what Microsoft support asks for.
	RequestID       string
	ClientRequestID string
	// RetryAfter is the Retry-After Graph sent (429, some 503s); 0 if none.
	RetryAfter time.Duration
	// ThrottleInformation is x-ms-throttle-information on a 429
	// (WriteLimitExceeded, ResourceUnitLimitExceeded, CPULimitExceeded).
	ThrottleInformation string
}

// ErrorDetail is one entry of error.details.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target"`
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("graph: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	fmt.Fprintf(&b, "%d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id " + e.RequestID + ")")
	}
	return b.String()
}

// wireError is the envelope Graph wraps errors in.
type wireError struct {
	Error struct {
		Code       string        `json:"code"`
		Message    string        `json:"message"`
		Details    []ErrorDetail `json:"details"`
		InnerError struct {
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// maxErrorSnippet bounds how much of a non-JSON error body goes into a
// message: enough to recognise a proxy's HTML page, not enough to flood logs.
const maxErrorSnippet = 200

// decodeError builds an Error from a non-2xx answer. A body that is not a
// Graph envelope (a proxy's page, an empty 503) still yields a useful Error.
func decodeError(method, template string, status int, header http.Header, body []byte) *Error {
	e := &Error{Method: method, Path: template, Status: status}
	var w wireError
	if len(body) > 0 && json.Unmarshal(body, &w) == nil && (w.Error.Code != "" || w.Error.Message != "") {
		e.Code = w.Error.Code
		e.Message = w.Error.Message
		e.Details = w.Error.Details
		e.RequestID = w.Error.InnerError.RequestID
		e.ClientRequestID = w.Error.InnerError.ClientRequestID
	} else {
		e.Message = http.StatusText(status)
		if s := strings.TrimSpace(string(body)); s != "" && s != "null" {
			if len(s) > maxErrorSnippet {
				s = s[:maxErrorSnippet] + "…"
			}
			e.Message += ": " + s
		}
	}
	if header != nil {
		if id := header.Get("request-id"); id != "" {
			e.RequestID = id
		}
		if id := header.Get("client-request-id"); id != "" && e.ClientRequestID == "" {
			e.ClientRequestID = id
		}
		e.RetryAfter, _ = parseRetryAfter(header.Get("Retry-After"), time.Time{})
		e.ThrottleInformation = header.Get("x-ms-throttle-information")
	}
	return e
}

// IsNotFound reports whether err is a 404 from Graph or ErrNotFound.
func IsNotFound(err error) bool {
	if errors.Is(err, ErrNotFound) {
		return true
	}
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// conflictMessage is Graph's wording for a uniqueness violation when it
// sends no details (graph.md §1.1).
var conflictMessage = regexp.MustCompile(`(?i)another object with the same value for property (\w+) already exists`)

// IsConflict reports whether err is a uniqueness violation (Graph sends 400
// with details[].code ObjectConflict, not 409) and names the conflicting
// property (userPrincipalName, proxyAddresses, mailNickname, …).
func IsConflict(err error) (property string, ok bool) {
	var e *Error
	if !errors.As(err, &e) {
		return "", false
	}
	for _, d := range e.Details {
		if strings.EqualFold(d.Code, "ObjectConflict") {
			return d.Target, true
		}
	}
	if m := conflictMessage.FindStringSubmatch(e.Message); m != nil {
		return m[1], true
	}
	if e.Status == http.StatusConflict {
		return "", true
	}
	return "", false
}

// missingResource is Graph's 404 wording, naming the object it did not find
// (graph.md §1.2).
var missingResource = regexp.MustCompile(`Resource '([^']+)' does not exist`)

// IsNoUsageLocation reports whether a licence was refused because the
// user has no usage location (graph.md §3.1).
func IsNoUsageLocation(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusBadRequest && messageContains(e, "invalid usage location")
}

// IsNoFreeLicenses reports whether a licence was refused because the
// subscription has no unit left (graph.md §3.1).
func IsNoFreeLicenses(err error) bool {
	e, ok := asError(err)
	return ok && e.Status == http.StatusBadRequest && messageContains(e, "does not have any available licenses")
}

// IsThrottled reports whether err is a 429.
func IsThrottled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusTooManyRequests
}

// IsRetryable reports whether the same request may succeed later without a
// change: throttling, 5xx and transport failures. A request that failed with
// ErrOutcomeUnknown is not retryable as such; look the object up first.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrOutcomeUnknown) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return transientStatus(e.Status) || e.Status == http.StatusTooManyRequests
	}
	var te *TransportError
	return errors.As(err, &te)
}

// transientStatus lists the statuses a server uses for "try again".
func transientStatus(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// TransportError is a failure below HTTP: connection refused or reset, TLS,
// a timeout before any answer.
type TransportError struct {
	Method string
	Path   string // template
	Err    error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("graph: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// outcomeUnknown wraps the failure of a non-idempotent request so that
// errors.Is(err, ErrOutcomeUnknown) holds and the cause stays reachable.
func outcomeUnknown(cause error) error {
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause)
}

// dependencyFailed is the error of a request Graph skipped with 424.
func dependencyFailed(dep error) error {
	return fmt.Errorf("%w: %w", ErrDependencyFailed, dep)
}

// Messages Graph uses for membership no-ops (graph.md §4.3).
const (
	msgAlreadyExist = "added object references already exist"
	msgDoNotExist   = "removed object references do not exist"
)

func messageContains(e *Error, s string) bool {
	return strings.Contains(strings.ToLower(e.Message), s)
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
