package e2e

// Browser test of the dashboard: the real bridge binary runs the demo model
// from a fresh working directory (default home ./.bridge) with capture on
// and a registry token; the test sends traffic, records a data-quality
// execution with a drift violation and a model-quality execution below its
// threshold, registers models whose names are HTML (one named exactly
// <script>alert(1)</script>), then drives headless Chromium (chromedp)
// through every page: content from the run, charts with data points and
// their threshold and promotion marks, no console errors, the HTML names and
// payloads shown as text, live refresh, and a promotion made from the
// dashboard that moves the endpoint. With BRIDGE_UI_SCREENSHOTS=1 it also writes the
// screenshots in docs/ui/.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/registry/store"
)

const (
	uiToken   = "ui-test-token"
	xssName   = `<img src=x onerror=alert(1)>`
	xssScript = `<script>alert(1)</script>`
)

// uiBridge is bridge demo running for the browser test.
type uiBridge struct {
	dir, router, registry string
	log                   *runLog
	cmd                   *exec.Cmd
	exited                chan error
}

func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no Chromium at /usr/bin/chromium (Debian: apt-get install chromium chromium-driver): browser tests skipped")
	return ""
}

// uiBridgeRun runs the bridge binary in dir and returns its output.
func uiBridgeRun(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(runBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bridge %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func startUIBridge(t *testing.T) (*uiBridge, []string) {
	t.Helper()
	dir := t.TempDir()
	b := &uiBridge{dir: dir, router: runFreeAddr(t), registry: runFreeAddr(t), log: &runLog{}, exited: make(chan error, 1)}
	// Default settings but for the token and short periods.
	env := append(uiDefaultEnv(dir), "BRIDGE_REGISTRY_TOKEN="+uiToken, "BRIDGE_UI_SAMPLE_INTERVAL_S=0.5", "BRIDGE_UI_REFRESH_S=1", "LOG_LEVEL=warn")
	b.cmd = exec.Command(runBinary(t), "demo", "--capture", "--addr", b.router, "--registry-addr", b.registry)
	b.cmd.Dir, b.cmd.Env, b.cmd.Stdout, b.cmd.Stderr = dir, env, b.log, b.log
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.exited <- b.cmd.Wait() }()
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			b.cmd.Process.Kill()
			<-b.exited
		}
	})
	poll(t, 60*time.Second, "the demo's Production endpoint", func() bool {
		select {
		case err := <-b.exited:
			t.Fatalf("bridge demo exited: %v\n%s", err, b.log)
		default:
		}
		code, _, _ := b.invokeCSV("iris/Production", "5.1,3.5,1.4,0.2")
		return code == 200
	})
	return b, env
}

// uiDefaultEnv is the environment without Bridge's settings (default home
// ./.bridge in the working directory dir, no .env file).
func uiDefaultEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") && !strings.HasPrefix(kv, "PORT=") && !strings.HasPrefix(kv, "MLFLOW_") {
			env = append(env, kv)
		}
	}
	return append(env, "BRIDGE_ENV_FILE="+filepath.Join(dir, "none.env"))
}

func poll(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *uiBridge) invokeCSV(endpoint, rows string) (int, string, string) {
	resp, err := http.Post("http://"+b.router+"/"+endpoint+"/invocations", "text/csv", strings.NewReader(rows))
	if err != nil {
		return 0, "", ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Bridge-Model-Version"), string(body)
}

// api calls the registry's MLflow API with the token.
func (b *uiBridge) api(t *testing.T, path string, in any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.registry+"/api/2.0/mlflow/"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+uiToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, out)
	}
	m := map[string]any{}
	json.Unmarshal(out, &m)
	return m
}

// browserErrors collects console errors, uncaught exceptions, error log
// entries and JavaScript dialogs (an XSS would open one).
type browserErrors struct {
	mu   sync.Mutex
	list []string
}

func (e *browserErrors) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, s)
}

func (e *browserErrors) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.list
	e.list = nil
	return l
}

func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	chrome := chromiumPath(t)
	b, env := startUIBridge(t)
	tStart := time.Now()
	defer func() {
		t.Logf("browser test took %s after bridge demo started", time.Since(tStart).Round(time.Millisecond))
	}()

	// A model whose name, description and tags are HTML.
	modelDir := runLinearDir(t, 2)
	b.api(t, "registered-models/create", map[string]any{"name": xssName, "description": xssScript})
	mv := b.api(t, "model-versions/create", map[string]any{"name": xssName, "source": (&url.URL{Scheme: "file", Path: modelDir}).String(), "tags": []map[string]string{{"key": "note", "value": xssScript}, {"key": "accuracy", "value": "0.97"}}})
	xv := fmt.Sprint(mv["model_version"].(map[string]any)["version"])
	b.api(t, "model-versions/transition-stage", map[string]any{"name": xssName, "version": xv, "stage": "Production", "archive_existing_versions": false})

	// A model named exactly <script>alert(1)</script>. Bridge's registry
	// API refuses '/' in model names (as MLflow's file store does), but an
	// MLflow server with a SQL store accepts it: put it in the registry's
	// database as such a server would hold it. Bridge cannot serve it (the
	// reconcile loop reports it failing, iris keeps serving); the dashboard
	// shows it as text.
	insertRawModel(t, filepath.Join(b.dir, ".bridge", "registry.db"), xssScript, modelDir)

	// Training metrics as a pipeline registers them: version tags.
	for k, v := range map[string]string{"metric.accuracy": "0.973", "metric.f1": "0.972", "training_epochs": "500"} {
		b.api(t, "model-versions/set-tag", map[string]any{"name": "iris", "version": "2", "key": k, "value": v})
	}

	// The monitoring executions below check this hour's captures: start
	// the traffic at least a minute before the hour ends.
	if left := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); left < time.Minute {
		poll(t, 2*time.Minute, "the next hour", func() bool { return time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)) > time.Minute })
	}

	// Traffic: in-distribution rows, a few bad requests, then drifted rows.
	for i := 0; i < 30; i++ {
		b.invokeCSV("iris/Production", fmt.Sprintf("5.%d,3.5,1.4,0.2", i%10))
		b.invokeCSV("iris/Staging", "6.3,3.3,6.0,2.5")
	}
	for i := 0; i < 3; i++ {
		b.invokeCSV("iris/Production", "not,a,number")
	}
	for i := 0; i < 40; i++ {
		b.invokeCSV("iris/Production", fmt.Sprintf("%d.5,9.5,40.0,20.0", 20+i%5))
	}
	// A captured payload carrying the script (the router ignores fields
	// it does not know, and captures the request as sent).
	xssPayload := `{"inputs": [[5.1, 3.5, 1.4, 0.2]], "note": "` + xssScript + `"}`
	if resp, err := http.Post("http://"+b.router+"/iris/Production/invocations", "application/json", strings.NewReader(xssPayload)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("invoke with the script in the payload: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// A data-quality baseline from the training data and one execution
	// over this hour's captures: the drifted rows violate it.
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "internal", "demo", "data", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var feats bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		cols := strings.Split(line, ",")
		feats.WriteString(strings.Join(cols[:4], ",") + "\n")
	}
	os.WriteFile(filepath.Join(b.dir, "train.csv"), feats.Bytes(), 0o644)
	uiBridgeRun(t, b.dir, env, "monitor", "baseline", "data-quality", "--dataset", "train.csv", "--output", "baselines/iris")
	uiBridgeRun(t, b.dir, env, "monitor", "schedule", "create", "iris-drift", "--cron", "0 * * * *", "--type", "data-quality",
		"--endpoint", "brdg-iris-Production", "--capture", ".bridge/datacapture", "--baseline", "baselines/iris", "--output", "reports/iris-drift")
	// Captures reach disk off the request path: wait for the drifted rows.
	poll(t, 20*time.Second, "captured drifted rows", func() bool {
		n := 0
		filepath.WalkDir(filepath.Join(b.dir, ".bridge", "datacapture", "brdg-iris-Production"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				n += bytes.Count(data, []byte("40.0,20.0"))
			}
			return nil
		})
		return n >= 40
	})
	next := time.Now().UTC().Truncate(time.Hour).Add(time.Hour).Format(time.RFC3339)
	out := uiBridgeRun(t, b.dir, env, "monitor", "schedule", "run", "iris-drift", "--now", next)
	if !strings.Contains(out, "CompletedWithViolations") {
		t.Fatalf("monitoring execution found no violation:\n%s", out)
	}

	// Model quality of iris/Staging: a baseline from labelled predictions,
	// requests with inference IDs, ground truth that disagrees with most
	// answers, one execution: accuracy falls below its threshold.
	var mq bytes.Buffer
	mq.WriteString("prediction,label\n")
	for i, line := range strings.Split(strings.TrimSpace(string(src)), "\n")[1:] {
		label := line[strings.LastIndexByte(line, ',')+1:]
		pred := label
		if i%25 == 0 {
			pred = "versicolor"
		}
		fmt.Fprintf(&mq, "%s,%s\n", pred, label)
	}
	os.WriteFile(filepath.Join(b.dir, "mq.csv"), mq.Bytes(), 0o644)
	var labels bytes.Buffer
	for i := 1; i <= 12; i++ {
		req, _ := http.NewRequest(http.MethodPost, "http://"+b.router+"/iris/Staging/invocations", strings.NewReader("5.1,3.5,1.4,0.2"))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("X-Amzn-SageMaker-Inference-Id", fmt.Sprintf("mq-%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("invoke iris/Staging with an inference ID: %v %v", resp, err)
		}
		resp.Body.Close()
		label := "virginica" // the model answers setosa
		if i <= 3 {
			label = "setosa"
		}
		fmt.Fprintf(&labels, "mq-%d,%s\n", i, label)
	}
	os.WriteFile(filepath.Join(b.dir, "labels.csv"), labels.Bytes(), 0o644)
	uiBridgeRun(t, b.dir, env, "monitor", "baseline", "model-quality", "--dataset", "mq.csv", "--problem-type", "MulticlassClassification",
		"--inference-attribute", "prediction", "--ground-truth-attribute", "label", "--output", "baselines/iris-mq")
	uiBridgeRun(t, b.dir, env, "monitor", "ground-truth", "add", "--csv", "labels.csv", "--output", ".bridge/ground-truth")
	uiBridgeRun(t, b.dir, env, "monitor", "schedule", "create", "iris-quality", "--cron", "0 * * * *", "--type", "model-quality",
		"--endpoint", "brdg-iris-Staging", "--ground-truth", ".bridge/ground-truth", "--inference-attribute", "predictions",
		"--baseline", "baselines/iris-mq", "--output", "reports/iris-quality")
	poll(t, 20*time.Second, "captured requests with inference IDs", func() bool {
		n := 0
		filepath.WalkDir(filepath.Join(b.dir, ".bridge", "datacapture", "brdg-iris-Staging"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				n += bytes.Count(data, []byte(`"inferenceId":"mq-`))
			}
			return nil
		})
		return n >= 12
	})
	if out := uiBridgeRun(t, b.dir, env, "monitor", "schedule", "run", "iris-quality", "--now", next); !strings.Contains(out, "CompletedWithViolations") {
		t.Fatalf("model-quality execution found no violation:\n%s", out)
	}

	t.Logf("set-up (traffic, baselines, monitoring executions) took %s", time.Since(tStart).Round(time.Millisecond))
	// One browser for every check.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	errs := &browserErrors{}
	// Console errors, uncaught exceptions and error log entries.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				errs.add(string(m.Type) + ": " + m.Text + " " + m.URL)
			}
		}
	}()
	// Dialogs: an injected alert(1) would open one.
	dialogs := make(chan string, 4)
	err = chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- d.Message:
			default:
			}
		}
	})
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	go func() {
		for msg := range dialogs {
			errs.add("JavaScript dialog opened: " + msg)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	base := "http://" + b.router + "/ui"
	shots := os.Getenv("BRIDGE_UI_SCREENSHOTS") != ""
	t0 := time.Now()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		t.Logf("%6.2fs %s", time.Since(t0).Seconds(), what)
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerHTML`))
			t.Fatalf("%s: %v\n%s", what, err, html)
		}
	}
	shot := func(name string) {
		t.Helper()
		if !shots {
			return
		}
		buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		dst := filepath.Join(repoRoot(t), "docs", "ui", name+".png")
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noErrors := func(page string) {
		t.Helper()
		if l := errs.take(); len(l) > 0 {
			t.Errorf("%s: browser errors:\n  %s", page, strings.Join(l, "\n  "))
		}
	}
	evalInt := func(js string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return n
	}
	evalString := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	// waitJS polls a JavaScript condition in the page.
	waitJS := func(what, js string) {
		t.Helper()
		do(what, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
	}

	// Overview: endpoints, traffic figures with sparkline points, the
	// HTML model name as text, the last pass.
	do("open the overview", chromedp.Navigate(base+"/"))
	waitJS("overview sparklines", `(() => { const s = document.querySelector('tr[data-model="iris"][data-slot="Production"] svg.spark'); return s && +s.dataset.points > 0; })()`)
	names := evalString(`[...document.querySelectorAll('td.model a')].map(a => a.textContent).join("\n")`)
	if !contains(strings.Split(names, "\n"), "iris") || !contains(strings.Split(names, "\n"), xssName) {
		t.Fatalf("overview models = %q", names)
	}
	if n := evalInt(`document.querySelectorAll('main img, main script').length`); n != 0 {
		t.Fatalf("the model name became %d element(s)", n)
	}
	if n := evalInt(`document.querySelectorAll('tr.endpoint').length`); n != 3 {
		t.Errorf("overview shows %d endpoints, want 3", n)
	}
	// The model named <script>alert(1)</script>: listed (not served) as text,
	// and the reconcile pass's failure for it as text.
	waitJS("the <script> model listed as text", `[...document.querySelectorAll('main a')].some(a => a.textContent === `+jsString(xssScript)+`)`)
	if text := evalString(`document.querySelector('main').innerText`); !strings.Contains(text, "model "+xssScript+" failing") && !strings.Contains(text, "Waiting for backoff: "+xssScript) {
		t.Errorf("overview does not report the <script> model's failure as text:\n%s", text)
	}
	// Live refresh replaces the content without a reload.
	waitJS("live refresh", `document.getElementById('live').dataset.refreshed !== undefined`)
	shot("overview")
	noErrors("overview")

	// Endpoint page: three uPlot charts with points, captured requests.
	do("open the endpoint page", chromedp.Navigate(base+"/endpoints/iris/Production"))
	waitJS("endpoint charts drawn", `['traffic','errors','latency'].every(id => { const f = document.getElementById('chart-' + id); return f && +f.dataset.drawn > 0 && f.querySelector('canvas'); })`)
	if n := evalInt(`document.querySelectorAll('table.captures tbody tr').length`); n == 0 {
		t.Error("endpoint page shows no captured requests")
	}
	// The captured script is text in the table and the copyable curl.
	waitJS("the captured script shown as text", `[...document.querySelectorAll('table.captures pre')].some(p => p.textContent === `+jsString(xssPayload)+`)`)
	if n := evalInt(`document.querySelectorAll('main script, main img').length`); n != 0 {
		t.Errorf("endpoint page: %d injected element(s)", n)
	}
	if cp := evalString(`document.querySelector('button.copy').getAttribute('data-copy')`); !strings.Contains(cp, xssScript) {
		t.Errorf("copy curl of the newest capture = %q, want the payload with %s", cp, xssScript)
	}
	noErrors("endpoint")

	// XSS model page: the script is text.
	do("open the XSS model's page", chromedp.Navigate(base+"/models/"+url.PathEscape(xssName)))
	if text := evalString(`document.querySelector('main').innerText`); !strings.Contains(text, xssScript) || !strings.Contains(text, xssName) {
		t.Errorf("model page does not show the HTML as text:\n%s", text)
	}
	if n := evalInt(`document.querySelectorAll('main img, main script').length`); n != 0 {
		t.Errorf("model page: %d injected element(s)", n)
	}
	do("open the <script> model's page", chromedp.Navigate(base+"/models/"+url.PathEscape(xssScript)))
	if h := evalString(`document.querySelector('main h1').textContent`); h != xssScript {
		t.Errorf("<script> model page heading %q", h)
	}
	if n := evalInt(`document.querySelectorAll('main img, main script').length`); n != 0 {
		t.Errorf("<script> model page: %d injected element(s)", n)
	}
	noErrors("xss model")

	// Monitoring: the schedule, its violation, histograms with bars.
	do("open monitoring", chromedp.Navigate(base+"/monitoring"))
	waitJS("schedule listed", `[...document.querySelectorAll('tr.schedule a')].some(a => a.textContent === 'iris-drift')`)
	do("open the schedule", chromedp.Navigate(base+"/monitoring/iris-drift"))
	violations := evalInt(`document.querySelectorAll('tr.violation').length`)
	bars := evalInt(`document.querySelectorAll('svg.hist rect.win').length`)
	if violations == 0 || bars == 0 {
		html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		t.Errorf("schedule page: %d violations, %d histogram bars\n%s", violations, bars, html)
	}
	// The drifted features show their drift distance against the threshold.
	if text := evalString(`[...document.querySelectorAll('.feature.violated p.small')].map(p => p.textContent).join("\n")`); !regexp.MustCompile(`drift \(\w+\) [0-9.]+ / threshold [0-9.]+`).MatchString(text) {
		t.Errorf("no drift distance on the violated features:\n%s", text)
	}
	shot("monitoring")
	noErrors("monitoring")
	// Model quality: the accuracy trend with its threshold line, the
	// violations with their text.
	do("open the model-quality schedule", chromedp.Navigate(base+"/monitoring/iris-quality"))
	waitJS("accuracy trend drawn with its threshold", `(() => { const f = [...document.querySelectorAll('figure[data-chart]')].find(f => f.querySelector('figcaption').textContent.startsWith('accuracy ')); return f && +f.dataset.drawn > 0 && f.querySelector('canvas') && f.dataset.thresholdDrawn !== undefined; })()`)
	if th := evalString(`[...document.querySelectorAll('figure[data-chart]')].find(f => f.querySelector('figcaption').textContent.startsWith('accuracy ')).dataset.thresholdDrawn`); !strings.HasPrefix(th, "0.8") {
		t.Errorf("accuracy threshold line at %q, want the baseline's 0.8…", th)
	}
	if text := evalString(`[...document.querySelectorAll('tr.violation')].map(r => r.innerText).join("\n")`); !strings.Contains(text, "Metric accuracy with 0.25") || !strings.Contains(text, "LessThanThreshold") {
		t.Errorf("model-quality violations:\n%s", text)
	}
	shot("model-quality")
	noErrors("model quality")

	// Pipelines: none in this Bridge yet; then one run of a small pipeline
	// (when steps can run here) shows with its step graph.
	do("open pipelines", chromedp.Navigate(base+"/pipelines"))
	if text := evalString(`document.querySelector('main h2').textContent`); text != "No pipelines yet" {
		t.Errorf("pipelines page heading %q", text)
	}
	if err := local.Probe(); err != nil {
		t.Logf("no pipeline run: %v", err)
	} else {
		if err := os.CopyFS(b.dir, os.DirFS(filepath.Join(repoRoot(t), "cmd", "bridge", "testdata", "pipeline-tiny"))); err != nil {
			t.Fatal(err)
		}
		uiBridgeRun(t, b.dir, env, "pipeline", "run", "tiny.yaml")
		do("reopen pipelines", chromedp.Navigate(base+"/pipelines"))
		waitJS("execution listed", `document.querySelectorAll('table.pipelines tbody tr').length === 1`)
		ran, idle, edges := evalInt(`document.querySelectorAll('svg.graph g.step.ok').length`),
			evalInt(`document.querySelectorAll('svg.graph g.step.idle').length`), evalInt(`document.querySelectorAll('svg.graph line').length`)
		if ran != 3 || idle != 1 || edges != 3 {
			t.Errorf("step graph: %d succeeded, %d not run, %d edges; want 3, 1, 3", ran, idle, edges)
		}
	}
	shot("pipelines")
	noErrors("pipelines")

	// Promote iris v2 to Production from the dashboard.
	do("open the model page", chromedp.Navigate(base+"/models/iris"), chromedp.WaitVisible(chromedp.CSS(`a[href^="/ui/login"]`)))
	if n := evalInt(`document.querySelectorAll('form.promote').length`); n != 0 {
		t.Fatal("promote offered before signing in")
	}
	do("open sign-in", chromedp.Click(chromedp.CSS(`a[href^="/ui/login"]`)), chromedp.WaitVisible(chromedp.CSS(`input[name="token"]`)))
	do("sign in", chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), uiToken), chromedp.Submit(chromedp.CSS(`input[name="token"]`)))
	do("signed in", chromedp.WaitVisible(chromedp.CSS(`tr.version[data-version="2"] form.promote button`)))
	do("promote",
		chromedp.SetValue(chromedp.CSS(`tr.version[data-version="2"] form.promote select`), "Production"),
		chromedp.Click(chromedp.CSS(`tr.version[data-version="2"] form.promote input[name="archive_existing"]`)),
		chromedp.Click(chromedp.CSS(`tr.version[data-version="2"] form.promote button`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
	)
	if text := evalString(`document.querySelector('.summary').textContent`); text != "Move iris version 2 to Production, archiving the versions now in Production." {
		t.Errorf("confirmation says %q", text)
	}
	do("confirm", chromedp.Click(chromedp.CSS(`#confirm`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	poll(t, 20*time.Second, "iris/Production answering with v2", func() bool {
		code, v, _ := b.invokeCSV("iris/Production", "5.1,3.5,1.4,0.2")
		return code == 200 && v == "2"
	})
	// The endpoint page shows the new version, and the promotion.
	do("open the endpoint page", chromedp.Navigate(base+"/endpoints/iris/Production"))
	waitJS("endpoint page shows v2 and the promotion", `document.querySelector('b.weights').textContent === 'v2 100%' && [...document.querySelectorAll('ul.events li')].some(li => li.textContent.includes('v1 → v2'))`)
	waitJS("charts with both versions", `(() => { const f = document.getElementById('chart-traffic'); return f && f.dataset.drawn && JSON.parse(f.dataset.chart).labels.length === 2; })()`)
	waitJS("the promotion marked on the charts", `['traffic','errors','latency'].every(id => { const f = document.getElementById('chart-' + id); return f && JSON.parse(f.dataset.chart).marks.some(m => m.text.includes('v1 → v2')) && +f.dataset.marksDrawn >= 2; })`)
	shot("endpoint")
	noErrors("promotion")
	do("open the model page", chromedp.Navigate(base+"/models/iris"), chromedp.WaitVisible(chromedp.CSS(`tr.version[data-version="2"][data-stage="Production"]`)))
	shot("model")
	noErrors("model")

	// bridge ui for the running Bridge: its serving state and last pass.
	checkReadOnlyUI(t, b.dir, env, b.router, true)

	// bridge ui on the home folder alone: bridge run stopped (it writes the
	// time series on the way out), the serving state from the deploy tags.
	if err := b.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("bridge demo did not stop\n%s", b.log)
	}
	checkReadOnlyUI(t, b.dir, env, b.router, false)
}

// checkReadOnlyUI runs bridge ui in dir for the Bridge at router (running,
// or stopped: then only the home folder) and checks what it shows and
// refuses.
func checkReadOnlyUI(t *testing.T, dir string, env []string, router string, running bool) {
	t.Helper()
	addr := runFreeAddr(t)
	cmd := exec.Command(runBinary(t), "ui", "--addr", addr, "--bridge", router)
	cmd.Dir, cmd.Env = dir, env
	out := &runLog{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	poll(t, 20*time.Second, "bridge ui answering", func() bool { code, _ := get("/ui/"); return code == 200 })
	source := "from the registry"
	if running {
		source = "Last reconcile pass"
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/ui/", []string{source, "v2 100%", "read-only", "&lt;img src=x onerror=alert(1)&gt;"}},
		{"/ui/monitoring", []string{"iris-drift", "CompletedWithViolations"}},
		{"/ui/models/iris", []string{"Production", "read-only", "accuracy"}},
	}
	if !running { // bridge run writes the time series every minute and on exit
		tests = append(tests, struct {
			path string
			want []string
		}{"/ui/endpoints/iris/Production?range=day", []string{`data-points="`, "v1 → v2"}})
	}
	for _, tt := range tests {
		code, body := get(tt.path)
		if code != 200 {
			t.Errorf("bridge ui %s: %d\n%s", tt.path, code, out)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("bridge ui %s lacks %q", tt.path, w)
			}
		}
		if strings.Contains(body, `data-points="0" id="chart-traffic"`) || strings.Contains(body, "form.promote") || strings.Contains(body, `class="inline promote"`) {
			t.Errorf("bridge ui %s: no history or actions offered", tt.path)
		}
	}
	if _, body := get("/ui/endpoints/iris/Production"); !running && (!strings.Contains(body, `id="chart-traffic"`) || strings.Contains(body, "No traffic in the last hour")) {
		t.Errorf("bridge ui: the endpoint's history did not come from the time-series file")
	}
	resp, err := http.PostForm("http://"+addr+"/ui/login", url.Values{"token": {uiToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("bridge ui sign-in: %d, want 403", resp.StatusCode)
	}
}

func TestDashboardBadSettings(t *testing.T) {
	dir := t.TempDir()
	env := uiDefaultEnv(dir)
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"bad sample interval", []string{"run", "--addr", runFreeAddr(t), "--registry-addr", runFreeAddr(t)}, "BRIDGE_UI_SAMPLE_INTERVAL_S=fast", "BRIDGE_UI_SAMPLE_INTERVAL_S"},
		{"bad refresh", []string{"ui", "--addr", runFreeAddr(t)}, "BRIDGE_UI_REFRESH_S=0", "BRIDGE_UI_REFRESH_S"},
		{"bad listen address", []string{"ui", "--addr", "256.0.0.1:99999"}, "", "pick another address with --addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(runBinary(t), tt.args...)
			cmd.Dir = dir
			cmd.Env = append(env, tt.env)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("bridge %s did not exit", tt.args[0])
			}
			if err == nil || !strings.Contains(string(out), tt.want) {
				t.Fatalf("bridge %s: err %v, output:\n%s\nwant an error naming %s", tt.args[0], err, out, tt.want)
			}
		})
	}
}

// insertRawModel writes a registered model and one Production version
// straight into the registry database at path, bypassing the API's name
// checks, and bumps the change counter so bridge run notices.
func insertRawModel(t *testing.T, path, name, source string) {
	t.Helper()
	db, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UnixMilli()
	src := (&url.URL{Scheme: "file", Path: source}).String()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO registered_models(name, description, created_ms, updated_ms, last_version) VALUES (?, ?, ?, ?, 1)`, []any{name, name, now, now}},
		{`INSERT INTO model_versions(model_id, version, source, description, stage, created_ms, updated_ms) SELECT id, 1, ?, ?, 'Production', ?, ? FROM registered_models WHERE name = ?`, []any{src, name, now, now, name}},
		{`UPDATE registry_meta SET seq = seq + 1 WHERE id = 1`, nil},
	} {
		if _, err := db.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("insert model %q: %v", name, err)
		}
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// repoRoot is the module root (two levels above this file).
func repoRoot(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}
