package demo

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/serving"
	"github.com/bridgeops/bridge/internal/serving/native"
)

func TestIris(t *testing.T) {
	d, err := Iris()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.X) != 150 || len(d.Features) != 4 {
		t.Fatalf("iris has %d rows, %d features; want 150, 4", len(d.X), len(d.Features))
	}
	count := map[string]int{}
	for _, y := range d.Y {
		count[y]++
	}
	if want := map[string]int{"setosa": 50, "versicolor": 50, "virginica": 50}; !reflect.DeepEqual(count, want) {
		t.Fatalf("classes %v, want %v", count, want)
	}
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct{ name, csv, want string }{
		{"empty", "", "header"},
		{"no rows", "a,label\n", "header"},
		{"not a number", "a,label\nx,1\n", "row 2 column a"},
		{"ragged", "a,b,label\n1,2\n", "wrong number of fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCSV([]byte(tt.csv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestTrain(t *testing.T) {
	d, err := Iris()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opts   TrainOptions
		minAcc float64
	}{
		{"quick first fit", Versions[0].Opts, 0.70},
		{"converged", Versions[1].Opts, 0.95},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Train(d, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if acc := m.Accuracy(d); acc < tt.minAcc {
				t.Fatalf("training accuracy %.3f, want at least %.2f", acc, tt.minAcc)
			}
			again, _ := Train(d, tt.opts)
			if !reflect.DeepEqual(m, again) {
				t.Fatal("training is not deterministic")
			}
		})
	}
	if _, err := Train(Dataset{Features: []string{"a"}, X: [][]float64{{1}, {2}}, Y: []string{"x", "x"}}, TrainOptions{}); err == nil {
		t.Fatal("training on one class succeeded")
	}
}

// TestModelDirServes loads the written model directory with the real native
// runtime and checks that it answers what Predict computes.
func TestModelDirServes(t *testing.T) {
	d, err := Iris()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(d, Versions[1].Opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteModelDir(dir, m); err != nil {
		t.Fatal(err)
	}
	var rts serving.Runtimes
	rts.Register(native.Flavor, 0, native.Runtime{})
	sm, err := rts.Load(context.Background(), serving.LoadSpec{Name: ModelName, Version: 1, Dir: dir})
	if err != nil {
		t.Fatalf("native runtime cannot load the demo model: %v", err)
	}
	defer sm.Close(context.Background())
	rows := [][]float64{d.X[0], d.X[60], d.X[120], d.X[70]}
	body, _ := json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": d.Features, "data": rows}})
	rec := httptest.NewRecorder()
	sm.ServeHTTP(rec, httptest.NewRequest("POST", "/invocations", strings.NewReader(string(body))))
	if rec.Code != 200 {
		t.Fatalf("invocation: %d %s", rec.Code, rec.Body)
	}
	var got struct{ Predictions []string }
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rows {
		want = append(want, m.Predict(r))
	}
	if !reflect.DeepEqual(got.Predictions, want) {
		t.Fatalf("served %v, Predict says %v", got.Predictions, want)
	}
}
