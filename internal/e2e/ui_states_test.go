package e2e

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDashboardStates runs bridge run from fresh working directories with
// default settings and reads every dashboard page: with no data yet (the
// empty states say what to do next) and with an external registry that is
// down (a banner, never a 5xx).
func TestDashboardStates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bridge run: skipped with -short")
	}
	// A registry address nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()

	pages := []string{"/ui/", "/ui/models/iris", "/ui/endpoints/iris/Production", "/ui/monitoring", "/ui/monitoring/nope", "/ui/pipelines"}
	tests := []struct {
		name string
		env  []string
		want map[string][]string // page → texts it must show
		// banner: whether the pages that read the registry carry a banner.
		banner bool
	}{
		{"no data yet", nil, map[string][]string{
			"/ui/":            {"No endpoints yet", "bridge demo", "0 endpoints", "0 models, 0 versions in the registry"},
			"/ui/models/iris": {"No model of this name"},
			"/ui/monitoring":  {"No monitoring schedules yet", "bridge monitor schedule create"},
			"/ui/pipelines":   {"No pipelines yet", "No pipeline has run yet"},
		}, false},
		{"registry down", []string{"BRIDGE_MLFLOW_URI=" + down}, map[string][]string{
			"/ui/":            {`class="banner"`, "Registry unavailable", "connection refused", "No endpoints yet", "could not finish: read registry"},
			"/ui/models/iris": {`class="banner"`, "Registry unavailable"},
			"/ui/monitoring":  {"No monitoring schedules yet"},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			router := runFreeAddr(t)
			cmd := exec.Command(runBinary(t), "run", "--addr", router, "--registry-addr", runFreeAddr(t))
			cmd.Dir, cmd.Env = dir, append(uiDefaultEnv(dir), tt.env...)
			out := &runLog{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
			get := func(path string) (int, string) {
				resp, err := http.Get("http://" + router + path)
				if err != nil {
					return 0, err.Error()
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b)
			}
			// The overview shows a reconcile pass once one has run.
			poll(t, 30*time.Second, "the first reconcile pass on the overview", func() bool {
				code, body := get("/ui/")
				return code == 200 && strings.Contains(body, "Last reconcile pass")
			})
			for _, p := range pages {
				code, body := get(p)
				if code >= 500 || code == 0 {
					t.Errorf("%s: status %d\n%s\n%s", p, code, body, out)
					continue
				}
				for _, w := range tt.want[p] {
					if !strings.Contains(body, w) {
						t.Errorf("%s lacks %q", p, w)
					}
				}
				// The pages that read the registry: the overview and model pages.
				if (p == "/ui/" || p == "/ui/models/iris") && strings.Contains(body, `class="banner"`) != tt.banner {
					t.Errorf("%s: banner shown %v, want %v", p, !tt.banner, tt.banner)
				}
			}
		})
	}
}
