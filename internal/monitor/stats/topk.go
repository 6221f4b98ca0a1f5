package stats

import (
	"container/heap"
	"sort"
)

// DefaultTopValues is how many values TopValues tracks.
const DefaultTopValues = 1000

// TopValues counts values exactly while there are at most Capacity distinct
// ones, then keeps the Capacity most frequent with the Space-Saving algorithm
// (Metwally et al. 2005): each reported count then overestimates the true
// one by at most N/Capacity. Memory is O(Capacity).
type TopValues struct {
	Capacity int
	n        int64
	idx      map[string]*tvEntry
	h        tvHeap // min-heap by count, built once the capacity is reached
	approx   bool
}

type tvEntry struct {
	value string
	count int64
	over  int64 // overestimation bound inherited from an evicted entry
	pos   int
}

type tvHeap []*tvEntry

func (h tvHeap) Len() int           { return len(h) }
func (h tvHeap) Less(i, j int) bool { return h[i].count < h[j].count }
func (h tvHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].pos = i; h[j].pos = j }
func (h *tvHeap) Push(x any)        { e := x.(*tvEntry); e.pos = len(*h); *h = append(*h, e) }
func (h *tvHeap) Pop() any          { old := *h; e := old[len(old)-1]; *h = old[:len(old)-1]; return e }

// NewTopValues returns a counter tracking up to capacity values.
func NewTopValues(capacity int) *TopValues {
	if capacity <= 0 {
		capacity = DefaultTopValues
	}
	return &TopValues{Capacity: capacity, idx: make(map[string]*tvEntry)}
}

// Add counts one occurrence of v.
func (t *TopValues) Add(v string) { t.AddN(v, 1) }

// AddN counts n occurrences of v.
func (t *TopValues) AddN(v string, n int64) {
	t.n += n
	if e, ok := t.idx[v]; ok {
		e.count += n
		if t.approx {
			heap.Fix(&t.h, e.pos)
		}
		return
	}
	if len(t.idx) < t.Capacity {
		t.idx[v] = &tvEntry{value: v, count: n}
		return
	}
	if !t.approx {
		t.approx = true
		t.h = make(tvHeap, 0, len(t.idx))
		for _, e := range t.idx {
			heap.Push(&t.h, e)
		}
	}
	min := t.h[0]
	delete(t.idx, min.value)
	min.over = min.count
	min.value = v
	min.count += n
	t.idx[v] = min
	heap.Fix(&t.h, 0)
}

// Merge folds o into t (counts add; approximate once either is).
func (t *TopValues) Merge(o *TopValues) {
	for _, e := range o.idx {
		t.AddN(e.value, e.count)
	}
	if o.approx {
		t.approx = t.approx || o.approx
	}
	t.n += o.n - o.total()
}

func (t *TopValues) total() int64 {
	var s int64
	for _, e := range t.idx {
		s += e.count
	}
	return s
}

// Exact reports whether every count is exact (no value was ever evicted).
func (t *TopValues) Exact() bool { return !t.approx }

// N is the number of values counted.
func (t *TopValues) N() int64 { return t.n }

// Len is the number of values tracked.
func (t *TopValues) Len() int { return len(t.idx) }

// Count returns v's (estimated) count, 0 when not tracked.
func (t *TopValues) Count(v string) int64 {
	if e, ok := t.idx[v]; ok {
		return e.count
	}
	return 0
}

// ValueCount is a value with its count.
type ValueCount struct {
	Value string
	Count int64
}

// Top returns up to n values by descending count, ties by value.
func (t *TopValues) Top(n int) []ValueCount {
	out := make([]ValueCount, 0, len(t.idx))
	for _, e := range t.idx {
		out = append(out, ValueCount{e.value, e.count})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// AddBytes counts one occurrence of the value b without keeping b (it is
// copied only when first tracked).
func (t *TopValues) AddBytes(b []byte) {
	if e, ok := t.idx[string(b)]; ok {
		t.n++
		e.count++
		if t.approx {
			heap.Fix(&t.h, e.pos)
		}
		return
	}
	t.AddN(string(b), 1)
}
