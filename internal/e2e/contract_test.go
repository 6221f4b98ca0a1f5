package e2e

import (
	"encoding/json"
	"io"
	"net/http"
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
	sk := pythontest.TrainSklearn(t, py, filepath.Join(t.TempDir(), "sk"), pythontest.SklearnSpec{Seed: 31})
	nv := b.register(t, "native", runLinearDir(t, 2), "")
	pv := b.register(t, "python", sk.Dir, "")
	b.promote(t, "native", nv, model.StageProduction)
	b.promote(t, "python", pv, model.StageProduction)
	rows := `{"inputs": [[1, 2, 3, 4], [0.5, -1, 2, 0]]}`
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
					var e struct{ ErrorCode, Message string }
					if json.Unmarshal(body, &e) != nil || e.Message == "" {
						t.Fatalf("error answer is not MLflow's error JSON: %s", body)
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
