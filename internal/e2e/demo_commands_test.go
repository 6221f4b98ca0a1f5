package e2e

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemoPrintsCommandsThatWork runs the real binary's demo from a fresh
// directory with the default home and runs the bridge commands it prints,
// exactly as printed, through the shell (with a PATH where `bridge` would
// be Debian's iproute2 command or nothing at all).
func TestDemoPrintsCommandsThatWork(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(runBinary(t), "demo", "--addr", runFreeAddr(t), "--registry-addr", runFreeAddr(t))
	cmd.Dir = dir
	cmd.Env = append(defaultEnv(), "LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr runLog
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var printed []string
	deadline := time.After(90 * time.Second)
	for len(printed) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo ended before printing its bridge commands:\n%s", stderr.String())
			}
			if strings.Contains(l, " status --addr ") || strings.Contains(l, " plan --addr ") {
				printed = append(printed, l)
			}
		case <-deadline:
			t.Fatalf("demo printed no bridge commands:\n%s", stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	for _, line := range printed {
		sh := exec.Command("sh", "-c", line)
		sh.Dir = dir
		sh.Env = append(defaultEnv(), "PATH=/usr/sbin:/sbin:/usr/bin:/bin")
		out, err := sh.CombinedOutput()
		// plan exits 2 when a pass would change something; both mean it ran.
		if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 2 && strings.Contains(line, " plan ")) {
			t.Fatalf("printed command %q failed: %v\n%s", line, err, out)
		}
		if strings.Contains(line, " status ") && !strings.Contains(string(out), "iris") {
			t.Fatalf("printed command %q does not show the example model:\n%s", line, out)
		}
	}
}
