// Package e2e runs the real bridge binary as a subprocess: it builds
// ./cmd/bridge, starts bridge run on a fresh home and loopback ports, drives
// it through the registry's MLflow REST API and its router, and stops it
// with a signal.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	runBuildOnce sync.Once
	runBinPath   string
	runBuildErr  error
	runBuildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if runBuildDir != "" {
		os.RemoveAll(runBuildDir)
	}
	os.Exit(code)
}

// bridgeBinary builds ./cmd/bridge once per test binary.
func runBinary(t testing.TB) string {
	t.Helper()
	runBuildOnce.Do(func() {
		runBuildDir, runBuildErr = os.MkdirTemp("", "bridge-e2e-")
		if runBuildErr != nil {
			return
		}
		runBinPath = filepath.Join(runBuildDir, "bridge")
		cmd := exec.Command("go", "build", "-o", runBinPath, "github.com/bridgeops/bridge/cmd/bridge")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			runBuildErr = fmt.Errorf("go build ./cmd/bridge: %v\n%s", err, out.String())
		}
	})
	if runBuildErr != nil {
		t.Fatal(runBuildErr)
	}
	return runBinPath
}

// freeAddr returns a loopback address nothing listens on right now.
func runFreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a running bridge run.
type runProcess struct {
	cmd          *exec.Cmd
	addr, regURL string
	stderr       *runLog
	exited       chan error
}

type runLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *runLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *runLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startRun starts bridge run on a fresh home and waits until both its
// router and its registry API answer.
func startRun(t testing.TB, extraEnv ...string) *runProcess {
	t.Helper()
	home := t.TempDir()
	p := &runProcess{addr: runFreeAddr(t), stderr: &runLog{}, exited: make(chan error, 1)}
	regAddr := runFreeAddr(t)
	p.regURL = "http://" + regAddr
	p.cmd = exec.Command(runBinary(t), "run", "--addr", p.addr, "--registry-addr", regAddr)
	p.cmd.Dir = home
	p.cmd.Env = append(os.Environ(), "BRIDGE_HOME="+home, "BRIDGE_MLFLOW_URI=", "BRIDGE_DEPLOY_KIND=localhost",
		"BRIDGE_ENV_FILE="+filepath.Join(home, "none.env"), "LOG_LEVEL=warn")
	p.cmd.Env = append(p.cmd.Env, extraEnv...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		r1, err1 := http.Get("http://" + p.addr + "/ping")
		r2, err2 := http.Get(p.regURL + "/health")
		if err1 == nil {
			r1.Body.Close()
		}
		if err2 == nil {
			r2.Body.Close()
		}
		if err1 == nil && err2 == nil && r1.StatusCode == 200 {
			return p
		}
		select {
		case err := <-p.exited:
			t.Fatalf("bridge run exited early: %v\n%s", err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bridge run did not come up: %v %v\n%s", err1, err2, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signal sends sig and waits for the process to exit.
func (p *runProcess) stop(t testing.TB, sig syscall.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("bridge run did not stop within 30s of %v\n%s", sig, p.stderr)
		return nil
	}
}

// rss is the process's resident memory in bytes, from /proc/<pid>/status.
func (p *runProcess) rss(t testing.TB) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

func runPost(t testing.TB, base, path string, in any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := http.Post(base+"/api/2.0/mlflow/"+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	out := map[string]any{}
	json.Unmarshal(body, &out)
	return out
}

// register creates model name with one linear version in Production.
func runRegister(t testing.TB, base, name, dir string) {
	t.Helper()
	runPost(t, base, "registered-models/create", map[string]any{"name": name})
	out := runPost(t, base, "model-versions/create", map[string]any{"name": name, "source": (&url.URL{Scheme: "file", Path: dir}).String()})
	mv, _ := out["model_version"].(map[string]any)
	runPost(t, base, "model-versions/transition-stage", map[string]any{"name": name, "version": fmt.Sprint(mv["version"]), "stage": "Production", "archive_existing_versions": true})
}

// linearDir writes a bridge_linear model y = coef·x + 1.
func runLinearDir(t testing.TB, coef float64) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"MLmodel":    "flavors:\n  bridge_linear:\n    data: model.json\n",
		"model.json": fmt.Sprintf(`{"kind": "linear_regression", "coefficients": [%g, 0.5, 0.25, 0.125], "intercept": 1}`, coef),
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// deployedCount counts versions tagged DEPLOYED.
func deployedCount(t testing.TB, base string) int {
	t.Helper()
	n := 0
	token := ""
	for {
		u := base + "/api/2.0/mlflow/model-versions/search?max_results=1000"
		if token != "" {
			u += "&page_token=" + url.QueryEscape(token)
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			ModelVersions []struct {
				Tags []struct{ Key, Value string }
			} `json:"model_versions"`
			NextPageToken string `json:"next_page_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.ModelVersions {
			for _, tag := range v.Tags {
				if tag.Key == "bridge_deploy_state" && tag.Value == "DEPLOYED" {
					n++
				}
			}
		}
		if out.NextPageToken == "" {
			return n
		}
		token = out.NextPageToken
	}
}

func runInvoke(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(`{"inputs": [[2, 0, 0, 0]]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// TestBinaryServesAndStopsOnSignal runs the real binary: a version moved to
// Production is served with the right prediction, and SIGTERM (then, on a
// second process, SIGINT) stops it cleanly with exit status 0.
func TestBinaryServesAndStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startRun(t)
			runRegister(t, p.regURL, "lin", runLinearDir(t, 3))
			u := "http://" + p.addr + "/lin/Production/invocations"
			deadline := time.Now().Add(30 * time.Second)
			for {
				code, body := runInvoke(t, u)
				if code == 200 {
					var got struct{ Predictions []float64 }
					if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Predictions) != 1 || got.Predictions[0] != 7 {
						t.Fatalf("prediction %s, want 7", body)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("never served: %d %s\n%s", code, body, p.stderr)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := p.stop(t, sig); err != nil {
				t.Fatalf("exit after %v: %v\n%s", sig, err, p.stderr)
			}
		})
	}
}

// BenchmarkRSS100Models measures the resident memory of bridge run serving
// 100 native models (the real binary, seeded through the REST API, once
// every version is DEPLOYED and has answered one request).
func BenchmarkRSS100Models(b *testing.B) {
	const models = 100
	for i := 0; i < b.N; i++ {
		p := startRun(b)
		idle := p.rss(b)
		for m := 0; m < models; m++ {
			runRegister(b, p.regURL, fmt.Sprintf("m%03d", m), runLinearDir(b, float64(m)))
		}
		deadline := time.Now().Add(2 * time.Minute)
		for deployedCount(b, p.regURL) < models {
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d models DEPLOYED\n%s", deployedCount(b, p.regURL), models, p.stderr)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for m := 0; m < models; m++ {
			if code, body := runInvoke(b, fmt.Sprintf("http://%s/m%03d/Production/invocations", p.addr, m)); code != 200 {
				b.Fatalf("m%03d answered %d %s", m, code, body)
			}
		}
		b.ReportMetric(float64(idle)/(1<<20), "idle-MB")
		b.ReportMetric(float64(p.rss(b))/(1<<20), "rss-MB")
		if err := p.stop(b, syscall.SIGTERM); err != nil {
			b.Fatalf("exit: %v", err)
		}
	}
}
