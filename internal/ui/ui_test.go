package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/tsdb"
)

// fakeStatus serves a fixed snapshot or an error.
type fakeStatus struct {
	snap Snapshot
	err  error
}

func (f fakeStatus) Snapshot(context.Context) (Snapshot, error) { return f.snap, f.err }

type fakeRegistry struct {
	mu  sync.Mutex
	vs  []model.ModelVersion
	err error
	log []string
}

func (f *fakeRegistry) Versions(context.Context) ([]model.ModelVersion, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.ModelVersion(nil), f.vs...), f.err
}

func (f *fakeRegistry) TransitionStage(_ context.Context, name string, v int, stage string, archive bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("transition %s %d %s %v", name, v, stage, archive))
	return nil
}

func (f *fakeRegistry) SetAlias(_ context.Context, name, alias string, v int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("alias %s %s %d", name, alias, v))
	return nil
}

func (f *fakeRegistry) SetVersionTag(_ context.Context, name string, v int, k, val string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("tag %s %d %s=%s", name, v, k, val))
	return nil
}

const xss = `<script>alert(1)</script>`

func testSetup(t testing.TB, n int) (Options, *fakeRegistry) {
	t.Helper()
	now := time.Now()
	db, _ := tsdb.Open(tsdb.Options{})
	var eps []Endpoint
	reg := &fakeRegistry{}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("model-%04d", i)
		if i == 0 {
			name = xss
		}
		eps = append(eps, Endpoint{Model: name, Slot: "Production", Name: "brdg-" + name + "-Production", State: "Ready",
			Versions: []model.WeightedVersion{{Version: 1, Weight: 1}}, URL: "http://127.0.0.1:3000/" + url.PathEscape(name) + "/Production/invocations"})
		reg.vs = append(reg.vs, model.ModelVersion{Name: name, Version: 1, Stage: "Production", Tags: map[string]string{"accuracy": "0.93", "owner": xss}, Created: now.Add(-time.Hour)})
		for m := 0; m < 30; m++ {
			at := now.Add(time.Duration(m-30) * time.Minute)
			for _, v := range []string{"", "1"} {
				db.Add(at, tsdb.Key{Model: name, Slot: "Production", Version: v}, tsdb.Sample{Requests: float64(10 + m), Errors: 1, Latency: []float64{0, 0, 5, 5}})
			}
		}
	}
	db.AddEvent(xss, "Production", tsdb.Event{T: now.Add(-10 * time.Minute), Text: "v1 → " + xss})
	return Options{
		Status:   fakeStatus{snap: Snapshot{Target: "localhost", Source: "target", Endpoints: eps, LastPass: &Pass{At: now, Duration: time.Millisecond, Actions: []string{"done route " + xss}}}},
		Registry: reg, Series: db, Actions: reg, Token: "s3cret",
	}, reg
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPagesEscapeAndRender(t *testing.T) {
	o, _ := testSetup(t, 3)
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	escaped := "&lt;script&gt;alert(1)&lt;/script&gt;"
	tests := []struct {
		path string
		code int
		want []string
	}{
		{"/ui/", 200, []string{escaped, "model-0001", "copy curl", `data-points="`, "Last reconcile pass", "done route " + escaped, "Latest route changes", "v1 → " + escaped}},
		{"/ui/models/" + url.PathEscape(xss), 200, []string{escaped, "accuracy", "0.93", "v1 → " + escaped}},
		{"/ui/endpoints/" + url.PathEscape(xss) + "/Production?range=day", 200, []string{escaped, `id="chart-traffic"`, "Promotions"}},
		{"/ui/endpoints/nope/Production", 404, []string{"Not served now"}},
		{"/ui/endpoints/" + url.PathEscape(xss) + "/Production?range=month", 200, []string{"is not one of hour, day, week"}},
		{"/ui/monitoring", 200, []string{"No monitoring schedules yet"}},
		{"/ui/pipelines", 200, []string{"No pipelines yet"}},
		{"/ui/static/vendor/uPlot.iife.min.js", 200, []string{"uPlot"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := get(t, srv.Client(), srv.URL+tt.path)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			if strings.Contains(body, xss) {
				t.Errorf("body contains the unescaped %s", xss)
			}
		})
	}
}

func TestRegistryDownAndNoData(t *testing.T) {
	down := Options{Status: fakeStatus{err: errors.New("connection refused")}, Registry: &fakeRegistry{err: errors.New("dial tcp 127.0.0.1:5000: connection refused")}}
	srv := httptest.NewServer(New(down))
	defer srv.Close()
	for _, p := range []string{"/ui/", "/ui/models/iris", "/ui/endpoints/iris/Production", "/ui/monitoring", "/ui/pipelines"} {
		code, body := get(t, srv.Client(), srv.URL+p)
		if code >= 500 {
			t.Fatalf("%s: status %d", p, code)
		}
		if p == "/ui/" && (!strings.Contains(body, `class="banner"`) || !strings.Contains(body, "Registry unavailable") || !strings.Contains(body, "No endpoints yet")) {
			t.Fatalf("%s: no banner or empty state:\n%s", p, body)
		}
	}
	empty := httptest.NewServer(New(Options{}))
	defer empty.Close()
	if code, body := get(t, empty.Client(), empty.URL+"/ui/"); code != 200 || !strings.Contains(body, "No endpoints yet") || !strings.Contains(body, "read-only") {
		t.Fatalf("no sources: %d\n%s", code, body)
	}
}

func TestPagination(t *testing.T) {
	o, _ := testSetup(t, 120)
	o.PageSize = 50
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	rows := regexp.MustCompile(`<tr class="endpoint"`)
	tests := []struct {
		query string
		rows  int
		want  string
	}{
		{"", 50, "page 1 of 3"},
		{"?page=3", 20, "page 3 of 3"},
		{"?page=99", 20, "page 3 of 3"},
		{"?page=-1", 50, "page 1 of 3"},
		{"?q=model-010", 10, "page 1 of 1"},
	}
	for _, tt := range tests {
		_, body := get(t, srv.Client(), srv.URL+"/ui/"+tt.query)
		if n := len(rows.FindAllString(body, -1)); n != tt.rows || !strings.Contains(body, tt.want) {
			t.Errorf("%q: %d rows, want %d and %q", tt.query, n, tt.rows, tt.want)
		}
	}
}

// form posts a form with the CSRF cookie's value unless csrf is given.
func post(t *testing.T, c *http.Client, base, path string, vals url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(base+path, vals)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func csrfOf(t *testing.T, c *http.Client, base string) string {
	u, _ := url.Parse(base + "/ui/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == csrfCookie {
			return ck.Value
		}
	}
	t.Fatal("no CSRF cookie")
	return ""
}

func TestActionsNeedTokenCSRFAndConfirmation(t *testing.T) {
	o, reg := testSetup(t, 2)
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get(t, c, srv.URL+"/ui/login")
	csrf := csrfOf(t, c, srv.URL)
	promote := url.Values{"csrf": {csrf}, "action": {"promote"}, "model": {"model-0001"}, "version": {"2"}, "stage": {"Production"}, "confirm": {"yes"}}

	// Not signed in.
	if code, _ := post(t, c, srv.URL, "/ui/actions/apply", promote); code != http.StatusUnauthorized {
		t.Fatalf("apply without a session: %d", code)
	}
	// Wrong token.
	if code, body := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrf}, "token": {"wrong"}}); code != http.StatusUnauthorized || !strings.Contains(body, "not the registry token") {
		t.Fatalf("wrong token: %d", code)
	}
	// Login without CSRF.
	if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"token": {"s3cret"}}); code != http.StatusForbidden {
		t.Fatalf("login without CSRF: %d", code)
	}
	if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrf}, "token": {"s3cret"}, "next": {"https://evil.example/"}}); code != 200 {
		t.Fatalf("login: %d", code)
	}
	// Signed in, but bad CSRF and bad input.
	bad := url.Values{}
	for k, v := range promote {
		bad[k] = v
	}
	bad.Set("csrf", strings.Repeat("0", 64))
	if code, _ := post(t, c, srv.URL, "/ui/actions/apply", bad); code != http.StatusForbidden {
		t.Fatalf("bad CSRF: %d", code)
	}
	for _, tt := range []struct{ k, v string }{{"stage", "Archived"}, {"version", "x"}, {"action", "delete"}} {
		b := url.Values{}
		for k, v := range promote {
			b[k] = v
		}
		b.Set(tt.k, tt.v)
		if code, _ := post(t, c, srv.URL, "/ui/actions/apply", b); code != http.StatusBadRequest {
			t.Fatalf("%s=%s: %d", tt.k, tt.v, code)
		}
	}
	// Confirm page, then apply.
	if code, body := post(t, c, srv.URL, "/ui/actions/confirm", promote); code != 200 || !strings.Contains(body, "Move model-0001 version 2 to Production") {
		t.Fatalf("confirm: %d %s", code, body)
	}
	if len(reg.log) != 0 {
		t.Fatalf("registry written before confirmation: %v", reg.log)
	}
	noConfirm := url.Values{}
	for k, v := range promote {
		noConfirm[k] = v
	}
	noConfirm.Del("confirm")
	if code, _ := post(t, c, srv.URL, "/ui/actions/apply", noConfirm); code != http.StatusBadRequest {
		t.Fatalf("unconfirmed apply: %d", code)
	}
	if code, body := post(t, c, srv.URL, "/ui/actions/apply", promote); code != 200 || !strings.Contains(body, "Done: Move model-0001 version 2 to Production") {
		t.Fatalf("apply: %d", code)
	}
	alias := url.Values{"csrf": {csrf}, "action": {"alias"}, "model": {"model-0001"}, "version": {"2"}, "alias": {"champion"}, "confirm": {"yes"}}
	post(t, c, srv.URL, "/ui/actions/apply", alias)
	approve := url.Values{"csrf": {csrf}, "action": {"approve"}, "model": {"model-0001"}, "version": {"2"}, "confirm": {"yes"}}
	post(t, c, srv.URL, "/ui/actions/apply", approve)
	want := []string{"transition model-0001 2 Production false", "alias model-0001 champion 2", "tag model-0001 2 sagemaker_model_approval_status=Approved"}
	if strings.Join(reg.log, "|") != strings.Join(want, "|") {
		t.Fatalf("registry calls = %q, want %q", reg.log, want)
	}
	// Cross-site posts are refused even with a valid token pair.
	req, _ := http.NewRequest("POST", srv.URL+"/ui/actions/apply", strings.NewReader(promote.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin post: %d", resp.StatusCode)
	}
}

func TestReadOnlyWithoutToken(t *testing.T) {
	o, reg := testSetup(t, 1)
	o.Token = ""
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	_, body := get(t, c, srv.URL+"/ui/models/"+url.PathEscape(xss))
	if strings.Contains(body, "Promote") || !strings.Contains(body, "read-only") {
		t.Fatal("actions offered without a token")
	}
	csrf := csrfOf(t, c, srv.URL)
	if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrf}, "token": {""}}); code != http.StatusForbidden {
		t.Fatalf("login with no token configured: %d", code)
	}
	if code, _ := post(t, c, srv.URL, "/ui/actions/apply", url.Values{"csrf": {csrf}, "action": {"archive"}, "model": {"m"}, "version": {"1"}, "confirm": {"yes"}}); code != http.StatusForbidden || len(reg.log) > 0 {
		t.Fatalf("apply read-only: %d %v", code, reg.log)
	}
}

func TestCaptureDirRecent(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "brdg-iris-Production", "v2", "2026", "01", "02", "03")
	os.MkdirAll(dir, 0o755)
	var lines []byte
	for i := 0; i < 5; i++ {
		lines = capture.AppendLine(lines, &capture.Record{Endpoint: "brdg-iris-Production", EventID: fmt.Sprintf("e%d", i), Time: time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC),
			Input: []byte(`{"inputs": [[1, 2]]}`), InputContentType: "application/json", Output: []byte(`{"predictions": [` + fmt.Sprint(i) + `]}`), OutputContentType: "application/json"})
	}
	lines = append(lines, []byte("{half a line")...)
	os.WriteFile(filepath.Join(dir, "a.jsonl"), lines, 0o644)
	got, err := CaptureDir{Root: root}.Recent(context.Background(), "brdg-iris-Production", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].EventID != "e4" || got[0].Variant != "v2" || !strings.Contains(got[0].Output, "[4]") || !strings.Contains(got[2].Input, "inputs") {
		t.Fatalf("got %+v", got)
	}
	if got, err := (CaptureDir{Root: root}).Recent(context.Background(), "brdg-none-Production", 3); err != nil || len(got) != 0 {
		t.Fatalf("missing endpoint: %v %v", got, err)
	}
	if _, err := (CaptureDir{Root: root}).Recent(context.Background(), "../etc", 3); err == nil {
		t.Fatal("path traversal accepted")
	}
}

func TestLayoutSteps(t *testing.T) {
	g := layoutSteps([]PipelineStep{{Name: "prep"}, {Name: "train", DependsOn: []string{"prep"}}, {Name: "eval", DependsOn: []string{"train"}}, {Name: "check", DependsOn: []string{"eval", "missing"}}, {Name: "loop", DependsOn: []string{"loop"}}})
	if len(g.Nodes) != 5 || len(g.Edges) != 3 {
		t.Fatalf("nodes %d edges %d", len(g.Nodes), len(g.Edges))
	}
	if !(g.Nodes[0].X < g.Nodes[1].X && g.Nodes[1].X < g.Nodes[2].X && g.Nodes[2].X < g.Nodes[3].X) {
		t.Fatalf("columns not by depth: %+v", g.Nodes)
	}
}

func TestCompareHistograms(t *testing.T) {
	bars := compareHistograms([]histBin{{0, 10, 10}}, []histBin{{5, 10, 4}}, 2, 100, 50)
	if len(bars) != 2 || bars[0].Base != 0.5 || bars[1].Base != 0.5 || bars[0].Window != 0 || bars[1].Window != 1 {
		t.Fatalf("%+v", bars)
	}
	if compareHistograms(nil, nil, 10, 100, 50) != nil {
		t.Fatal("empty histograms gave bars")
	}
}

func TestHeadersOnEveryAnswer(t *testing.T) {
	o, _ := testSetup(t, 1)
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	for _, p := range []string{"/ui/", "/ui/endpoints/none/Latest", "/ui/models/none", "/ui/monitoring/none"} {
		resp, err := srv.Client().Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || h.Get("Cache-Control") != "no-store" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s (%d): headers %v", p, resp.StatusCode, h)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	o, _ := testSetup(t, 1)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o.Now = func() time.Time { return now }
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get(t, c, srv.URL+"/ui/login")
	csrf := csrfOf(t, c, srv.URL)
	for i := 0; i < maxFailures; i++ {
		if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrf}, "token": {"guess"}}); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrf}, "token": {"s3cret"}}); code != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d, want 429", maxFailures, code)
	}
	now = now.Add(61 * time.Second)
	if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrf}, "token": {"s3cret"}}); code != http.StatusOK {
		t.Fatalf("a minute later: %d", code)
	}
}

type countingRegistry struct {
	fakeRegistry
	calls int
}

func (c *countingRegistry) Versions(ctx context.Context) ([]model.ModelVersion, error) {
	c.calls++
	return c.fakeRegistry.Versions(ctx)
}

func TestReadsAreSharedBriefly(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reg := &countingRegistry{}
	srv := httptest.NewServer(New(Options{Registry: reg, Now: func() time.Time { return now }}))
	defer srv.Close()
	for i := 0; i < 3; i++ {
		get(t, srv.Client(), srv.URL+"/ui/")
	}
	if reg.calls != 1 {
		t.Fatalf("%d registry reads for 3 pages within %s, want 1", reg.calls, readTTL)
	}
	now = now.Add(readTTL)
	get(t, srv.Client(), srv.URL+"/ui/")
	if reg.calls != 2 {
		t.Fatalf("%d registry reads after %s, want 2", reg.calls, readTTL)
	}
}

func TestModelPageApproval(t *testing.T) {
	o, reg := testSetup(t, 1)
	now := time.Now()
	for i, tags := range []map[string]string{
		1: {ApprovalTag: "PendingManualApproval", "model_quality.regression_metrics.mse.value": "1.5"},
		2: {ApprovalTag: "Rejected"},
		3: {legacyApprovalTag: "Approved"},
		4: {ApprovalTag: "Approved"},
		5: {},
	} {
		if i > 0 {
			reg.vs = append(reg.vs, model.ModelVersion{Name: "churn", Version: i, Stage: "None", Tags: tags, Created: now})
		}
	}
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get(t, c, srv.URL+"/ui/login")
	if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrfOf(t, c, srv.URL)}, "token": {"s3cret"}}); code != 200 {
		t.Fatalf("login: %d", code)
	}
	_, body := get(t, c, srv.URL+"/ui/models/churn")
	rows := regexp.MustCompile(`(?s)<tr class="version" data-version="(\d)".*?</tr>`).FindAllStringSubmatch(body, -1)
	if len(rows) != 5 {
		t.Fatalf("%d version rows, want 5", len(rows))
	}
	tests := []struct {
		version, pill string
		approve       bool
	}{
		{"1", `<span class="pill approval warn">pending approval</span>`, true},
		{"2", `<span class="pill approval bad">rejected</span>`, true},
		{"3", `<span class="pill approval ok">approved</span>`, false},
		{"4", `<span class="pill approval ok">approved</span>`, false},
		{"5", "", true},
	}
	for _, tt := range tests {
		var row string
		for _, r := range rows {
			if r[1] == tt.version {
				row = r[0]
			}
		}
		if tt.pill != "" && !strings.Contains(row, tt.pill) || tt.pill == "" && strings.Contains(row, "pill approval") {
			t.Errorf("v%s: approval pill, want %q:\n%s", tt.version, tt.pill, row)
		}
		if got := strings.Contains(row, `class="inline approve"`); got != tt.approve {
			t.Errorf("v%s: approve offered %v, want %v", tt.version, got, tt.approve)
		}
		if strings.Contains(row, "<dt>"+ApprovalTag+"</dt>") {
			t.Errorf("v%s: the approval tag listed with the other tags", tt.version)
		}
	}
	if !strings.Contains(rows[4][0], "<dt>model_quality.regression_metrics.mse.value</dt><dd>1.5</dd>") {
		t.Errorf("v1: the pipeline's registered metric is not among the training metrics:\n%s", rows[4][0])
	}
}

// approveOnly is a registry whose one write is approval (SageMaker model
// packages).
type approveOnly struct{ *fakeRegistry }

func (approveOnly) ActionKinds() []string { return []string{"approve"} }
func (a approveOnly) Approve(_ context.Context, name string, v int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.log = append(a.log, fmt.Sprintf("approve %s %d", name, v))
	return nil
}

func TestActionKinds(t *testing.T) {
	o, reg := testSetup(t, 2)
	o.Actions = approveOnly{reg}
	srv := httptest.NewServer(New(o))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get(t, c, srv.URL+"/ui/login")
	csrf := csrfOf(t, c, srv.URL)
	if code, _ := post(t, c, srv.URL, "/ui/login", url.Values{"csrf": {csrf}, "token": {"s3cret"}}); code != 200 {
		t.Fatalf("login: %d", code)
	}
	_, body := get(t, c, srv.URL+"/ui/models/model-0001")
	for form, want := range map[string]bool{"promote": false, "alias": false, "archive": false, "approve": true} {
		if got := strings.Contains(body, `class="inline `+form+`"`); got != want {
			t.Errorf("form %s shown %v, want %v", form, got, want)
		}
	}
	promote := url.Values{"csrf": {csrf}, "action": {"promote"}, "model": {"model-0001"}, "version": {"1"}, "stage": {"Production"}, "confirm": {"yes"}}
	if code, body := post(t, c, srv.URL, "/ui/actions/confirm", promote); code != http.StatusBadRequest || !strings.Contains(body, "does not offer promote") {
		t.Errorf("promote on an approve-only registry: %d", code)
	}
	approve := url.Values{"csrf": {csrf}, "action": {"approve"}, "model": {"model-0001"}, "version": {"1"}, "confirm": {"yes"}}
	if code, body := post(t, c, srv.URL, "/ui/actions/apply", approve); code != 200 || !strings.Contains(body, "Done: Approve model-0001 version 1") {
		t.Fatalf("approve: %d", code)
	}
	if strings.Join(reg.log, "|") != "approve model-0001 1" {
		t.Fatalf("registry calls %q", reg.log)
	}
}

func TestOverviewUnservedModels(t *testing.T) {
	now := time.Now()
	reg := &fakeRegistry{vs: []model.ModelVersion{
		{Name: "churn", Version: 1, Stage: "Production", Tags: map[string]string{model.TagDeployState: model.StateFailed, model.TagDeployError: "fetch artifact: " + xss}, Created: now},
		{Name: "churn", Version: 2, Stage: "Staging", Tags: map[string]string{model.TagDeployState: model.StateUpdating}, Created: now},
		{Name: xss, Version: 1, Stage: "Production", Created: now},
		{Name: "fresh", Version: 1, Stage: "None", Created: now},
		{Name: "old", Version: 1, Stage: "Archived", Created: now},
		{Name: "iris", Version: 1, Stage: "Production", Created: now},
	}}
	st := fakeStatus{snap: Snapshot{Target: "localhost", Endpoints: []Endpoint{{Model: "iris", Slot: "Production", State: "Ready"}},
		LastPass: &Pass{At: now, Failed: map[string]string{xss: "Invalid model name " + xss}}}}
	srv := httptest.NewServer(New(Options{Status: st, Registry: reg}))
	defer srv.Close()
	_, body := get(t, srv.Client(), srv.URL+"/ui/")
	rows := regexp.MustCompile(`(?s)<tr class="unserved">.*?</tr>`).FindAllString(body, -1)
	esc := "&lt;script&gt;alert(1)&lt;/script&gt;"
	want := []struct{ name, state, err string }{
		{esc, "FAILED", "Invalid model name " + esc},
		{"churn", "FAILED", "fetch artifact: " + esc},
		{"fresh", "not deployed yet", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d models without an endpoint, want %d:\n%s", len(rows), len(want), strings.Join(rows, "\n"))
	}
	for i, w := range want {
		for _, s := range []string{">" + w.name + "</a>", w.state, w.err} {
			if !strings.Contains(rows[i], s) {
				t.Errorf("row %d lacks %q:\n%s", i, s, rows[i])
			}
		}
	}
	if strings.Contains(body, xss) {
		t.Error("unescaped script")
	}
}
