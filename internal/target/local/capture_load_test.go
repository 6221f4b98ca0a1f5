package local

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bridgeops/bridge/internal/capture"
)

// TestCaptureLosesNothingUnderConcurrentLoad: concurrent clients over real
// HTTP, every invocation captured by the real writer into files. With room
// in the queue, the files hold one whole record per answered request, each
// with its own inference id, input and answer.
func TestCaptureLosesNothingUnderConcurrentLoad(t *testing.T) {
	const clients, perClient = 8, 400
	root := t.TempDir()
	w, err := capture.NewWriter(capture.WriterConfig{Root: root, Default: capture.DefaultEndpointConfig(), QueueSize: clients * perClient})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, w)
	e.f.add(t, "linear", "bridge_linear", linearJSON)
	e.deploy(t, prod, map[int]string{3: "linear"})
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/houses/Production/invocations", strings.NewReader(fmt.Sprintf("%d,%d,1", c, i)))
				req.Header.Set("Content-Type", "text/csv")
				req.Header.Set(HeaderInferenceID, fmt.Sprintf("c%d-%d", c, i))
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var ev capture.Event
			if err := capture.ParseLine(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			var c, i int
			if _, err := fmt.Sscanf(ev.InferenceID, "c%d-%d", &c, &i); err != nil || ev.Input == nil || ev.Output == nil ||
				string(ev.Input.Data) != fmt.Sprintf("%d,%d,1", c, i) || len(ev.Output.Data) == 0 {
				t.Fatalf("record %s: %+v", ev.InferenceID, ev)
			}
			if seen[ev.InferenceID] {
				t.Errorf("record %s written twice", ev.InferenceID)
			}
			seen[ev.InferenceID] = true
		}
		return sc.Err()
	})
	if len(seen) != clients*perClient {
		t.Errorf("%d records captured for %d requests answered", len(seen), clients*perClient)
	}
}
