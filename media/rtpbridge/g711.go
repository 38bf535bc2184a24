package rtpbridge

// G.711 (ITU-T G.711, 1988) µ-law and A-law companding, the classic
// segment/mantissa formulation (as in Sun's g711.c, public domain).

const (
	ulawBias = 0x84
	ulawClip = 32635
)

// ulawEncode compresses one 16-bit linear sample to µ-law.
func ulawEncode(s int16) byte {
	v := int(s)
	sign := 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, ulawClip) + ulawBias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0f
	return ^byte(sign | exp<<4 | mant)
}

// ulawDecode expands one µ-law byte to 16-bit linear.
func ulawDecode(u byte) int16 {
	u = ^u
	exp := int(u>>4) & 7
	mant := int(u & 0x0f)
	v := ((mant << 3) + ulawBias) << exp
	v -= ulawBias
	if u&0x80 != 0 {
		return int16(-v)
	}
	return int16(v)
}

// alawEncode compresses one 16-bit linear sample to A-law.
func alawEncode(s int16) byte {
	v := int(s) >> 3 // A-law works on 13 bits
	mask := 0xd5     // sign bit set, even bits inverted
	if v < 0 {
		v = -v - 1
		mask = 0x55
	}
	var b int
	switch {
	case v < 32:
		b = v >> 1
	default:
		seg := 1
		for x := v >> 6; x > 0 && seg < 7; x >>= 1 {
			seg++
		}
		if v > 0xfff {
			v = 0xfff
		}
		b = seg<<4 | (v>>seg)&0x0f
	}
	return byte(b) ^ byte(mask)
}

// alawDecode expands one A-law byte to 16-bit linear.
func alawDecode(a byte) int16 {
	a ^= 0x55
	mant := int(a & 0x0f)
	seg := int(a>>4) & 7
	var v int
	if seg == 0 {
		v = mant<<4 + 8
	} else {
		v = (mant<<4 + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(v)
	}
	return int16(-v)
}
