package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Default KLL parameters: the values SageMaker Model Monitor writes in
// statistics.json (sketch.parameters), so sketches are comparable.
const (
	DefaultK = 2048
	DefaultC = 0.64
	// minCapacity is the smallest compactor width; narrower compactors
	// compact so often that they cost time without saving memory.
	minCapacity = 8
)

// RankError is the normalised rank error Bridge states for a KLL sketch with
// the default parameters: for any value x, |estimated rank(x) - true
// rank(x)| <= RankError * n. The analysis of Karnin, Lang and Liberty gives
// O(1/k) with high probability; the tests check this bound on adversarial
// (sorted) and random streams of up to a million values. Streams of fewer
// than about k values are exact.
const RankError = 0.005

// KLL is a KLL quantile sketch (Karnin, Lang, Liberty, "Optimal Quantile
// Approximation in Streams", 2016). Level h holds items of weight 2^h; when
// the sketch is full, the lowest full level is sorted and every other item
// (random offset) is promoted to the next level. Memory is about k/(1-c)
// values whatever the stream length. The layout (one array of values per
// level, weights 2^level) is the one SageMaker Model Monitor serialises
// under distribution.kll.sketch.data.
type KLL struct {
	k       int
	c       float64
	levels  [][]float64
	caps    []int
	size    int
	maxSize int
	n       int64
	rnd     uint64

	sorted []weighted // cache for queries; nil when stale
}

type weighted struct {
	v float64
	w int64
}

// NewKLL returns an empty sketch with parameters k and c (use DefaultK and
// DefaultC unless reading a sketch written with others).
func NewKLL(k int, c float64) *KLL {
	if k < minCapacity {
		k = minCapacity
	}
	if c <= 0 || c >= 1 {
		c = DefaultC
	}
	s := &KLL{k: k, c: c, rnd: 0x9E3779B97F4A7C15}
	s.grow()
	return s
}

// K is the sketch's size parameter k.
func (s *KLL) K() int { return s.k }

// C is the sketch's shrinking factor c.
func (s *KLL) C() float64 { return s.c }

// N is the number of values added (the sketch's total weight).
func (s *KLL) N() int64 { return s.n }

func (s *KLL) grow() {
	s.levels = append(s.levels, nil)
	h := len(s.levels)
	s.caps = s.caps[:0]
	s.maxSize = 0
	for i := 0; i < h; i++ {
		c := int(math.Ceil(math.Pow(s.c, float64(h-i-1)) * float64(s.k)))
		if c < minCapacity {
			c = minCapacity
		}
		s.caps = append(s.caps, c)
		s.maxSize += c
	}
}

// Add adds one value. NaN is ignored.
func (s *KLL) Add(x float64) {
	if x != x {
		return
	}
	s.levels[0] = append(s.levels[0], x)
	s.size++
	s.n++
	s.sorted = nil
	if s.size >= s.maxSize {
		s.compress()
	}
}

func (s *KLL) compress() {
	for h := 0; h < len(s.levels); h++ {
		if len(s.levels[h]) >= s.caps[h] {
			if h+1 >= len(s.levels) {
				s.grow()
			}
			s.compact(h)
			if s.size < s.maxSize {
				return
			}
		}
	}
}

func (s *KLL) coin() int {
	// xorshift64*
	s.rnd ^= s.rnd >> 12
	s.rnd ^= s.rnd << 25
	s.rnd ^= s.rnd >> 27
	return int((s.rnd * 2685821657736338717) >> 63)
}

func (s *KLL) compact(h int) {
	lv := s.levels[h]
	slices.Sort(lv)
	odd := len(lv)%2 == 1
	var keep float64
	if odd {
		keep = lv[len(lv)-1]
		lv = lv[:len(lv)-1]
	}
	up := s.levels[h+1]
	for i := s.coin(); i < len(lv); i += 2 {
		up = append(up, lv[i])
	}
	s.levels[h+1] = up
	s.size -= len(lv) / 2
	lv = lv[:0]
	if odd {
		lv = append(lv, keep)
	}
	s.levels[h] = lv
}

// Merge folds o into s. Both must have been built with the same k and c for
// the error bound to hold; the result is correct either way.
func (s *KLL) Merge(o *KLL) {
	if o == nil || o.n == 0 {
		return
	}
	for len(s.levels) < len(o.levels) {
		s.grow()
	}
	for h, lv := range o.levels {
		s.levels[h] = append(s.levels[h], lv...)
		s.size += len(lv)
	}
	s.n += o.n
	s.sorted = nil
	for s.size >= s.maxSize {
		before := s.size
		s.compress()
		if s.size == before {
			break
		}
	}
}

// Data returns the sketch's items per level (level h weighs 2^h), the
// layout of statistics.json's distribution.kll.sketch.data.
func (s *KLL) Data() [][]float64 {
	out := make([][]float64, len(s.levels))
	for h, lv := range s.levels {
		out[h] = slices.Clone(lv)
		if out[h] == nil {
			out[h] = []float64{}
		}
	}
	return out
}

// KLLFromData rebuilds a sketch from its serialised levels (as read from a
// statistics.json written by Bridge or by SageMaker Model Monitor).
func KLLFromData(k int, c float64, data [][]float64) (*KLL, error) {
	s := NewKLL(k, c)
	for len(s.levels) < len(data) {
		s.grow()
	}
	for h, lv := range data {
		if h >= 62 {
			return nil, fmt.Errorf("kll sketch has %d levels: too many", len(data))
		}
		for _, v := range lv {
			if v != v {
				return nil, fmt.Errorf("kll sketch level %d holds NaN", h)
			}
		}
		s.levels[h] = append(s.levels[h], lv...)
		s.size += len(lv)
		s.n += int64(len(lv)) << h
	}
	return s, nil
}

func (s *KLL) items() []weighted {
	if s.sorted != nil {
		return s.sorted
	}
	out := make([]weighted, 0, s.size)
	for h, lv := range s.levels {
		for _, v := range lv {
			out = append(out, weighted{v, 1 << h})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].v < out[j].v })
	s.sorted = out
	return out
}

// Rank estimates the number of values <= x.
func (s *KLL) Rank(x float64) int64 {
	it := s.items()
	i := sort.Search(len(it), func(i int) bool { return it[i].v > x })
	var r int64
	for _, w := range it[:i] {
		r += w.w
	}
	return r
}

// CDF returns the estimated fraction of values <= x (0 when empty).
func (s *KLL) CDF(x float64) float64 {
	if s.n == 0 {
		return 0
	}
	return float64(s.Rank(x)) / float64(s.n)
}

// Quantile returns the smallest retained value whose estimated rank
// reaches q*n (q in [0,1]); NaN when empty.
func (s *KLL) Quantile(q float64) float64 {
	it := s.items()
	if len(it) == 0 {
		return math.NaN()
	}
	target := q * float64(s.n)
	var cum int64
	for _, w := range it {
		cum += w.w
		if float64(cum) >= target {
			return w.v
		}
	}
	return it[len(it)-1].v
}

// CDFPoints returns the sketch's distinct retained values, ascending, with
// the estimated fraction of values <= each: the empirical CDF used by the
// drift distances.
func (s *KLL) CDFPoints() (xs, cdf []float64) {
	it := s.items()
	var cum int64
	for i, w := range it {
		cum += w.w
		if i+1 < len(it) && it[i+1].v == w.v {
			continue
		}
		xs = append(xs, w.v)
		cdf = append(cdf, float64(cum)/float64(s.n))
	}
	return xs, cdf
}

// Bucket is one equal-width bucket of a distribution.
type Bucket struct {
	Lower, Upper float64
	Count        float64
}

// Buckets splits [lo, hi] into n equal-width buckets and estimates how many
// values fall in each (the last bucket includes hi). SageMaker materialises
// 10 buckets between the feature's min and max.
func (s *KLL) Buckets(lo, hi float64, n int) []Bucket {
	if s.n == 0 || n <= 0 {
		return nil
	}
	if hi <= lo {
		return []Bucket{{lo, hi, float64(s.n)}}
	}
	out := make([]Bucket, n)
	width := (hi - lo) / float64(n)
	for i := range out {
		out[i].Lower = lo + float64(i)*width
		out[i].Upper = lo + float64(i+1)*width
	}
	out[n-1].Upper = hi
	for _, w := range s.items() {
		i := int((w.v - lo) / width)
		if i < 0 {
			i = 0
		}
		if i >= n {
			i = n - 1
		}
		out[i].Count += float64(w.w)
	}
	return out
}
