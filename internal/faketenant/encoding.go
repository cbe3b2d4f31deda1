package faketenant

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// errBodyTooLarge means a request body, once decoded, is over maxBody.
var errBodyTooLarge = errors.New("request body too large")

// unsupportedEncodingError names a Content-Encoding the tenant cannot
// decode; it is answered 415 so that a client like Kiota's compression
// handler retries uncompressed (docs/graph.md §14).
type unsupportedEncodingError struct{ coding string }

func (e unsupportedEncodingError) Error() string {
	return fmt.Sprintf("Content-Encoding '%s' is not supported; use gzip, deflate or identity", e.coding)
}

// readBody reads a request body, undoing its Content-Encoding. The size
// limit applies to the decoded bytes and reading stops one byte past it, so
// a small compressed body that would inflate to gigabytes is refused
// without ever being inflated.
func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	codings := contentCodings(r.Header.Values("Content-Encoding"))
	// Codings are listed in the order they were applied; undo them last first.
	for i := len(codings) - 1; i >= 0; i-- {
		dec, err := decoder(codings[i], rd)
		if err != nil {
			return nil, err
		}
		rd = dec
	}
	body, err := io.ReadAll(io.LimitReader(rd, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("decode %s request body: %w", strings.Join(codings, ", "), err)
	}
	if len(body) > maxBody {
		return nil, errBodyTooLarge
	}
	return body, nil
}

// contentCodings splits Content-Encoding header values into lower-case
// codings, dropping identity.
func contentCodings(values []string) []string {
	var out []string
	for _, v := range values {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				out = append(out, c)
			}
		}
	}
	return out
}

func decoder(coding string, rd io.Reader) (io.Reader, error) {
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("decode gzip request body: %w", err)
		}
		return zr, nil
	case "deflate":
		return deflateReader(rd)
	default:
		return nil, unsupportedEncodingError{coding: coding}
	}
}

// deflateReader reads HTTP "deflate", which RFC 9110 defines as the zlib
// format; some clients send a raw deflate stream instead, so that is
// accepted too, as browsers and servers commonly do.
func deflateReader(rd io.Reader) (io.Reader, error) {
	br := bufio.NewReader(rd)
	head, err := br.Peek(2)
	if err != nil && len(head) < 2 {
		return nil, fmt.Errorf("decode deflate request body: %w", io.ErrUnexpectedEOF)
	}
	if isZlibHeader(head) {
		zr, err := zlib.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("decode deflate request body: %w", err)
		}
		return zr, nil
	}
	return flate.NewReader(br), nil
}

// isZlibHeader checks RFC 1950's CMF/FLG pair: method 8 and a check sum
// that makes the 16-bit value a multiple of 31.
func isZlibHeader(b []byte) bool {
	return b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// bodyError is the Graph answer to a body that could not be read.
func (rc *reqCtx) bodyError(err error) *gresp {
	var unsupported unsupportedEncodingError
	switch {
	case errors.As(err, &unsupported):
		return rc.fail(http.StatusUnsupportedMediaType, "UnsupportedMediaType", unsupported.Error()+".")
	case errors.Is(err, errBodyTooLarge):
		return rc.fail(http.StatusRequestEntityTooLarge, "Request_BadRequest", "The request body is too large or could not be read.")
	default:
		return rc.fail(http.StatusBadRequest, "BadRequest", "Unable to read the request payload: "+err.Error()+".")
	}
}
