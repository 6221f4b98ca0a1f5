package join

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// ErrTableFull is returned by Table.Add once the table would pass its
// memory limit; the caller falls back to the spilling join.
var ErrTableFull = errors.New("join table over its memory limit")

// Table is an in-memory hash table from ids to labels for windows whose
// labels fit in memory. Several workers fill it at once, each appending
// to its own arena ([uvarint id length][id][uvarint label length][label]);
// Build then indexes every entry in open-addressing arrays of 8-byte slots
// (16 bits of the id's hash, the worker, the arena offset), one per shard
// of the hash space so that goroutines build them in parallel; after it,
// lookups are read-only and may run concurrently. Memory is the arenas
// plus the slot arrays, 10 to 20 bytes per label beyond the ids and labels
// themselves (counted as 24 against the limit), where a Go map of strings
// costs about 60.
type Table struct {
	limit  int64
	arenas [][]byte
	counts []int
	bytes  atomic.Int64 // arenas' bytes plus the slots Build will need
	shards [shards]shard
	built  bool
}

const (
	offsetBits = 40 // arena offsets up to 1 TiB
	workerBits = 8
	tagShift   = offsetBits + workerBits
)

// NewTable returns a table for the given number of workers that refuses
// to grow past limit bytes (0: no limit). sizeHint, if positive, is the
// expected bytes of ids and labels, reserved up front across the workers'
// arenas (and counted against the limit).
func NewTable(workers int, limit, sizeHint int64) *Table {
	if workers < 1 {
		workers = 1
	}
	if workers > 1<<workerBits {
		workers = 1 << workerBits
	}
	t := &Table{limit: limit, arenas: make([][]byte, workers), counts: make([]int, workers)}
	if sizeHint > 0 && (limit <= 0 || sizeHint < limit/2) {
		for w := range t.arenas {
			t.arenas[w] = make([]byte, 0, sizeHint/int64(workers))
		}
		t.bytes.Store(sizeHint / int64(workers) * int64(workers))
	}
	return t
}

// Add stores one label (Add calls with the same worker must not run
// concurrently). It returns ErrTableFull once the table would pass its
// limit.
func (t *Table) Add(worker int, id, label []byte) error {
	a := t.arenas[worker]
	before := cap(a)
	a = binary.AppendUvarint(a, uint64(len(id)))
	a = append(a, id...)
	a = binary.AppendUvarint(a, uint64(len(label)))
	a = append(a, label...)
	if len(a) >= 1<<offsetBits {
		return ErrTableFull
	}
	t.arenas[worker] = a
	t.counts[worker]++
	// The arena's growth (its capacity: memory held, not bytes used) and,
	// at Build, up to three 8-byte slots per entry.
	if n := t.bytes.Add(int64(cap(a)-before) + 24); t.limit > 0 && n > t.limit {
		return ErrTableFull
	}
	return nil
}

// AddString is Add for a string id, without copying it first.
func (t *Table) AddString(worker int, id string, label []byte) error {
	return t.Add(worker, unsafeBytes(id), label)
}

// Bytes is the memory the table holds or will hold once built.
func (t *Table) Bytes() int64 { return t.bytes.Load() }

// Len is the number of labels added.
func (t *Table) Len() int {
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}

// Build indexes the added labels with the given number of goroutines;
// call it once, after the last Add. Of labels with the same id, the one
// added last by the highest-numbered worker wins.
func (t *Table) Build(workers int) {
	if workers < 1 {
		workers = 1
	}
	n := t.Len()
	size := 16
	for size*shards < n+n/4 { // expected load at most 0.8 per shard
		size <<= 1
	}
	for i := range t.shards {
		t.shards[i] = shard{slots: make([]uint64, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
	}
	// Each goroutine indexes the shards it owns, reading every arena (the
	// hash is cheap next to the slot write's cache miss); shards never
	// share slots, so no locking.
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for w, a := range t.arenas {
				for off := 0; off < len(a); {
					id, next := entryID(a, off)
					if h := xxhash.Sum64(id); int(h>>(64-shardBits))%workers == g {
						t.shards[h>>(64-shardBits)].insert(t, h, id, uint64(w), uint64(off))
					}
					_, off = entryLabel(a, next)
				}
			}
		}(g)
	}
	wg.Wait()
	t.built = true
}

// shardBits: the table is 2^shardBits independent open-addressing arrays,
// chosen by the hash's top bits, so Build can fill them in parallel.
const (
	shardBits = 6
	shards    = 1 << shardBits
)

type shard struct {
	slots []uint64
	shift uint // 64 - log2(len(slots))
	n     int
}

// slotIndex uses the hash bits below the shard's.
func (s *shard) slotIndex(h uint64) uint64 { return (h << shardBits) >> s.shift }

func (s *shard) insert(t *Table, h uint64, id []byte, worker, off uint64) {
	if 5*(s.n+1) > 4*len(s.slots) { // load over 0.8: grow
		s.grow(t)
	}
	mask := uint64(len(s.slots) - 1)
	tag := (h & 0xffff) | 1 // never 0: 0 marks an empty slot
	v := tag<<tagShift | worker<<offsetBits | off
	for i := s.slotIndex(h); ; i = (i + 1) & mask {
		c := s.slots[i]
		if c == 0 {
			s.slots[i] = v
			s.n++
			return
		}
		if c>>tagShift == tag {
			if other, _ := t.entry(c); bytes.Equal(other, id) {
				s.slots[i] = v
				return
			}
		}
	}
}

func (s *shard) grow(t *Table) {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.shift--
	mask := uint64(len(s.slots) - 1)
	for _, c := range old {
		if c == 0 {
			continue
		}
		id, _ := t.entry(c)
		for i := s.slotIndex(xxhash.Sum64(id)); ; i = (i + 1) & mask {
			if s.slots[i] == 0 {
				s.slots[i] = c
				break
			}
		}
	}
}

// entry returns the id a slot points to and where its label starts.
func (t *Table) entry(slot uint64) (id []byte, next int) {
	return entryID(t.arenas[(slot>>offsetBits)&(1<<workerBits-1)], int(slot&(1<<offsetBits-1)))
}

// Lookup returns the label of id; the label aliases the table.
func (t *Table) Lookup(id []byte) (label []byte, ok bool) {
	if !t.built {
		return nil, false
	}
	h := xxhash.Sum64(id)
	s := &t.shards[h>>(64-shardBits)]
	mask := uint64(len(s.slots) - 1)
	tag := (h & 0xffff) | 1
	for i := s.slotIndex(h); ; i = (i + 1) & mask {
		c := s.slots[i]
		if c == 0 {
			return nil, false
		}
		if c>>tagShift != tag {
			continue
		}
		other, next := t.entry(c)
		if bytes.Equal(other, id) {
			l, _ := entryLabel(t.arenas[(c>>offsetBits)&(1<<workerBits-1)], next)
			return l, true
		}
	}
}

// LookupString is Lookup for a string id, without copying it.
func (t *Table) LookupString(id string) ([]byte, bool) {
	return t.Lookup(unsafeBytes(id))
}

func entryID(a []byte, off int) (id []byte, next int) {
	n, k := binary.Uvarint(a[off:])
	start := off + k
	return a[start : start+int(n)], start + int(n)
}

func entryLabel(a []byte, off int) (label []byte, next int) {
	n, k := binary.Uvarint(a[off:])
	start := off + k
	return a[start : start+int(n)], start + int(n)
}
