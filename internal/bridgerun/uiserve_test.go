package bridgerun_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun"
)

func TestServeReadOnlyUI(t *testing.T) {
	cfg, err := monitorConfig(t, map[string]string{"BRIDGE_HOME": t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// No bridge run answers here: the dashboard falls back to the registry.
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bridge := gone.Addr().String()
	gone.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- bridgerun.ServeReadOnlyUI(ctx, pw, cfg, "127.0.0.1:0", bridge)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`^dashboard \(read-only\): (http://127\.0\.0\.1:\d+/ui/)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q", line)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", m[1], resp.Status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the dashboard did not stop")
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	var out strings.Builder
	err = bridgerun.ServeReadOnlyUI(context.Background(), &out, cfg, busy.Addr().String(), bridge)
	if err == nil || !strings.Contains(err.Error(), "(pick another address with --addr)") || out.Len() != 0 {
		t.Fatalf("busy address: err %v, printed %q", err, out.String())
	}
}
