package join

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

// The table against a Go map on the same labels: ids of varied lengths,
// duplicates (the last one wins), lookups of absent ids, filled by
// several workers at once.
func TestTableMatchesMap(t *testing.T) {
	for _, tc := range []struct{ n, workers int }{{0, 1}, {1, 1}, {1000, 2}, {100_000, 3}} {
		t.Run(fmt.Sprintf("%dx%d", tc.n, tc.workers), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tc.n), 1))
			ids := make([]string, tc.n)
			for i := range ids {
				switch i % 3 {
				case 0:
					ids[i] = fmt.Sprintf("inf-%d", i)
				case 1:
					ids[i] = fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), rng.IntN(1<<12), rng.Uint64()>>16)
				default:
					ids[i] = fmt.Sprint(rng.IntN(tc.n + 1)) // collides with others sometimes
				}
			}
			tab := NewTable(tc.workers, 0, int64(tc.n))
			want := map[string]string{}
			// Each worker gets its own ids in order; duplicates across
			// workers are resolved by worker number, so give each id
			// one worker.
			byWorker := make([][]int, tc.workers)
			owner := map[string]int{}
			for i, id := range ids {
				w, ok := owner[id]
				if !ok {
					w = rng.IntN(tc.workers)
					owner[id] = w
				}
				byWorker[w] = append(byWorker[w], i)
				want[id] = fmt.Sprint("label-", i)
			}
			var wg sync.WaitGroup
			for w := range byWorker {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for _, i := range byWorker[w] {
						if err := tab.Add(w, []byte(ids[i]), []byte(fmt.Sprint("label-", i))); err != nil {
							t.Error(err)
						}
					}
				}(w)
			}
			wg.Wait()
			tab.Build(tc.workers)
			for id, l := range want {
				got, ok := tab.LookupString(id)
				if !ok || string(got) != l {
					t.Fatalf("%q: %q %v, want %q", id, got, ok, l)
				}
			}
			for i := 0; i < 1000; i++ {
				id := fmt.Sprint("absent-", i)
				if _, ok := tab.Lookup([]byte(id)); ok {
					t.Fatalf("%q found", id)
				}
			}
		})
	}
}

func TestTableLimit(t *testing.T) {
	tab := NewTable(1, 10_000, 0)
	var err error
	n := 0
	for ; err == nil && n < 10_000; n++ {
		err = tab.Add(0, []byte(fmt.Sprint("id-", n)), []byte("1"))
	}
	if !errors.Is(err, ErrTableFull) || tab.Bytes() <= 10_000 || n > 500 {
		t.Errorf("after %d labels: %v, %d bytes", n, err, tab.Bytes())
	}
}
