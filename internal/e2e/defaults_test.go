package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// TestHelpSaysTheLoopbackDefault: the router of bridge run and bridge demo
// listens on 127.0.0.1:$PORT unless --addr opens it; each command's --help
// says so (and not the old ":$PORT", every interface).
func TestHelpSaysTheLoopbackDefault(t *testing.T) {
	bin := runBinary(t)
	for _, cmd := range []string{"run", "demo"} {
		out, err := exec.Command(bin, cmd, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("bridge %s --help: %v\n%s", cmd, err, out)
		}
		var addr string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "--addr ") {
				addr = l
			}
		}
		if !strings.Contains(addr, "default 127.0.0.1:$PORT") || !strings.Contains(addr, "every interface") {
			t.Errorf("bridge %s --help: --addr line %q does not give the loopback default and how to open it", cmd, addr)
		}
	}
}
