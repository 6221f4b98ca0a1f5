package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// TestHTTPContractIsTheSameForEveryRuntime sends the same requests to a
// native model and a scikit-learn model behind the router: CSV answers for
// Accept: text/csv, 415 for a content type the scoring protocol does not
// speak and for a charset other than UTF-8, and the accepted variants.
func TestHTTPContractIsTheSameForEveryRuntime(t *testing.T) {
	py := pythontest.Interpreter(t)
	b := startPyBridge(t, py)
	// Fitted on an array, as scripts/train_churn.py does: scikit-learn
	// knows no feature names, only the signature does.
	sk := pythontest.TrainSklearn(t, py, filepath.Join(t.TempDir(), "sk"), pythontest.SklearnSpec{Seed: 31, ArrayFit: true})
	nv := b.register(t, "native", linearDirWithSignature(t, sk.Columns), "")
	pv := b.register(t, "python", sk.Dir, "")
	b.promote(t, "native", nv, model.StageProduction)
	b.promote(t, "python", pv, model.StageProduction)
	rows := `{"inputs": [[1, 2, 3, 4], [0.5, -1, 2, 0]]}`
	reordered := `{"dataframe_split": {"columns": ["f3", "f2", "f1", "f0"], "data": [[4, 3, 2, 1], [0, 2, -1, 0.5]]}}`
	errors := map[string]string{} // case → the native runtime's message
	b.waitServing(t, "native", model.StageProduction, nv, []byte(rows))
	b.waitServing(t, "python", model.StageProduction, pv, []byte(rows))

	tests := []struct {
		name, ctype, accept, body string
		status                    int
		answerType                string // Content-Type of a 200 answer
	}{
		{"json", "application/json", "", rows, 200, "application/json"},
		{"json utf-8", "application/json; charset=utf-8", "", rows, 200, "application/json"},
		{"csv in", "text/csv", "", "1,2,3,4\n0.5,-1,2,0\n", 200, "application/json"},
		{"csv in utf-8", "text/csv; charset=UTF-8", "", "1,2,3,4\n0.5,-1,2,0\n", 200, "application/json"},
		{"Accept text/csv", "application/json", "text/csv", rows, 200, "text/csv"},
		{"Accept csv first", "application/json", "text/csv, application/json;q=0.5", rows, 200, "text/csv"},
		{"xml", "application/xml", "", "<rows/>", 415, ""},
		{"latin-1", "application/json; charset=latin-1", "", rows, 415, ""},
		{"csv latin-1", "text/csv; charset=iso-8859-1", "", "1,2,3,4\n", 415, ""},
		{"unknown parameter", "application/json; format=pandas-split", "", rows, 415, ""},
		{"named columns reordered", "application/json", "", reordered, 200, "application/json"},
		{"wrong column names", "application/json", "", `{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[1, 2, 3, 4]]}}`, 400, ""},
		{"a signature column missing", "application/json", "", `{"dataframe_records": [{"f0": 1, "f1": 2, "f2": 3}]}`, 400, ""},
	}
	for _, runtime := range []string{"native", "python"} {
		var jsonPreds []json.RawMessage
		for _, tt := range tests {
			t.Run(runtime+"/"+tt.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, b.router.URL+"/"+runtime+"/Production/invocations", strings.NewReader(tt.body))
				req.Header.Set("Content-Type", tt.ctype)
				if tt.accept != "" {
					req.Header.Set("Accept", tt.accept)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				if tt.status != 200 {
					var e struct {
						ErrorCode string `json:"error_code"`
						Message   string `json:"message"`
					}
					if json.Unmarshal(body, &e) != nil || e.Message == "" || e.ErrorCode != "BAD_REQUEST" {
						t.Fatalf("error answer is not MLflow's error JSON: %s", body)
					}
					// Both runtimes say the same thing.
					if runtime == "native" {
						errors[tt.name] = e.Message
					} else if e.Message != errors[tt.name] {
						t.Fatalf("message %q, the native runtime says %q", e.Message, errors[tt.name])
					}
					return
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.answerType) {
					t.Fatalf("Content-Type %q, want %s", ct, tt.answerType)
				}
				if resp.Header.Get("X-Bridge-Model-Version") == "" {
					t.Fatal("no X-Bridge-Model-Version header")
				}
				if tt.answerType == "application/json" {
					var doc struct{ Predictions []json.RawMessage }
					if err := json.Unmarshal(body, &doc); err != nil || len(doc.Predictions) != 2 {
						t.Fatalf("answer %s: want 2 predictions", body)
					}
					if tt.body == reordered {
						// The same rows as rows, columns named in another order.
						for i := range doc.Predictions {
							if string(doc.Predictions[i]) != string(jsonPreds[i]) {
								t.Fatalf("reordered columns: predictions %s, in order %s", body, jsonPreds)
							}
						}
						return
					}
					jsonPreds = doc.Predictions
					return
				}
				lines := strings.Split(strings.TrimRight(string(body), "\n"), "\n")
				if len(lines) != len(jsonPreds) {
					t.Fatalf("CSV answer %q: want %d lines", body, len(jsonPreds))
				}
				for i, l := range lines {
					if l != string(jsonPreds[i]) {
						t.Fatalf("CSV line %d = %q, JSON prediction %s", i, l, jsonPreds[i])
					}
				}
			})
		}
	}
}

// linearDirWithSignature is a native linear model whose signature names
// its four features.
func linearDirWithSignature(t *testing.T, columns []string) string {
	t.Helper()
	dir := runLinearDir(t, 2)
	var inputs []map[string]string
	for _, c := range columns {
		inputs = append(inputs, map[string]string{"type": "double", "name": c})
	}
	sig, _ := json.Marshal(inputs)
	mlmodel := "flavors:\n  bridge_linear:\n    data: model.json\nsignature:\n  inputs: '" + string(sig) + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "MLmodel"), []byte(mlmodel), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
