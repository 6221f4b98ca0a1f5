package status

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFetch(t *testing.T) {
	cases := []struct {
		name       string
		code       int
		body       string
		notRunning bool   // the error wraps ErrNotRunning
		wantErr    string // part of the error; "" for none
	}{
		{"bridge run", 200, `{"target": "localhost", "source": "target", "endpoints": [], "versions": []}`, false, ""},
		{"another server", 404, "not found", true, "answered 404"},
		{"not a status document", 200, "<html>hello</html>", true, "answered something else"},
		{"failing bridge run", 500, "observe: boom", false, "observe: boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/status" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(c.code)
				w.Write([]byte(c.body))
			}))
			defer srv.Close()
			doc, err := Fetch(t.Context(), strings.TrimPrefix(srv.URL, "http://"))
			if c.wantErr == "" {
				if err != nil || doc.Target != "localhost" {
					t.Fatalf("Fetch = %+v, %v", doc, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || errors.Is(err, ErrNotRunning) != c.notRunning {
				t.Fatalf("err = %v, want one containing %q (not running: %v)", err, c.wantErr, c.notRunning)
			}
		})
	}
	t.Run("nothing listens", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if _, err := Fetch(t.Context(), addr); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("err = %v, want ErrNotRunning", err)
		}
	})
}
