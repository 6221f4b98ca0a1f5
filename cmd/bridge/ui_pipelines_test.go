package main

import (
	"bufio"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/bridgerun/runtest"
)

// TestUIPipelinesPageShowsRuns runs a small pipeline (testdata/pipeline-tiny)
// twice with the real binary (the second run reuses the first's Evaluate
// from the cache and takes the Else branch), then serves `bridge ui` from
// the same directory (and bridge run's dashboard on the same home) and
// reads the Pipelines page: both executions, each step's status, duration,
// cache hit, condition outcome, failure and log, and the step graph.
func TestUIPipelinesPageShowsRuns(t *testing.T) {
	skipWithoutSandbox(t)
	wd := t.TempDir()
	if err := os.CopyFS(wd, os.DirFS(filepath.Join("testdata", "pipeline-tiny"))); err != nil {
		t.Fatal(err)
	}

	execID := regexp.MustCompile(`(?m)^Execution (\S+) of tiny\.yaml$`)
	out, errOut, code := pipelineCLI(t, wd, "pipeline", "run", "tiny.yaml")
	if code != 0 || !execID.MatchString(out) {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	first := execID.FindStringSubmatch(out)[1]
	out, errOut, code = pipelineCLI(t, wd, "pipeline", "run", "tiny.yaml", "-p", "Threshold=0.1")
	if code != 1 || !execID.MatchString(out) || !strings.Contains(out, "(cache hit)") {
		t.Fatalf("second run: exit %d, want 1 (Fail step)\n%s\n%s", code, out, errOut)
	}
	second := execID.FindStringSubmatch(out)[1]

	// bridge run's dashboard on the same home shows them too.
	c := runtest.Config(t)
	c.Home, c.ModelCache = filepath.Join(wd, ".bridge"), filepath.Join(t.TempDir(), "cache")
	a := runtest.Start(t, c)
	if page := getPage(t, a.RouterURL()+"/ui/pipelines"); !strings.Contains(page, first) || !strings.Contains(page, second) {
		t.Fatalf("bridge run's pipelines page lacks the executions %s and %s:\n%s", first, second, page)
	}

	base := startUI(t, wd)
	page := getPage(t, base+"/ui/pipelines")
	if !strings.Contains(page, first) || !strings.Contains(page, second) || strings.Contains(page, "No pipelines yet") {
		t.Fatalf("pipelines page lacks the executions %s and %s:\n%s", first, second, page)
	}
	executions := tableRows(t, page, "pipelines")
	if len(executions) != 2 || executions[0][0] != second || executions[0][2] != "Failed" || executions[1][0] != first || executions[1][2] != "Succeeded" {
		t.Errorf("executions table %q", executions)
	}

	for _, tc := range []struct {
		exec string
		// step → status, cache, condition, log (substring), error (substring)
		want map[string][5]string
		ran  []string // steps with a duration
	}{
		{first, map[string][5]string{
			"Evaluate": {"Succeeded", "", "", "evaluated: mse 0.5", ""},
			"Check":    {"Succeeded", "", "True", "", ""},
			"Announce": {"Succeeded", "", "", "announcing a good model", ""},
			"TooHigh":  {"not run", "", "", "", ""},
		}, []string{"Evaluate", "Announce"}},
		{second, map[string][5]string{
			"Evaluate": {"Succeeded", "hit", "", "evaluated: mse 0.5", ""},
			"Check":    {"Succeeded", "", "False", "", ""},
			"TooHigh":  {"Failed", "", "", "", "MSE above 0.1"},
			"Announce": {"not run", "", "", "", ""},
		}, nil},
	} {
		page := getPage(t, base+"/ui/pipelines?execution="+tc.exec)
		// The step graph comes from the definition: Evaluate → Check → Announce | TooHigh.
		if n := strings.Count(page, "<line "); n != 3 {
			t.Errorf("%s: step graph has %d edges, want 3", tc.exec, n)
		}
		rows := tableRows(t, page, "steps")
		got := map[string][]string{}
		for _, r := range rows {
			got[r[0]] = r
		}
		if len(rows) != len(tc.want) {
			t.Errorf("%s: steps %q, want %d", tc.exec, rows, len(tc.want))
		}
		for step, w := range tc.want {
			r, ok := got[step]
			if !ok {
				t.Errorf("%s: no row for step %s in %q", tc.exec, step, rows)
				continue
			}
			// columns: Step, Type, Status (+ error), Duration, Cache, Condition, Log
			status, errText, _ := strings.Cut(r[2], "\n")
			if status != w[0] || r[4] != w[1] || r[5] != w[2] || !strings.Contains(r[6], w[3]) || !strings.Contains(errText, w[4]) {
				t.Errorf("%s step %s: row %q, want status %q cache %q condition %q log ~%q error ~%q", tc.exec, step, r, w[0], w[1], w[2], w[3], w[4])
			}
		}
		for _, step := range tc.ran {
			if d, err := time.ParseDuration(got[step][3]); err != nil || d <= 0 {
				t.Errorf("%s step %s: duration %q", tc.exec, step, got[step][3])
			}
		}
	}
}

// startUI serves `bridge ui` from wd on a free port and returns its URL.
func startUI(t *testing.T, wd string) string {
	t.Helper()
	cmd := exec.Command(monitorTestBinary(t), "ui", "--addr", "127.0.0.1:0", "--bridge", "127.0.0.1:1")
	cmd.Dir, cmd.Env = wd, pipelineEnv(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`(http://\S+)/ui/`).FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("bridge ui ended without serving")
		}
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("bridge ui did not say where it serves")
	}
	return ""
}

func getPage(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

// tableRows parses the HTML page and returns the text of each cell of
// the body rows of the table with the given class; text in nested block
// elements (a step's error) is on its own line.
func tableRows(t *testing.T, page, class string) [][]string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var rows [][]string
	var cell *strings.Builder
	inTable, inBody := 0, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse page: %v", err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			if x.Name.Local == "table" {
				for _, a := range x.Attr {
					if a.Name.Local == "class" && a.Value == class {
						inTable = 1
					}
				}
				continue
			}
			if inTable == 0 {
				continue
			}
			switch x.Name.Local {
			case "tbody":
				inBody = true
			case "tr":
				if inBody {
					rows = append(rows, nil)
				}
			case "td":
				if inBody {
					cell = &strings.Builder{}
				}
			case "div", "pre":
				if cell != nil && cell.Len() > 0 {
					cell.WriteString("\n")
				}
			}
		case xml.EndElement:
			switch {
			case inTable == 0:
			case x.Name.Local == "table":
				inTable = 0
			case x.Name.Local == "tbody":
				inBody = false
			case x.Name.Local == "td" && cell != nil:
				rows[len(rows)-1] = append(rows[len(rows)-1], strings.TrimSpace(cell.String()))
				cell = nil
			}
		case xml.CharData:
			if cell != nil {
				cell.Write(x)
			}
		}
	}
	return rows
}
