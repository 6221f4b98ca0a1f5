package capture

import (
	"encoding/binary"
	"math/bits"
)

// quoteOrBackslash returns the index of the first '"' or '\\' in b, or -1.
// It tests eight bytes per step (the "has zero byte" trick on b XOR the
// byte: a borrow can only mark bytes above a true match, so the lowest
// mark is exact).
func quoteOrBackslash(b []byte) int {
	const (
		ones   = 0x0101010101010101
		highs  = 0x8080808080808080
		quote  = 0x2222222222222222 // '"'
		bslash = 0x5c5c5c5c5c5c5c5c // '\\'
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, s := x^quote, x^bslash
		if m := ((q-ones)&^q | (s-ones)&^s) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' {
			return i
		}
	}
	return -1
}
