package native

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/serving"
)

// writeModel writes an MLflow model directory with the bridge_linear flavor.
func writeModel(t *testing.T, modelJSON, signature string) string {
	t.Helper()
	dir := t.TempDir()
	mlmodel := "flavors:\n  bridge_linear:\n    data: model.json\n"
	if signature != "" {
		mlmodel += "signature:\n  inputs: '" + signature + "'\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), []byte(modelJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t *testing.T, modelJSON, signature string) serving.Model {
	t.Helper()
	m, err := loadSpec(context.Background(), serving.LoadSpec{Name: "m", Version: 1, Dir: writeModel(t, modelJSON, signature)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

const (
	linearJSON = `{"kind": "linear_regression", "coefficients": [2, -1, 0.5], "intercept": 1}`
	binaryJSON = `{"kind": "logistic_regression", "coefficients": [[1, -2]], "intercepts": [0.5], "classes": ["no", "yes"]}`
	multiJSON  = `{"kind": "logistic_regression", "coefficients": [[1, 0], [0, 1], [-1, -1]], "intercepts": [0, 0, 0.5], "classes": [10, 20, 30]}`
)

func post(t *testing.T, url, ct, accept, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestPredictions checks predictions against values computed by hand:
// linear 2a - b + 0.5c + 1; binary 1a - 2b + 0.5 > 0 → "yes";
// multinomial argmax of (a, b, 0.5 - a - b) over classes 10, 20, 30.
func TestPredictions(t *testing.T) {
	tests := []struct {
		name   string
		model  string
		sig    string
		ct     string
		accept string
		body   string
		want   string
	}{
		{"linear inputs", linearJSON, "", "application/json", "",
			`{"inputs": [[1, 2, 3], [0, 0, 0], [-1, 4, 2]]}`, `{"predictions": [2.5, 1.0, -4.0]}`},
		{"linear csv in csv out", linearJSON, "", "text/csv", "text/csv",
			"1,2,3\n0,0,0\n", "2.5\n1.0\n"},
		{"linear records reordered by signature", linearJSON,
			`[{"name": "a", "type": "double"}, {"name": "b", "type": "double"}, {"name": "c", "type": "double"}]`,
			"application/json", "", `{"dataframe_records": [{"c": 3, "b": 2, "a": 1}]}`, `{"predictions": [2.5]}`},
		{"linear split reordered by signature", linearJSON,
			`[{"name": "a", "type": "double"}, {"name": "b", "type": "double"}, {"name": "c", "type": "double"}]`,
			"application/json", "", `{"dataframe_split": {"columns": ["b", "c", "a", "extra"], "data": [[4, 2, -1, 99]]}}`, `{"predictions": [-4.0]}`},
		{"linear csv with header reordered", linearJSON,
			`[{"name": "a", "type": "double"}, {"name": "b", "type": "double"}, {"name": "c", "type": "double"}]`,
			"text/csv", "", "c,a,b\n3,1,2\n", `{"predictions": [2.5]}`},
		{"binary instances", binaryJSON, "", "application/json", "",
			`{"instances": [[1, 1], [3, 1], [0, 0.25]]}`, `{"predictions": ["no", "yes", "no"]}`},
		{"binary csv out", binaryJSON, "", "application/json", "text/csv",
			`{"dataframe_split": {"data": [[3, 1], [1, 1]]}}`, "yes\nno\n"},
		{"multinomial keeps numeric labels", multiJSON, "", "application/json", "",
			`{"inputs": {"a": [2, 0, -1, 1], "b": [1, 3, -1, 1]}}`, `{"predictions": [10, 20, 30, 10]}`},
		{"multinomial csv in", multiJSON, "", "text/csv; charset=utf-8", "",
			"-1,-1\n", `{"predictions": [30]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(load(t, tt.model, tt.sig))
			defer srv.Close()
			code, _, body := post(t, srv.URL, tt.ct, tt.accept, tt.body)
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			if strings.TrimSpace(body) != strings.TrimSpace(tt.want) {
				t.Fatalf("body = %q, want %q", body, tt.want)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	sig := `[{"name": "a", "type": "double"}, {"name": "b", "type": "double"}, {"name": "c", "type": "double"}]`
	tests := []struct {
		name   string
		sig    string
		ct     string
		body   string
		status int
		msg    string
	}{
		{"too few features", "", "application/json", `{"inputs": [[1, 2]]}`, 400, "the model expects 3 features per row, got 2"},
		{"too many features with names", sig, "application/json", `{"inputs": [[1, 2, 3, 4]]}`, 400, `expects 3 features per row ("a", "b", "c"), got 4`},
		{"missing named column", sig, "application/json", `{"dataframe_records": [{"a": 1, "b": 2}]}`, 400, `missing column "c"`},
		{"malformed", "", "application/json", `{"inputs": [[1, 2, `, 400, "malformed JSON"},
		{"wrong content type", "", "text/plain", `1,2,3`, 415, "application/json or text/csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(load(t, linearJSON, tt.sig))
			defer srv.Close()
			code, ct, body := post(t, srv.URL, tt.ct, "", tt.body)
			if code != tt.status {
				t.Fatalf("status %d, want %d: %s", code, tt.status, body)
			}
			var e struct {
				Code    string `json:"error_code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || ct != "application/json" {
				t.Fatalf("error body %q (%s) is not MLflow error JSON: %v", body, ct, err)
			}
			if e.Code != "BAD_REQUEST" || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error = %+v, want BAD_REQUEST containing %q", e, tt.msg)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	m := load(t, linearJSON, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64)
		m.ServeHTTP(w, r)
	}))
	defer srv.Close()
	code, _, body := post(t, srv.URL, "application/json", "", `{"inputs": [`+strings.Repeat("[1, 2, 3], ", 20)+`[1, 2, 3]]}`)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "over 64 bytes") {
		t.Fatalf("got %d %s, want 413", code, body)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		model string
		sig   string
		msg   string
	}{
		{"not json", `{"kind": `, "", "parse model.json"},
		{"unknown field", `{"kind": "linear_regression", "coefficients": [1], "coef": [1]}`, "", `unknown field "coef"`},
		{"no kind", `{"coefficients": [1]}`, "", `has no "kind"`},
		{"bad kind", `{"kind": "svm", "coefficients": [1]}`, "", `kind "svm" is not supported`},
		{"no coefficients", `{"kind": "linear_regression"}`, "", `no "coefficients"`},
		{"empty linear", `{"kind": "linear_regression", "coefficients": []}`, "", "is empty"},
		{"linear with classes", `{"kind": "linear_regression", "coefficients": [1], "classes": [0, 1]}`, "", `not "intercepts" or "classes"`},
		{"ragged logistic", `{"kind": "logistic_regression", "coefficients": [[1, 2], [3]], "intercepts": [0, 0], "classes": [0, 1]}`, "", "row 1 has 1 values but row 0 has 2"},
		{"intercepts mismatch", `{"kind": "logistic_regression", "coefficients": [[1, 2]], "intercepts": [0, 1], "classes": [0, 1]}`, "", `1 coefficient rows but 2 "intercepts"`},
		{"binary with 3 classes", `{"kind": "logistic_regression", "coefficients": [[1]], "intercepts": [0], "classes": [0, 1, 2]}`, "", "needs exactly 2"},
		{"multinomial classes mismatch", `{"kind": "logistic_regression", "coefficients": [[1], [2], [3]], "intercepts": [0, 0, 0], "classes": [0, 1]}`, "", `3 coefficient rows but 2 "classes"`},
		{"duplicate classes", `{"kind": "logistic_regression", "coefficients": [[1]], "intercepts": [0], "classes": ["a", "a"]}`, "", "listed twice"},
		{"object class", `{"kind": "logistic_regression", "coefficients": [[1]], "intercepts": [0], "classes": [{}, 1]}`, "", "want a string, number or boolean"},
		{"signature count", linearJSON, `[{"name": "a", "type": "double"}]`, "signature names 1 features but the model has 3"},
		{"feature_names disagree with signature", `{"kind": "linear_regression", "coefficients": [1], "feature_names": ["x"]}`, `[{"name": "y", "type": "double"}]`, `names the features ["y"] but model.json names ["x"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadSpec(context.Background(), serving.LoadSpec{Name: "m", Version: 2, Dir: writeModel(t, tt.model, tt.sig)})
			if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "load m/2") {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.msg)
			}
		})
	}
}

func TestLoadDataPath(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  bridge_linear:\n    data: ../model.json\n"), 0o644)
	_, err := loadSpec(context.Background(), serving.LoadSpec{Name: "m", Version: 1, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "relative path inside the model directory") {
		t.Fatalf("err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "MLmodel"), []byte("flavors:\n  bridge_linear:\n    data: weights.json\n"), 0o644)
	_, err = loadSpec(context.Background(), serving.LoadSpec{Name: "m", Version: 1, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "weights.json") {
		t.Fatalf("err = %v", err)
	}
}

func TestPingClose(t *testing.T) {
	m := load(t, linearJSON, "")
	if err := m.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Close(context.Background())
	if err := m.Ping(context.Background()); err == nil {
		t.Fatal("a closed model answers its health check")
	}
}

func BenchmarkServeHTTP(b *testing.B) {
	m, err := Parse([]byte(multiJSON))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		m.ServeHTTP(discard{h: http.Header{}}, req)
	}
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

// loadSpec loads a model with a Runtimes set holding this runtime only.
func loadSpec(ctx context.Context, spec serving.LoadSpec) (serving.Model, error) {
	var rts serving.Runtimes
	rts.Register(Flavor, 0, Runtime{})
	return rts.Load(ctx, spec)
}
