package source

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHourOfAndWindow(t *testing.T) {
	cases := []struct {
		key string
		ok  bool
		h   time.Time
	}{
		{"ep/v1/2026/05/01/10/00-01-002-x.jsonl", true, time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"2026/12/31/23/f.jsonl", true, time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC)},
		{"ep/v1/2026/13/01/10/f.jsonl", false, time.Time{}},
		{"ep/v1/26/05/01/10/f.jsonl", false, time.Time{}},
		{"f.jsonl", false, time.Time{}},
	}
	for _, tc := range cases {
		h, ok := HourOf(tc.key)
		if ok != tc.ok || !h.Equal(tc.h) {
			t.Errorf("HourOf(%s) = %v %v", tc.key, h, ok)
		}
	}
	d := Dir(t.TempDir())
	ctx := context.Background()
	for _, k := range []string{"ep/v1/2026/05/01/09/a.jsonl", "ep/v1/2026/05/01/10/b.jsonl", "ep/v2/2026/05/01/11/c.jsonl", "ep/v1/2026/05/01/10/ignored.txt", "other/v1/2026/05/01/10/d.jsonl"} {
		if err := d.Put(ctx, k, []byte("x\n")); err != nil {
			t.Fatal(err)
		}
	}
	at := func(h int) time.Time { return time.Date(2026, 5, 1, h, 0, 0, 0, time.UTC) }
	wins := []struct {
		start, end time.Time
		want       string
	}{
		{at(10), at(11), "ep/v1/2026/05/01/10/b.jsonl"},
		{at(9).Add(30 * time.Minute), at(11), "ep/v1/2026/05/01/09/a.jsonl ep/v1/2026/05/01/10/b.jsonl"},
		{at(10), time.Time{}, "ep/v1/2026/05/01/10/b.jsonl ep/v2/2026/05/01/11/c.jsonl"},
		{time.Time{}, time.Time{}, "ep/v1/2026/05/01/09/a.jsonl ep/v1/2026/05/01/10/b.jsonl ep/v2/2026/05/01/11/c.jsonl"},
	}
	for _, w := range wins {
		objs, err := Window(ctx, d, "ep", w.start, w.end)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range objs {
			keys = append(keys, o.Key)
		}
		if strings.Join(keys, " ") != w.want {
			t.Errorf("window %v-%v: %v, want %s", w.start, w.end, keys, w.want)
		}
	}
	if objs, err := Window(ctx, Dir(t.TempDir()+"/missing"), "ep", time.Time{}, time.Time{}); err != nil || len(objs) != 0 {
		t.Errorf("missing directory: %v %v", objs, err)
	}
}

func TestLines(t *testing.T) {
	d := Dir(t.TempDir())
	ctx := context.Background()
	long := strings.Repeat("y", 600<<10) // longer than the read buffer
	var objs []Object
	for f := 0; f < 5; f++ {
		var b strings.Builder
		for i := 0; i < 100; i++ {
			fmt.Fprintf(&b, "line-%d-%d\n", f, i)
		}
		b.WriteString("\n   \n" + long + "\nlast-without-newline")
		key := fmt.Sprintf("2026/05/01/10/%d.jsonl", f)
		d.Put(ctx, key, []byte(b.String()))
		objs = append(objs, Object{Key: key})
	}
	var mu sync.Mutex
	count, longs := 0, 0
	tooLong, err := Lines(ctx, d, objs, 3, func(w int, line []byte) {
		mu.Lock()
		defer mu.Unlock()
		if w < 0 || w >= 3 {
			t.Errorf("worker %d", w)
		}
		if len(line) == len(long) {
			longs++
		}
		count++
	})
	if err != nil || tooLong != 0 {
		t.Fatal(err, tooLong)
	}
	if count != 5*102 || longs != 5 {
		t.Errorf("%d lines (%d long), want %d (5)", count, longs, 5*102)
	}
}
