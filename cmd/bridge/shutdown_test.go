package main

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/proctest"
	"github.com/bridgeops/bridge/internal/registry/store"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// freeAddr returns a loopback address nothing listens on.
// startBinary starts the bridge binary in dir with env; its output goes to
// logs and its exit status to exited.
func startBinary(t *testing.T, dir string, env []string, args ...string) (*exec.Cmd, *syncBuffer, <-chan error) {
	t.Helper()
	cmd := exec.Command(monitorTestBinary(t), args...)
	cmd.Dir, cmd.Env = dir, env
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd, logs, exited
}

// cleanEnv is the test's environment without Bridge's settings (so the
// defaults apply), no .env file, and extra on top.
func cleanEnv(extra ...string) []string {
	env := []string{"BRIDGE_ENV_FILE=/nonexistent/.env"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") && !strings.HasPrefix(kv, "PORT=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// TestShutdownUnderLoad starts the real binary with the default home in a
// fresh directory, a Python model, data capture and a monitoring schedule,
// sends SIGTERM while clients keep invoking the model, and checks that
// in-flight requests finish, every child process is gone, the capture
// buffer reached disk, the versions are tagged STOPPED, and the exit status
// is 0 within the drain timeout.
func TestShutdownUnderLoad(t *testing.T) {
	py := pythontest.Interpreter(t)
	wd := t.TempDir()
	home := filepath.Join(wd, ".bridge")
	m := pythontest.TrainSklearn(t, py, filepath.Join(t.TempDir(), "model"), pythontest.SklearnSpec{Seed: 3})
	seedStore(t, home, map[string]string{"churn": "file://" + m.Dir})
	bin := monitorTestBinary(t)
	env := cleanEnv("BRIDGE_PYTHON="+py, "BRIDGE_DRAIN_TIMEOUT_S=20")

	// A schedule that runs every second inside bridge run.
	train, _ := monitorChurnData(t, t.TempDir())
	dq := filepath.Join(t.TempDir(), "dq")
	for _, args := range [][]string{
		{"monitor", "baseline", "data-quality", "--dataset", train, "--output", dq},
		{"monitor", "schedule", "create", "every-second", "--cron", "* * * * * *", "--type", "data-quality",
			"--endpoint", "brdg-churn-Production", "--baseline", dq, "--output", filepath.Join(wd, "reports"), "--allow-missing"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = wd, env
		if out, err := cmd.CombinedOutput(); err != nil {
			if strings.Contains(string(out), "unknown flag: --allow-missing") {
				cmd = exec.Command(bin, args[:len(args)-1]...)
				cmd.Dir, cmd.Env = wd, env
				out, err = cmd.CombinedOutput()
			}
			if err != nil {
				t.Fatalf("bridge %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}

	addr := freeAddr(t)
	run, logs, exited := startBinary(t, wd, env, "run", "--capture", "--addr", addr, "--registry-addr", "127.0.0.1:0")
	defer func() {
		if run.ProcessState == nil {
			run.Process.Kill()
			<-exited
		}
	}()
	base := "http://" + addr
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	runtest.Eventually(t, 90*time.Second, "/readyz 200 with churn/Production served", func() bool {
		resp, err := hc.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	kids := proctest.Descendants(run.Process.Pid)
	if len(kids) == 0 {
		t.Fatalf("no model server process under bridge run (pid %d)\n%s", run.Process.Pid, logs.String())
	}

	// Load: workers invoke until the front door stops answering.
	type outcome struct {
		start, end time.Time
		status     int
		err        error
	}
	var mu sync.Mutex
	var outcomes []outcome
	stop := make(chan struct{})
	var wg sync.WaitGroup
	body := m.SplitBody()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				o := outcome{start: time.Now()}
				resp, err := hc.Post(base+"/churn/Production/invocations", "application/json", bytes.NewReader(body))
				if err == nil {
					var b []byte
					b, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					o.status = resp.StatusCode
					if err == nil && resp.StatusCode == 200 && !bytes.Contains(b, []byte("predictions")) {
						err = fmt.Errorf("answer without predictions: %s", b)
					}
				}
				o.end, o.err = time.Now(), err
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if err != nil {
					return // the front door has stopped
				}
			}
		}()
	}
	runtest.Eventually(t, 30*time.Second, "load running", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(outcomes) >= 50
	})
	signalled := time.Now()
	if err := run.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("bridge run exited with %v after SIGTERM\n%s", err, logs.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatalf("bridge run still running 25 s after SIGTERM (drain timeout 20 s)\n%s", logs.String())
	}
	close(stop)
	wg.Wait()
	took := time.Since(signalled)

	// In-flight requests finished: every request the server began
	// answering answered 200 in full, and some were in flight at SIGTERM.
	ok, acrossSignal := 0, 0
	for _, o := range outcomes {
		switch {
		case o.err == nil && o.status == 200:
			ok++
			if o.start.Before(signalled) && o.end.After(signalled) {
				acrossSignal++
			}
		case o.err == nil:
			t.Errorf("a request answered %d during shutdown", o.status)
		case o.start.Before(signalled.Add(-100*time.Millisecond)) && !strings.Contains(o.err.Error(), "connection refused"):
			t.Errorf("a request sent %s before SIGTERM failed: %v", signalled.Sub(o.start), o.err)
		}
	}
	if acrossSignal == 0 {
		t.Errorf("no request was in flight across SIGTERM (%d answered)", ok)
	}
	// Every child is gone.
	for pid, name := range kids {
		if proctest.Alive(pid) {
			t.Errorf("child %d %s still running after bridge run exited", pid, name)
		}
	}
	// The capture buffer reached disk: every answered request is captured.
	captured := 0
	filepath.Walk(filepath.Join(home, "datacapture"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(p, ".jsonl") {
			f, _ := os.Open(p)
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				captured++
			}
			f.Close()
		}
		return nil
	})
	if captured < ok {
		t.Errorf("%d capture records on disk for %d answered requests", captured, ok)
	}
	// The model is no longer served: its tags say so.
	reg := openTestStore(t, home)
	versions, err := reg.Versions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		if v.Name == "churn" && v.Tags[model.TagDeployState] != model.StateStopped {
			t.Errorf("churn/%d tagged %v after a clean stop, want %s", v.Version, v.Tags, model.StateStopped)
		}
	}
	t.Logf("%d requests answered (%d across SIGTERM), %d captured, %d children, exit after %s", ok, acrossSignal, captured, len(kids), took.Round(time.Millisecond))
	if testing.Verbose() {
		var tail []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "stop") || strings.Contains(l, "STOPPED") {
				tail = append(tail, l)
			}
		}
		t.Log(strings.Join(tail, "\n"))
	}
}

// openTestStore opens the embedded store of home for the test's duration.
func openTestStore(t *testing.T, home string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRunListensOnLoopbackByDefault: without --addr the front door, like
// the registry API, listens on 127.0.0.1 only.
func TestRunListensOnLoopbackByDefault(t *testing.T) {
	wd := t.TempDir()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	run, logs, exited := startBinary(t, wd, cleanEnv("PORT="+port), "run", "--registry-addr", "127.0.0.1:0")
	defer func() {
		run.Process.Signal(syscall.SIGTERM)
		if err := <-exited; err != nil {
			t.Errorf("bridge run exited with %v\n%s", err, logs.String())
		}
	}()
	runtest.Eventually(t, 30*time.Second, "/healthz on 127.0.0.1:"+port, func() bool {
		resp, err := http.Get("http://127.0.0.1:" + port + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	// The kernel's listening sockets: the port is bound to 127.0.0.1
	// (0100007F), not to every interface (00000000).
	p, _ := strconv.Atoi(port)
	tcp, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skip("no /proc/net/tcp")
	}
	var bound []string
	for _, l := range strings.Split(string(tcp), "\n") {
		f := strings.Fields(l)
		if len(f) > 3 && f[3] == "0A" && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", p)) {
			bound = append(bound, f[1])
		}
	}
	if len(bound) != 1 || bound[0] != fmt.Sprintf("0100007F:%04X", p) {
		t.Fatalf("port %s listening as %v, want 127.0.0.1 only", port, bound)
	}
	if tcp6, err := os.ReadFile("/proc/net/tcp6"); err == nil && strings.Contains(string(tcp6), fmt.Sprintf(":%04X 00000000000000000000000000000000:0000 0A", p)) {
		t.Fatalf("port %s also listens on every IPv6 interface", port)
	}
}
