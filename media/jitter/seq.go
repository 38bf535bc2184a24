package jitter

// unwrap16 extends a 16-bit sequence number to 64 bits, choosing the value nearest
// ref (which is already extended).
func unwrap16(ref int64, v uint16) int64 {
	return ref + int64(int16(v-uint16(ref)))
}

// unwrap32 does the same for 32-bit timestamps.
func unwrap32(ref int64, v uint32) int64 {
	return ref + int64(int32(v-uint32(ref)))
}

// seenSet remembers which of the last seenWindow sequence numbers arrived, so that a
// duplicate is told apart from a late packet.
type seenSet struct {
	bits [seenWindow / 64]uint64
	high int64
	ok   bool
}

func (s *seenSet) has(seq int64) bool {
	if !s.ok || seq > s.high || s.high-seq >= seenWindow {
		return false
	}
	i := uint64(seq) % seenWindow
	return s.bits[i/64]&(1<<(i%64)) != 0
}

func (s *seenSet) add(seq int64) {
	if !s.ok {
		s.ok, s.high = true, seq
		s.bits = [seenWindow / 64]uint64{}
	}
	if seq > s.high {
		if seq-s.high >= seenWindow {
			s.bits = [seenWindow / 64]uint64{}
		} else {
			for x := s.high + 1; x <= seq; x++ {
				i := uint64(x) % seenWindow
				s.bits[i/64] &^= 1 << (i % 64)
			}
		}
		s.high = seq
	}
	if s.high-seq < seenWindow {
		i := uint64(seq) % seenWindow
		s.bits[i/64] |= 1 << (i % 64)
	}
}

func (s *seenSet) reset() { *s = seenSet{} }
