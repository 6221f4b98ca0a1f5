package modelquality

import "math"

// scoreTable counts positives and negatives per distinct score: an
// open-addressing table keyed by the score's bits, with the counts in one
// slice, so adding a score touches one small array rather than a Go map
// bucket and a heap object. -0 counts as 0; every NaN is one key.
type scoreTable struct {
	slots  []int32 // index+1 into keys/counts; 0 is empty
	keys   []float64
	counts [][2]int64
}

func newScoreTable() *scoreTable { return &scoreTable{slots: make([]int32, 1024)} }

// Len is the number of distinct scores.
func (t *scoreTable) Len() int { return len(t.keys) }

func scoreBits(s float64) uint64 {
	if s == 0 {
		return 0
	}
	if s != s {
		return 0x7ff8000000000001
	}
	return math.Float64bits(s)
}

// add adds pos and neg to score s's counts.
func (t *scoreTable) add(s float64, pos, neg int64) {
	if s == 0 {
		s = 0 // -0 is 0
	}
	b := scoreBits(s)
	mask := uint64(len(t.slots) - 1)
	// Fibonacci hashing spreads scores that differ in low bits only.
	for i := (b * 0x9e3779b97f4a7c15) >> 40 & mask; ; i = (i + 1) & mask {
		k := t.slots[i]
		if k == 0 {
			t.keys = append(t.keys, s)
			t.counts = append(t.counts, [2]int64{pos, neg})
			t.slots[i] = int32(len(t.keys))
			if 2*len(t.keys) > len(t.slots) {
				t.grow()
			}
			return
		}
		if scoreBits(t.keys[k-1]) == b {
			c := &t.counts[k-1]
			c[0] += pos
			c[1] += neg
			return
		}
	}
}

func (t *scoreTable) grow() {
	t.slots = make([]int32, 2*len(t.slots))
	mask := uint64(len(t.slots) - 1)
	for j, s := range t.keys {
		for i := (scoreBits(s) * 0x9e3779b97f4a7c15) >> 40 & mask; ; i = (i + 1) & mask {
			if t.slots[i] == 0 {
				t.slots[i] = int32(j + 1)
				break
			}
		}
	}
}
