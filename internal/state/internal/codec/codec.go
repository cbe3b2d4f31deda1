// Package codec encodes a state.Object, applied fields included, as one
// value for a store's record column. A no-change cycle reads every object of
// a channel, and reading one column decoded in one pass is several times
// cheaper than scanning a dozen columns and decoding a JSON object of the
// applied fields (see BenchmarkDecode and the stores' benchmarks).
//
// Format, version 1: the version byte; DN, GraphID, Lifecycle and Status;
// Attempts; NextRetry; LastError; DeletedAt; UpdatedAt; the number of applied
// fields, then each key and value, keys ascending so that equal objects
// encode to equal bytes. A string is a uvarint length and its bytes; a number
// a uvarint; a time a byte (0: the zero time, 1: set) followed, when set, by
// a varint of microseconds since the Unix epoch. Channel, Kind and GUID are
// the row's key and are not encoded.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/o365prov/o365prov/internal/state"
)

const version1 = 1

// ErrCorrupt is returned for bytes EncodeObject did not produce.
var ErrCorrupt = errors.New("corrupt object record")

// EncodeObject returns the record of o. Times keep microseconds.
func EncodeObject(o state.Object) []byte {
	keys := make([]string, 0, len(o.Applied))
	size := 64 + len(o.DN) + len(o.GraphID) + len(o.Lifecycle) + len(o.Status) + len(o.LastError)
	for k, v := range o.Applied {
		keys = append(keys, k)
		size += 2*binary.MaxVarintLen32 + len(k) + len(v)
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, version1)
	b = appendString(b, o.DN)
	b = appendString(b, o.GraphID)
	b = appendString(b, string(o.Lifecycle))
	b = appendString(b, string(o.Status))
	b = binary.AppendUvarint(b, uint64(max(o.Attempts, 0)))
	b = appendTime(b, o.NextRetry)
	b = appendString(b, o.LastError)
	b = appendTime(b, o.DeletedAt)
	b = appendTime(b, o.UpdatedAt)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, o.Applied[k])
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), t.UnixMicro())
}

// DecodeObject fills o from a record, all but Channel, Kind and GUID.
// Applied is never nil. Every string shares one allocation of the record's
// text, so a kept string keeps the whole record in memory.
func DecodeObject(b []byte, o *state.Object) error {
	if len(b) == 0 || b[0] != version1 {
		return fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	d := decoder{s: string(b[1:])}
	o.DN = d.string()
	o.GraphID = d.string()
	o.Lifecycle = state.Lifecycle(d.string())
	o.Status = state.Status(d.string())
	o.Attempts = int(d.uvarint())
	o.NextRetry = d.time()
	o.LastError = d.string()
	o.DeletedAt = d.time()
	o.UpdatedAt = d.time()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)-d.pos) {
		d.err = fmt.Errorf("%w: bad field count", ErrCorrupt)
	}
	if d.err != nil {
		return d.err
	}
	o.Applied = make(map[string]string, n)
	for range n {
		k := d.string()
		v := d.string()
		if d.err != nil {
			return d.err
		}
		o.Applied[k] = v
	}
	if d.pos != len(d.s) {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.s)-d.pos)
	}
	return nil
}

// decoder reads a record; after the first error it reads zeros and keeps
// the error.
type decoder struct {
	s   string
	pos int
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.pos >= len(d.s) {
		d.err = fmt.Errorf("%w: truncated", ErrCorrupt)
		return 0
	}
	c := d.s[d.pos]
	d.pos++
	return c
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c := d.byte()
		if d.err != nil {
			return 0
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.err = fmt.Errorf("%w: number overflows", ErrCorrupt)
	return 0
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.s)-d.pos) {
		d.err = fmt.Errorf("%w: truncated text", ErrCorrupt)
		return ""
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *decoder) time() time.Time {
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
		u := d.uvarint()
		// Undo the zigzag of binary.AppendVarint.
		micros := int64(u >> 1)
		if u&1 != 0 {
			micros = ^micros
		}
		return time.UnixMicro(micros).UTC()
	}
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad time", ErrCorrupt)
	}
	return time.Time{}
}
