package modelquality

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The score table counts like a map keyed by float equality: -0 is 0,
// across growth, for many distinct and repeated scores.
func TestScoreTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tab := newScoreTable()
	want := map[float64][2]int64{}
	for i := 0; i < 200_000; i++ {
		var s float64
		switch i % 4 {
		case 0:
			s = float64(rng.IntN(10001)) / 10000 // 4-decimal probabilities
		case 1:
			s = rng.Float64()
		case 2:
			s = math.Copysign(0, -1) // -0
		default:
			s = 0.5
		}
		pos := rng.IntN(2) == 0
		c := want[s]
		if pos {
			c[0]++
			tab.add(s, 1, 0)
		} else {
			c[1]++
			tab.add(s, 0, 1)
		}
		want[s] = c
	}
	if tab.Len() != len(want) {
		t.Fatalf("%d distinct scores, want %d", tab.Len(), len(want))
	}
	for k, s := range tab.keys {
		if math.Signbit(s) {
			t.Errorf("negative zero kept as a key")
		}
		if tab.counts[k] != want[s] {
			t.Fatalf("score %v: %v, want %v", s, tab.counts[k], want[s])
		}
	}
}
