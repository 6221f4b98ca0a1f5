package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a Runnable that records its calls in a shared log.
type recorder struct {
	name     string
	log      *callLog
	startErr error
	fatal    func(error)
}

type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) { l.mu.Lock(); l.calls = append(l.calls, s); l.mu.Unlock() }
func (l *callLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (r *recorder) Start(ctx context.Context, fatal func(error)) error {
	r.log.add("start " + r.name)
	r.fatal = fatal
	return r.startErr
}

func (r *recorder) Stop(ctx context.Context) error {
	r.log.add("stop " + r.name)
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestManager(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		startErr  map[string]error
		stop      func(m *Manager, parts map[string]*recorder, cancel context.CancelFunc)
		wantCalls []string
		wantStart error
		wantWait  error
	}{
		{
			name:      "signal stops in reverse order",
			stop:      func(m *Manager, _ map[string]*recorder, cancel context.CancelFunc) { cancel() },
			wantCalls: []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"},
		},
		{
			name:      "Stop",
			stop:      func(m *Manager, _ map[string]*recorder, _ context.CancelFunc) { m.Stop() },
			wantCalls: []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"},
		},
		{
			name: "first fatal error stops everything and is returned",
			stop: func(m *Manager, p map[string]*recorder, _ context.CancelFunc) {
				p["b"].fatal(boom)
				p["c"].fatal(errors.New("later"))
			},
			wantCalls: []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"},
			wantWait:  boom,
		},
		{
			name:      "a failed start stops every part, started or not",
			startErr:  map[string]error{"b": boom},
			wantCalls: []string{"start a", "start b", "stop c", "stop b", "stop a"},
			wantStart: boom,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &callLog{}
			m := New(quiet(), time.Second)
			parts := map[string]*recorder{}
			for _, n := range []string{"a", "b", "c"} {
				parts[n] = &recorder{name: n, log: log, startErr: tc.startErr[n]}
				m.Add(n, parts[n])
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			err := m.Start(ctx)
			if !errors.Is(err, tc.wantStart) || (tc.wantStart == nil) != (err == nil) {
				t.Fatalf("Start = %v, want %v", err, tc.wantStart)
			}
			if err == nil {
				tc.stop(m, parts, cancel)
				if err := m.Wait(); !errors.Is(err, tc.wantWait) || (tc.wantWait == nil) != (err == nil) {
					t.Fatalf("Wait = %v, want %v", err, tc.wantWait)
				}
			}
			if got := log.get(); !slices.Equal(got, tc.wantCalls) {
				t.Fatalf("calls %v, want %v", got, tc.wantCalls)
			}
		})
	}
}

func TestBackgroundAndServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	inflight := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inflight)
		<-release
		io.WriteString(w, "done")
	})
	var after []string
	var mu sync.Mutex
	loop := Background(func(ctx context.Context) error { <-ctx.Done(); return nil },
		func(context.Context) error { mu.Lock(); after = append(after, "after loop"); mu.Unlock(); return nil })
	m := New(quiet(), 10*time.Second)
	m.Add("loop", loop)
	m.Add("server", Server(ln, h))
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String())
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	<-inflight
	m.Stop()
	// The server drains the request in flight before the loop stops.
	select {
	case <-got:
		t.Fatal("answered before release")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if b := <-got; b != "done" {
		t.Fatalf("in-flight request got %q", b)
	}
	if err := m.Wait(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, []string{"after loop"}) {
		t.Fatalf("after hooks: %v", after)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still open after stop")
	}
}

func TestBackgroundFailureIsFatal(t *testing.T) {
	boom := errors.New("loop broke")
	m := New(quiet(), time.Second)
	stopped := false
	m.Add("closer", Closer(func(context.Context) error { stopped = true; return nil }))
	m.Add("loop", Background(func(ctx context.Context) error { return boom }, nil))
	if err := m.Run(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
	if !stopped {
		t.Fatal("closer not stopped after the fatal error")
	}
}

func TestDrainTimeout(t *testing.T) {
	m := New(quiet(), 50*time.Millisecond)
	block := make(chan struct{})
	defer close(block)
	m.Add("stuck", Background(func(ctx context.Context) error { <-block; return nil }, nil))
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := m.Shutdown(context.Background()); err == nil {
		t.Fatal("Shutdown of a stuck part returned nil")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Shutdown took %s with a 50ms drain timeout", d)
	}
}
