package join

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
)

// ErrTableFull is returned by Table.Add once the table would pass its
// memory limit; the caller falls back to the spilling join.
var ErrTableFull = errors.New("join table over its memory limit")

// Table is an in-memory hash table from ids to labels for windows whose
// labels fit in memory. Several workers fill it at once, each appending
// to its own arena ([uvarint id length][id][uvarint label length][label]);
// Build then indexes every entry in one open-addressing array of 8-byte
// slots (16 bits of the id's hash, the worker, the arena offset), after
// which lookups are read-only and may run concurrently. Memory is the
// arenas plus the slot array, about 8 bytes per label beyond the ids and
// labels themselves, where a Go map of strings costs about 60.
type Table struct {
	limit  int64
	arenas [][]byte
	counts []int
	bytes  atomic.Int64 // arenas' bytes plus the slots Build will need
	slots  []uint64
	shift  uint // 64 - log2(len(slots))
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
	// at Build, up to two 8-byte slots per entry.
	if n := t.bytes.Add(int64(cap(a)-before) + 16); t.limit > 0 && n > t.limit {
		return ErrTableFull
	}
	return nil
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

// Build indexes the added labels; later Adds of an id replace nothing, so
// call it once, after the last Add. Of labels with the same id, the one
// added last by the highest-numbered worker wins.
func (t *Table) Build() {
	n := t.Len()
	size := 16
	for size < n+n/4+1 { // load factor at most 0.8
		size <<= 1
	}
	t.slots = make([]uint64, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for w, a := range t.arenas {
		for off := 0; off < len(a); {
			id, next := entryID(a, off)
			t.insert(xxhash.Sum64(id), id, uint64(w), uint64(off))
			_, next = entryLabel(a, next)
			off = next
		}
	}
}

func (t *Table) insert(h uint64, id []byte, worker, off uint64) {
	mask := uint64(len(t.slots) - 1)
	tag := (h & 0xffff) | 1 // never 0: 0 marks an empty slot
	v := tag<<tagShift | worker<<offsetBits | off
	for i := h >> t.shift; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			t.slots[i] = v
			return
		}
		if s>>tagShift == tag {
			if other, _ := entryID(t.arenas[(s>>offsetBits)&(1<<workerBits-1)], int(s&(1<<offsetBits-1))); bytes.Equal(other, id) {
				t.slots[i] = v
				return
			}
		}
	}
}

// Lookup returns the label of id; the label aliases the table.
func (t *Table) Lookup(id []byte) (label []byte, ok bool) {
	if len(t.slots) == 0 {
		return nil, false
	}
	h := xxhash.Sum64(id)
	mask := uint64(len(t.slots) - 1)
	tag := (h & 0xffff) | 1
	for i := h >> t.shift; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return nil, false
		}
		if s>>tagShift != tag {
			continue
		}
		a := t.arenas[(s>>offsetBits)&(1<<workerBits-1)]
		other, next := entryID(a, int(s&(1<<offsetBits-1)))
		if bytes.Equal(other, id) {
			l, _ := entryLabel(a, next)
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
