package rtpbridge

import "testing"

// Every code decodes to a value that encodes back to it, and a linear sample
// comes back within G.711's quantisation step (at most 1/16 of its size, 3 %
// with margin, or a few counts near zero).
func TestG711RoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
	}{{"ulaw", ulawEncode, ulawDecode}, {"alaw", alawEncode, alawDecode}} {
		for code := 0; code < 256; code++ {
			v := c.dec(byte(code))
			if back := c.enc(v); c.dec(back) != v {
				t.Fatalf("%s: code %#x → %d → %#x → %d", c.name, code, v, back, c.dec(back))
			}
		}
		for s := -32768; s <= 32767; s += 7 {
			got := int(c.dec(c.enc(int16(s))))
			diff := got - s
			if diff < 0 {
				diff = -diff
			}
			limit := max(abs(s)/16+1, 16)
			if s > 32000 || s < -32000 {
				limit = 1100 // clipping at the top segment
			}
			if diff > limit {
				t.Fatalf("%s: %d → %d (off by %d)", c.name, s, got, diff)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Silence has the codes every phone sends for it.
func TestG711Silence(t *testing.T) {
	if u, a := ulawEncode(0), alawEncode(0); u != 0xff || a != 0xd5 {
		t.Fatalf("silence: µ-law %#x (want 0xff), A-law %#x (want 0xd5)", u, a)
	}
}
