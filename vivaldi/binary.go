package vivaldi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// EncodedLen is the size of an encoded coordinate.
const EncodedLen = 16

// ErrFormat is wrapped by every Decode error.
var ErrFormat = errors.New("vivaldi: bad coordinate encoding")

// AppendBinary appends the 16-byte encoding of c (see the package doc) to b. It fails
// for coordinates Decode would reject, so nothing undecodable is ever published.
func (c Coord) AppendBinary(b []byte) ([]byte, error) {
	if !c.Valid() {
		return b, fmt.Errorf("vivaldi: encode coordinate %+v: not valid", c)
	}
	for _, v := range [...]float64{c.X, c.Y, c.Height, c.Error} {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(float32(v)))
	}
	return b, nil
}

// Decode parses exactly EncodedLen bytes.
func Decode(b []byte) (Coord, error) {
	if len(b) != EncodedLen {
		return Coord{}, fmt.Errorf("%w: %d bytes, want %d", ErrFormat, len(b), EncodedLen)
	}
	var v [4]float64
	for i := range v {
		f := math.Float32frombits(binary.BigEndian.Uint32(b[4*i:]))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return Coord{}, fmt.Errorf("%w: field %d is not finite", ErrFormat, i)
		}
		v[i] = float64(f)
	}
	c := Coord{X: v[0], Y: v[1], Height: v[2], Error: v[3]}
	if !c.Valid() {
		return Coord{}, fmt.Errorf("%w: %+v out of range", ErrFormat, c)
	}
	return c, nil
}
