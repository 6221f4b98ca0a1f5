package python

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/serving/python/pythontest"
)

// TestNamedColumnsFollowTheSignature: a request that names its columns is
// checked against the model signature as the native runtime does
// (scoring.Frame.Select): columns in another order are put in order, extra
// ones are dropped, and a missing one is a 400 naming what the model
// expects — never a silent prediction from the values in request order.
func TestNamedColumnsFollowTheSignature(t *testing.T) {
	py := pythontest.Interpreter(t)
	for _, arrayFit := range []bool{false, true} {
		t.Run(fmt.Sprintf("array_fit=%v", arrayFit), func(t *testing.T) {
			namedColumnsFollowTheSignature(t, py, arrayFit)
		})
	}
}

// namedColumnsFollowTheSignature runs the cases against a model fitted on
// a DataFrame (scikit-learn knows the feature names and checks them itself)
// or on an array (it knows none: only the signature can tell).
func namedColumnsFollowTheSignature(t *testing.T, py string, arrayFit bool) {
	home := t.TempDir()
	m := pythontest.TrainSklearn(t, py, filepath.Join(home, "m"), pythontest.SklearnSpec{Seed: 21, ArrayFit: arrayFit})
	_, srv := load(t, New(Options{NoPrestart: true, Python: py, Server: ServerBridge}), home, "cols", 1, m.Dir)

	rows := m.Rows[:3]
	want := m.Predictions[:3]
	split := func(cols []string, data [][]float64) []byte {
		b, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": cols, "data": data}})
		return b
	}
	records := func(cols []string, data [][]float64) []byte {
		var recs []map[string]float64
		for _, r := range data {
			rec := map[string]float64{}
			for i, c := range cols {
				rec[c] = r[i]
			}
			recs = append(recs, rec)
		}
		b, _ := json.Marshal(map[string]any{"dataframe_records": recs})
		return b
	}
	csvBody := func(cols []string, data [][]float64) []byte {
		var b strings.Builder
		b.WriteString(strings.Join(cols, ",") + "\n")
		for _, r := range data {
			for i, v := range r {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprint(&b, v)
			}
			b.WriteByte('\n')
		}
		return []byte(b.String())
	}
	reversed := slices.Clone(m.Columns)
	slices.Reverse(reversed)
	reversedRows := make([][]float64, len(rows))
	for i, r := range rows {
		reversedRows[i] = slices.Clone(r)
		slices.Reverse(reversedRows[i])
	}
	wrong := make([]string, len(m.Columns))
	for i := range wrong {
		wrong[i] = fmt.Sprintf("x%d", i)
	}
	extra := append(slices.Clone(m.Columns), "customer_id")
	extraRows := make([][]float64, len(rows))
	for i, r := range rows {
		extraRows[i] = append(slices.Clone(r), 1000+float64(i))
	}

	tests := []struct {
		name, ctype string
		body        []byte
		missing     string // "" = 200 with scikit-learn's predictions
	}{
		{"split in order", "application/json", split(m.Columns, rows), ""},
		{"split reversed", "application/json", split(reversed, reversedRows), ""},
		{"split with an extra column", "application/json", split(extra, extraRows), ""},
		{"split without names", "application/json", split(nil, rows), ""},
		{"split with wrong names", "application/json", split(wrong, rows), m.Columns[0]},
		{"split missing the last column", "application/json", split(m.Columns[:len(m.Columns)-1], func() [][]float64 {
			var out [][]float64
			for _, r := range rows {
				out = append(out, r[:len(r)-1])
			}
			return out
		}()), m.Columns[len(m.Columns)-1]},
		{"records reversed", "application/json", records(reversed, reversedRows), ""},
		{"records with wrong names", "application/json", records(wrong, rows), m.Columns[0]},
		{"csv header reversed", "text/csv", csvBody(reversed, reversedRows), ""},
		{"csv header with wrong names", "text/csv", csvBody(wrong, rows), m.Columns[0]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := post(t, srv.URL, tt.ctype, tt.body)
			if tt.missing == "" {
				if got := predictions(t, a); !slices.Equal(got, want) {
					t.Fatalf("predictions %v, scikit-learn says %v", got, want)
				}
				return
			}
			var e struct {
				ErrorCode string `json:"error_code"`
				Message   string `json:"message"`
			}
			if a.status != 400 || json.Unmarshal(a.body, &e) != nil || e.ErrorCode != "BAD_REQUEST" {
				t.Fatalf("answer %d %s, want 400 BAD_REQUEST", a.status, a.body)
			}
			if wantMsg := fmt.Sprintf("missing column %q: the model expects columns", tt.missing); !strings.HasPrefix(e.Message, wantMsg) {
				t.Fatalf("message %q, want it to start with %q", e.Message, wantMsg)
			}
		})
	}
}
