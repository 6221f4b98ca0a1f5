package bridgerun_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
)

func TestServeRegistry(t *testing.T) {
	cfg := config.Config{Home: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- bridgerun.ServeRegistry(ctx, pw, cfg, bridgerun.RegistryServeOptions{Addr: "127.0.0.1:0",
			MaxBodyBytes: mlflowapi.DefaultMaxBodyBytes, MaxArtifactBytes: mlflowapi.DefaultMaxArtifactBytes})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+) \(home `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	resp, err := http.Get(m[1] + "/api/2.0/mlflow/registered-models/search")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search: %s", resp.Status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the registry did not stop")
	}
}

func TestServeRegistryBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, home, addr, wantErr string
	}{
		{"address in use", t.TempDir(), busy.Addr().String(), "(pick another address with --addr)"},
		{"home is a file", notDir, "127.0.0.1:0", "(set --home or BRIDGE_HOME to a writable directory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := bridgerun.ServeRegistry(context.Background(), &out, config.Config{Home: tt.home}, bridgerun.RegistryServeOptions{Addr: tt.addr})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if out.Len() != 0 {
				t.Fatalf("printed %q before failing", out.String())
			}
		})
	}
}
