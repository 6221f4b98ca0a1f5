package join

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

func TestSpillJoin(t *testing.T) {
	cases := []struct{ partitions, workers int }{{1, 1}, {7, 2}, {64, 3}}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%dx%d", tc.partitions, tc.workers), func(t *testing.T) {
			s, err := New(t.TempDir(), tc.partitions, tc.workers)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			const n = 5000
			for i := 0; i < n; i++ {
				if i%10 == 0 {
					continue // no label for every tenth id
				}
				if err := s.AddLabel(i%tc.workers, []byte(fmt.Sprint("id-", i)), []byte(fmt.Sprint("label-", i))); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < n; i++ {
				if err := s.AddProbe(i%tc.workers, []byte(fmt.Sprint("id-", i)), []byte(fmt.Sprint("pred-", i)), []byte{}); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			matched, unmatched := 0, 0
			err = s.Join(context.Background(), tc.workers, func(w int, label string, ok bool, fields [][]byte) {
				mu.Lock()
				defer mu.Unlock()
				if len(fields) != 2 || len(fields[1]) != 0 {
					t.Errorf("fields %q", fields)
					return
				}
				var i int
				fmt.Sscanf(string(fields[0]), "pred-%d", &i)
				if !ok {
					unmatched++
					if i%10 != 0 {
						t.Errorf("probe %d unmatched", i)
					}
					return
				}
				matched++
				if label != fmt.Sprint("label-", i) {
					t.Errorf("probe %d got %q", i, label)
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if matched != n-n/10 || unmatched != n/10 {
				t.Errorf("%d matched, %d unmatched", matched, unmatched)
			}
		})
	}
}
