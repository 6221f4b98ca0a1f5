package capture

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestQuoteOrBackslash(t *testing.T) {
	naive := func(b []byte) int { return bytes.IndexAny(b, "\"\\") }
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte{'"', '\\', 0, 1, 0x21, 0x23, 0x5b, 0x5d, 0x80, 0xa2, 0xdc, 0xff, 'a', ' '}
	for n := 0; n < 40; n++ {
		for k := 0; k < 2000; k++ {
			b := make([]byte, n)
			for i := range b {
				if rng.IntN(4) == 0 {
					b[i] = alphabet[rng.IntN(len(alphabet))]
				} else {
					b[i] = byte(rng.IntN(256))
				}
			}
			if got, want := quoteOrBackslash(b), naive(b); got != want {
				t.Fatalf("%q: %d, want %d", b, got, want)
			}
		}
	}
}
