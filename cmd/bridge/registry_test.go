package main

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/store"
)

func TestRegistryServe(t *testing.T) {
	tests := []struct {
		name  string
		token string
	}{
		{"open", ""},
		{"with token", "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BRIDGE_REGISTRY_TOKEN", tt.token)
			home := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errOut syncBuffer
			done := make(chan error, 1)
			go func() {
				done <- runRegistryCLIInto(ctx, &out, &errOut, "--home", home, "registry", "serve", "--addr", "127.0.0.1:0")
			}()
			addrRE := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
			var url string
			deadline := time.Now().Add(30 * time.Second)
			for url == "" {
				if m := addrRE.FindStringSubmatch(out.String()); m != nil {
					url = m[1]
					break
				}
				select {
				case err := <-done:
					t.Fatalf("serve stopped: %v\n%s%s", err, out.String(), errOut.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("serve printed no address: %q", out.String())
				}
			}
			c := mlflow.NewClient(url, tt.token, &http.Client{Timeout: 10 * time.Second})
			if _, err := c.CreateRegisteredModel(ctx, "iris", "", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateModelVersion(ctx, mlflow.VersionSpec{Name: "iris", Source: "s3://b/k"}); err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				anon := mlflow.NewClient(url, "", nil)
				if _, err := anon.GetRegisteredModel(ctx, "iris"); mlflow.ErrorCode(err) != "UNAUTHENTICATED" {
					t.Fatalf("request without the token: %v", err)
				}
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("serve returned %v after its context ended", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop after its context ended")
			}
			// Everything written through the API is in the home.
			st, err := store.Open(context.Background(), home)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if v, err := st.GetModelVersion(context.Background(), "iris", 1); err != nil || v.Source != "s3://b/k" {
				t.Fatalf("after restart: %+v, %v", v, err)
			}
		})
	}
}

func TestRegistryServeAddressInUse(t *testing.T) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, _, err = runRegistryCLI(context.Background(), t, "--home", t.TempDir(), "registry", "serve", "--addr", ln.Addr().String())
	if err == nil || !regexp.MustCompile(`listen on .*pick another address with --addr`).MatchString(err.Error()) {
		t.Fatalf("serve on a busy address: %v", err)
	}
}
