package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.U8(0xab)
	w.U16(0xbeef)
	w.U32(0xdeadbeef)
	w.U64(0x0102030405060708)
	w.Raw([]byte{9, 9})
	w.Bytes8([]byte("short"))
	w.Bytes16(bytes.Repeat([]byte{'x'}, 300))
	w.Str8("")
	w.Str16("héllo")

	want := []byte{0xab, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 5, 's', 'h', 'o', 'r', 't', 0x01, 0x2c}
	if !bytes.Equal(w.B[:len(want)], want) {
		t.Fatalf("encoding prefix\n got %x\nwant %x", w.B[:len(want)], want)
	}

	r := NewReader(w.B)
	if v := r.U8(); v != 0xab {
		t.Errorf("U8 = %#x", v)
	}
	if v := r.U16(); v != 0xbeef {
		t.Errorf("U16 = %#x", v)
	}
	if v := r.U32(); v != 0xdeadbeef {
		t.Errorf("U32 = %#x", v)
	}
	if v := r.U64(); v != 0x0102030405060708 {
		t.Errorf("U64 = %#x", v)
	}
	if v := r.Raw(2); !bytes.Equal(v, []byte{9, 9}) {
		t.Errorf("Raw = %x", v)
	}
	if v := r.Bytes8(); string(v) != "short" {
		t.Errorf("Bytes8 = %q", v)
	}
	if v := r.Bytes16(); !bytes.Equal(v, bytes.Repeat([]byte{'x'}, 300)) {
		t.Errorf("Bytes16 = %d bytes", len(v))
	}
	if v := r.Str8(); v != "" {
		t.Errorf("Str8 = %q", v)
	}
	if v := r.Str16(); v != "héllo" {
		t.Errorf("Str16 = %q", v)
	}
	if r.Err != nil {
		t.Fatalf("Err = %v", r.Err)
	}
	if r.Len() != 0 {
		t.Fatalf("%d bytes left over", r.Len())
	}
}

func TestShortInputSticks(t *testing.T) {
	r := NewReader([]byte{0x00, 0x05, 'a', 'b', 0x07})
	if v := r.U16(); v != 5 {
		t.Fatalf("U16 = %d", v)
	}
	// The length prefix says 5 bytes, only 3 remain.
	if v := r.Raw(5); v != nil {
		t.Fatalf("Raw past the end returned %q", v)
	}
	if !errors.Is(r.Err, ErrShort) {
		t.Fatalf("Err = %v, want ErrShort", r.Err)
	}
	if r.Len() != 0 {
		t.Fatalf("Len after failure = %d, want 0", r.Len())
	}
	// Every later read returns a zero value and the first error stays.
	if r.U8() != 0 || r.U16() != 0 || r.U32() != 0 || r.U64() != 0 {
		t.Fatal("integer read after failure returned non-zero")
	}
	if r.Bytes8() != nil || r.Bytes16() != nil || r.Str8() != "" || r.Str16() != "" || r.Raw(0) != nil {
		t.Fatal("byte read after failure returned data")
	}
	r.Fail("later %s", "problem")
	if !errors.Is(r.Err, ErrShort) {
		t.Fatalf("Fail replaced the first error: %v", r.Err)
	}
}

func TestShortEachWidth(t *testing.T) {
	// Each read reports whether it returned the zero value.
	for _, tc := range []struct {
		name string
		in   []byte
		read func(*Reader) bool
	}{
		{"U8 of nothing", nil, func(r *Reader) bool { return r.U8() == 0 }},
		{"U16 of 1", []byte{1}, func(r *Reader) bool { return r.U16() == 0 }},
		{"U32 of 3", []byte{1, 2, 3}, func(r *Reader) bool { return r.U32() == 0 }},
		{"U64 of 7", []byte{1, 2, 3, 4, 5, 6, 7}, func(r *Reader) bool { return r.U64() == 0 }},
		{"Bytes8 missing body", []byte{2, 'a'}, func(r *Reader) bool { return r.Bytes8() == nil }},
		{"Bytes16 missing length", []byte{0}, func(r *Reader) bool { return r.Bytes16() == nil }},
		{"Str16 missing body", []byte{0, 3, 'a'}, func(r *Reader) bool { return r.Str16() == "" }},
		{"Raw negative", []byte{1, 2}, func(r *Reader) bool { return r.Raw(-1) == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.in)
			if !tc.read(r) {
				t.Error("short read returned a non-zero value")
			}
			if !errors.Is(r.Err, ErrShort) {
				t.Fatalf("Err = %v, want ErrShort", r.Err)
			}
		})
	}
}

func TestBytes8TruncatesAt255(t *testing.T) {
	long := strings.Repeat("a", 300)
	var w Writer
	w.Str8(long)
	if len(w.B) != 1+255 || w.B[0] != 255 {
		t.Fatalf("encoded %d bytes with prefix %d, want 256 with prefix 255", len(w.B), w.B[0])
	}
	r := NewReader(w.B)
	if got := r.Str8(); got != long[:255] || r.Err != nil {
		t.Fatalf("decoded %d bytes, err %v", len(got), r.Err)
	}

	w = Writer{}
	w.Bytes8(bytes.Repeat([]byte{1}, 255))
	if len(w.B) != 256 || w.B[0] != 255 {
		t.Fatalf("exactly 255 bytes: encoded %d with prefix %d", len(w.B), w.B[0])
	}
}

func TestBytes16TruncatesAt65535(t *testing.T) {
	var w Writer
	w.Bytes16(make([]byte, 70000))
	if len(w.B) != 2+0xffff || w.B[0] != 0xff || w.B[1] != 0xff {
		t.Fatalf("encoded %d bytes, want %d", len(w.B), 2+0xffff)
	}
}

func TestRawAliasesInputWithoutCapacity(t *testing.T) {
	in := []byte{1, 2, 3, 4}
	r := NewReader(in)
	v := r.Raw(2)
	if cap(v) != 2 {
		t.Fatalf("cap = %d, want 2 so appends cannot clobber the rest of the input", cap(v))
	}
	_ = append(v, 0xff)
	if in[2] != 3 {
		t.Fatal("append to a Raw result overwrote unread input")
	}
}

// FuzzReader drives a Reader with a script of reads over hostile input. Invariants:
// no panic; the unread length never grows; after an error every read is zero and
// nothing remains; and re-encoding the values read with a Writer reproduces exactly
// the consumed prefix of the input.
func FuzzReader(f *testing.F) {
	var w Writer
	w.U8(1)
	w.U16(2)
	w.U32(3)
	w.U64(4)
	w.Str8("name")
	w.Str16("text")
	f.Add([]byte{0, 1, 2, 3, 4, 5}, w.B)
	f.Add([]byte{4, 4, 4}, []byte{3, 'a', 'b'})
	f.Add([]byte{5, 6}, []byte{0, 2, 'x'})
	f.Add([]byte{3}, []byte{1, 2, 3})
	f.Add([]byte{6}, []byte{})
	f.Fuzz(func(t *testing.T, ops, data []byte) {
		r := NewReader(data)
		var re Writer
		prev := r.Len()
		for _, op := range ops {
			switch op % 7 {
			case 0:
				re.U8(r.U8())
			case 1:
				re.U16(r.U16())
			case 2:
				re.U32(r.U32())
			case 3:
				re.U64(r.U64())
			case 4:
				re.Bytes8(r.Bytes8())
			case 5:
				re.Bytes16(r.Bytes16())
			case 6:
				re.Raw(r.Raw(int(op >> 3)))
			}
			if r.Len() > prev {
				t.Fatalf("unread length grew from %d to %d", prev, r.Len())
			}
			prev = r.Len()
			if r.Err != nil {
				break
			}
		}
		if r.Err != nil {
			if !errors.Is(r.Err, ErrShort) || r.Len() != 0 {
				t.Fatalf("after failure: Err %v, Len %d", r.Err, r.Len())
			}
			if r.U64() != 0 || r.Bytes16() != nil {
				t.Fatal("read after failure returned data")
			}
			return
		}
		consumed := data[:len(data)-r.Len()]
		if !bytes.Equal(re.B, consumed) {
			t.Fatalf("re-encoding differs from consumed input\n got %x\nwant %x", re.B, consumed)
		}
	})
}
