package ldapserver

import (
	"testing"
	"time"
)

func TestCSNsIncreaseStrictly(t *testing.T) {
	clock := newTestClock()
	c := csnClock{now: clock.Now, sid: 1}
	tests := []struct {
		name string
		step func()
	}{
		{"when the clock stands still", func() {}},
		{"when the clock moves by less than a microsecond", func() { clock.Advance(300 * time.Nanosecond) }},
		{"when the clock moves forward", func() { clock.Advance(time.Second) }},
		{"when the clock steps back", func() { clock.Advance(-time.Hour) }},
	}
	prev, _ := c.next()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 {
				tt.step()
				csn, _ := c.next()
				if csn <= prev {
					t.Fatalf("CSN %s after %s: want strictly greater", csn, prev)
				}
				prev = csn
			}
		})
	}
}

func TestCSNFormatIsOpenLDAPs(t *testing.T) {
	clock := newTestClock()
	c := csnClock{now: clock.Now, sid: 0x2a}
	first, at := c.next()
	second, _ := c.next()
	if first != "20260301120000.000000Z#000000#02a#000000" {
		t.Errorf("first CSN %s, want 20260301120000.000000Z#000000#02a#000000", first)
	}
	if second != "20260301120000.000000Z#000001#02a#000000" {
		t.Errorf("second CSN in the same microsecond %s, want counter 000001", second)
	}
	if !at.Equal(clock.Now()) {
		t.Errorf("CSN time %v, want %v", at, clock.Now())
	}
}

func TestCSNsFollowTheGreatestObserved(t *testing.T) {
	clock := newTestClock()
	c := csnClock{now: clock.Now}
	loaded := "20300101000000.000000Z#000005#000#000000"
	c.observe(loaded)
	c.observe("20200101000000.000000Z#000000#000#000000") // older: ignored
	c.observe("not a csn")                                // unparsable: ignored
	if got, _ := c.next(); got <= loaded {
		t.Errorf("CSN %s after loading %s from a file: want greater", got, loaded)
	}
}

func TestCSNCounterOverflowBorrowsAMicrosecond(t *testing.T) {
	clock := newTestClock()
	c := csnClock{now: clock.Now}
	c.next()
	c.count = maxCSNCount
	got, at := c.next()
	if want := "20260301120000.000001Z#000000#000#000000"; got != want {
		t.Errorf("CSN after a full counter %s, want %s", got, want)
	}
	if !at.After(clock.Now()) {
		t.Errorf("time %v should be after %v", at, clock.Now())
	}
}
