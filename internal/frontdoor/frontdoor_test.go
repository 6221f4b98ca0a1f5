package frontdoor

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRoutes(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "bridge_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	var ready error = errors.New("no reconcile pass has finished yet")
	woken := 0
	d := New(Options{
		Target:  "localhost",
		Metrics: reg,
		Ready:   func() error { return ready },
		Status:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"target":"localhost"}`) }),
		Wake:    func() { woken++ },
		Invocations: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "invoked "+r.URL.Path)
		}),
	})
	d.Handle("/ui/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "dashboard") }))
	srv := httptest.NewServer(d)
	defer srv.Close()
	do := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/healthz", 200, `"status":"alive"`},
		{"GET", "/ping", 200, `"alive"`},
		{"GET", "/readyz", 503, "no reconcile pass"},
		{"GET", "/metrics", 200, "bridge_test_total 1"},
		{"GET", "/status", 200, `"target":"localhost"`},
		{"POST", "/hooks/registry", 202, "scheduled"},
		{"GET", "/hooks/registry", 405, ""},
		{"POST", "/iris/Production/invocations", 200, "invoked /iris/Production/invocations"},
		{"POST", "/endpoints/brdg-iris-Production/invocations", 200, "invoked"},
		{"GET", "/ui/models", 200, "dashboard"},
		{"GET", "/nope", 404, "no such path /nope"},
	} {
		code, body := do(tc.method, tc.path)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s %s: %d %q, want %d containing %q", tc.method, tc.path, code, body, tc.code, tc.body)
		}
	}
	if woken != 1 {
		t.Errorf("hook woke the loop %d times, want 1", woken)
	}
	ready = nil
	if code, body := do("GET", "/readyz"); code != 200 || !strings.Contains(body, `"status":"ready"`) {
		t.Errorf("/readyz when ready: %d %s", code, body)
	}
}

func TestNoInvocationsOnRemoteTargets(t *testing.T) {
	d := New(Options{Target: "sagemaker", Metrics: prometheus.NewRegistry(), Ready: func() error { return nil }, Status: http.NotFoundHandler()})
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest("POST", "/iris/Production/invocations", nil))
	if rec.Code != 404 {
		t.Fatalf("invocation on a target without local routes: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest("POST", "/hooks/registry", nil))
	if rec.Code != 404 && rec.Code != 405 {
		t.Fatalf("hook without Wake: %d", rec.Code)
	}
}
