package vivaldi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

func coordBytes(v ...float32) []byte {
	var b []byte
	for _, f := range v {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

var binaryCases = []struct {
	name string
	b    []byte
	ok   bool
}{
	{"fresh", coordBytes(0, 0, MinHeight, MaxError), true},
	{"typical", coordBytes(-12.5, 3.25, 4, 0.1), true},
	{"zero", coordBytes(0, 0, 0, 0), true},
	{"short", coordBytes(1, 2, 3), false},
	{"long", append(coordBytes(1, 2, 3, 0.5), 0), false},
	{"NaN", coordBytes(float32(math.NaN()), 0, 1, 1), false},
	{"Inf", coordBytes(0, float32(math.Inf(-1)), 1, 1), false},
	{"negative height", coordBytes(0, 0, -1, 1), false},
	{"error too big", coordBytes(0, 0, 1, 2), false},
	{"negative error", coordBytes(0, 0, 1, -0.5), false},
	{"absurd", coordBytes(3e9, 0, 1, 1), false},
}

func TestDecodeTable(t *testing.T) {
	for _, tc := range binaryCases {
		c, err := Decode(tc.b)
		if tc.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%s: error %v does not wrap ErrFormat", tc.name, err)
			}
			continue
		}
		re, err := c.AppendBinary(nil)
		if err != nil || !bytes.Equal(re, tc.b) {
			t.Errorf("%s: re-encoded %x (%v), want %x", tc.name, re, err, tc.b)
		}
	}
}

func TestAppendBinaryRejectsInvalid(t *testing.T) {
	prefix := []byte{9}
	b, err := Coord{X: math.Inf(1)}.AppendBinary(prefix)
	if err == nil || !bytes.Equal(b, prefix) {
		t.Fatalf("AppendBinary(Inf) = %x, %v; want prefix unchanged and an error", b, err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range binaryCases {
		f.Add(tc.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		if !c.Valid() {
			t.Fatalf("decoded invalid coordinate %+v", c)
		}
		re, err := c.AppendBinary(nil)
		if err != nil || !bytes.Equal(re, b) {
			t.Fatalf("round trip %x -> %+v -> %x (%v)", b, c, re, err)
		}
		// Whatever was decoded must be safe to use.
		d := New()
		d.Update(c, 10_000_000)
		if !d.Valid() {
			t.Fatalf("update against %+v produced %+v", c, d)
		}
	})
}
