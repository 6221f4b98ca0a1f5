package mlflowapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/store"
)

func TestResolve(t *testing.T) {
	ctx := context.Background()
	live := httptest.NewServer(http.NotFoundHandler())
	defer live.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	withRegistry := t.TempDir()
	st, err := store.Open(ctx, withRegistry)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	empty := t.TempDir()

	for _, tt := range []struct {
		name, flag, env, home string
		wantURL, wantErr      string
		wantLocal             bool
	}{
		{name: "flag that answers", flag: live.URL, env: dead, home: empty, wantURL: live.URL},
		{name: "environment that answers", env: live.URL, home: empty, wantURL: live.URL},
		{name: "named registry down", flag: dead, home: withRegistry, wantErr: "no registry answers at " + dead + ": start it"},
		{name: "not a URL", flag: "127.0.0.1:5000", home: empty, wantErr: "want http://host:port"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, local, err := Resolve(ctx, tt.flag, tt.env, tt.home)
			if local != nil {
				defer local.Close()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve: %q, %v; want error %q", u, err, tt.wantErr)
				}
				return
			}
			if err != nil || u != tt.wantURL || (local != nil) != tt.wantLocal {
				t.Fatalf("Resolve: %q, local %v, %v", u, local != nil, err)
			}
		})
	}

	// The default address: in-process when the home holds a registry
	// (skipped when something really listens on the default port here).
	if netaddrReachable(DefaultURL) {
		t.Skip("a registry answers at " + DefaultURL)
	}
	u, local, err := Resolve(ctx, "", "", withRegistry)
	if err != nil || local == nil || u != local.URL || !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("default with an embedded registry: %q, %v", u, err)
	}
	resp, err := http.Get(u + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	local.Close()
	if _, _, err := Resolve(ctx, "", "", empty); err == nil || !strings.Contains(err.Error(), "has no embedded registry") {
		t.Fatalf("default without a registry: %v", err)
	}
}

func netaddrReachable(u string) bool {
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}
