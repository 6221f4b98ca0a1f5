package capture

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestNoRecordLostUnderConcurrentLoad fills the writer from many goroutines
// at once (as the router's request goroutines do) while it drains, rotates
// files by size and flushes: with room in the queue, every record reaches
// a file exactly once, whole, and the metrics agree.
func TestNoRecordLostUnderConcurrentLoad(t *testing.T) {
	const producers, perProducer = 8, 3000
	cases := []struct {
		name    string
		maxFile int64
	}{
		{"one file", 0},
		{"rotating every ~1000 lines", 300 << 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			reg := prometheus.NewRegistry()
			w, err := NewWriter(WriterConfig{Root: root, Default: DefaultEndpointConfig(), QueueSize: producers * perProducer,
				MaxFileBytes: tc.maxFile, Metrics: reg})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for p := range producers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perProducer {
						w.Capture(Record{Endpoint: "brdg-churn-Production", Variant: "v1", InferenceID: fmt.Sprintf("p%d-%d", p, i),
							Time: time.Now(), InputContentType: "text/csv", Input: []byte("0.5,1.25,3"),
							OutputContentType: "application/json", Output: []byte(`{"predictions": [0.475]}`)})
					}
				}()
			}
			wg.Wait()
			if err := w.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			files := 0
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if len(b) == 0 || b[len(b)-1] != '\n' || bytes.IndexByte(b, 0) >= 0 {
					t.Fatalf("%s: not whole lines (%d bytes)", p, len(b))
				}
				for _, line := range bytes.Split(b[:len(b)-1], []byte{'\n'}) {
					var ev Event
					if err := ParseLine(line, &ev); err != nil {
						t.Fatalf("%s: %v: %s", p, err, line)
					}
					if string(ev.Input.Data) != "0.5,1.25,3" || ev.Output == nil {
						t.Fatalf("%s: record %s", p, line)
					}
					seen[ev.InferenceID]++
				}
				return nil
			})
			if len(seen) != producers*perProducer {
				t.Errorf("%d distinct records in %d files, want %d", len(seen), files, producers*perProducer)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("record %s written %d times", id, n)
				}
			}
			if tc.maxFile > 0 && files < 2 {
				t.Errorf("%d files: want rotation by size", files)
			}
			written := value(w.captured.WithLabelValues("brdg-churn-Production"))
			dropped := value(w.dropped.WithLabelValues("brdg-churn-Production"))
			if written != producers*perProducer || dropped != 0 || value(w.errs) != 0 {
				t.Errorf("metrics: %g written, %g dropped, %g errors; want %d, 0, 0", written, dropped, value(w.errs), producers*perProducer)
			}
		})
	}
}
