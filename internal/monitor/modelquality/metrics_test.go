package modelquality

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/monitor/pycheck"
	"github.com/bridgeops/bridge/internal/monitor/schema"
)

const sklearnScript = `
import json, sys
import numpy as np
from sklearn import metrics as m
d = json.load(sys.stdin)
out = {}
if d["problem"] == "Regression":
    y, p = np.array(d["y"], dtype=float), np.array(d["p"], dtype=float)
    mse = m.mean_squared_error(y, p)
    out = {"mae": m.mean_absolute_error(y, p), "mse": mse, "rmse": float(np.sqrt(mse)), "r2": m.r2_score(y, p)}
elif d["problem"] == "BinaryClassification":
    y, p = np.array(d["y"], dtype=int), np.array(d["p"], dtype=int)
    tn, fp, fn, tp = m.confusion_matrix(y, p, labels=[0, 1]).ravel()
    out = {"accuracy": m.accuracy_score(y, p), "precision": m.precision_score(y, p, zero_division=0),
           "recall": m.recall_score(y, p, zero_division=0), "f1": m.f1_score(y, p, zero_division=0),
           "f0_5": m.fbeta_score(y, p, beta=0.5, zero_division=0), "f2": m.fbeta_score(y, p, beta=2, zero_division=0),
           "true_negative_rate": tn / (tn + fp), "false_positive_rate": fp / (fp + tn),
           "false_negative_rate": fn / (fn + tp),
           "auc": m.roc_auc_score(y, np.array(d["s"], dtype=float)),
           "cm": [[int(tn), int(fp)], [int(fn), int(tp)]]}
else:
    y, p = d["y"], d["p"]
    out = {"accuracy": m.accuracy_score(y, p),
           "weighted_precision": m.precision_score(y, p, average="weighted", zero_division=0),
           "weighted_recall": m.recall_score(y, p, average="weighted", zero_division=0),
           "weighted_f1": m.f1_score(y, p, average="weighted", zero_division=0),
           "weighted_f0_5": m.fbeta_score(y, p, beta=0.5, average="weighted", zero_division=0),
           "weighted_f2": m.fbeta_score(y, p, beta=2, average="weighted", zero_division=0)}
print(json.dumps({k: (float(v) if not isinstance(v, list) else v) for k, v in out.items()}))
`

func check(t *testing.T, got map[string]schema.Metric, want map[string]any, tol float64) {
	t.Helper()
	for name, w := range want {
		wf, ok := w.(float64)
		if !ok {
			continue
		}
		g, ok := got[name]
		if !ok {
			t.Errorf("metric %s missing", name)
			continue
		}
		if d := math.Abs(g.Value - wf); d > tol*math.Max(1, math.Abs(wf)) {
			t.Errorf("%s = %.15g, scikit-learn %.15g", name, g.Value, wf)
		}
	}
}

func TestRegressionAgainstSklearn(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := 20000
	y, p := make([]float64, n), make([]float64, n)
	acc, _ := New(Config{ProblemType: schema.Regression})
	parts := [2]*Accumulator{}
	for i := range parts {
		parts[i], _ = New(Config{ProblemType: schema.Regression})
	}
	for i := range y {
		y[i] = 100 + rng.NormFloat64()*15
		p[i] = y[i] + rng.NormFloat64()*4
		ys, ps := strconv.FormatFloat(y[i], 'g', -1, 64), strconv.FormatFloat(p[i], 'g', -1, 64)
		acc.Add(ps, "", ys)
		parts[i%2].Add(ps, "", ys)
	}
	parts[0].Merge(parts[1])
	var want map[string]any
	pycheck.Run(t, sklearnScript, map[string]any{"problem": "Regression", "y": y, "p": p}, &want)
	for _, a := range []*Accumulator{acc, parts[0]} {
		st := a.Statistics(time.Unix(0, 0))
		if st.Dataset.ItemCount != int64(n) {
			t.Errorf("item_count %d, want %d", st.Dataset.ItemCount, n)
		}
		check(t, st.Regression, want, 1e-9)
	}
}

func TestBinaryAgainstSklearn(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{500, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			y, p := make([]int, n), make([]int, n)
			s := make([]float64, n)
			acc, _ := New(Config{ProblemType: schema.BinaryClassification})
			byScore, _ := New(Config{ProblemType: schema.BinaryClassification, ProbabilityThreshold: 0.5})
			for i := range y {
				y[i] = rng.IntN(2)
				// scores rounded to 3 decimals: many ties, as real models have
				s[i] = math.Round(math.Min(1, math.Max(0, 0.3+0.4*float64(y[i])+rng.NormFloat64()*0.25))*1000) / 1000
				if s[i] >= 0.5 {
					p[i] = 1
				}
				acc.Add(strconv.Itoa(p[i]), strconv.FormatFloat(s[i], 'g', -1, 64), strconv.Itoa(y[i]))
				byScore.Add("", strconv.FormatFloat(s[i], 'g', -1, 64), strconv.Itoa(y[i])+".0")
			}
			var want map[string]any
			pycheck.Run(t, sklearnScript, map[string]any{"problem": "BinaryClassification", "y": y, "p": p, "s": s}, &want)
			for _, a := range []*Accumulator{acc, byScore} {
				st := a.Statistics(time.Unix(0, 0))
				check(t, st.Binary.Metrics, want, 1e-12)
				cm := want["cm"].([]any)
				for i, act := range []string{"0", "1"} {
					row := cm[i].([]any)
					for j, pred := range []string{"0", "1"} {
						if got := st.Binary.ConfusionMatrix[act][pred]; float64(got) != row[j].(float64) {
							t.Errorf("confusion[%s][%s] = %d, scikit-learn %v", act, pred, got, row[j])
						}
					}
				}
			}
		})
	}
}

func TestMulticlassAgainstSklearn(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	classes := []string{"cat", "dog", "bird", "fish"}
	n := 10000
	y, p := make([]string, n), make([]string, n)
	acc, _ := New(Config{ProblemType: schema.MulticlassClassification})
	for i := range y {
		c := rng.IntN(len(classes))
		y[i] = classes[c]
		if rng.Float64() < 0.7 {
			p[i] = y[i]
		} else {
			p[i] = classes[rng.IntN(len(classes)-1)] // never predicts "fish" wrongly
		}
		acc.Add(p[i], "", y[i])
	}
	var want map[string]any
	pycheck.Run(t, sklearnScript, map[string]any{"problem": "MulticlassClassification", "y": y, "p": p}, &want)
	st := acc.Statistics(time.Unix(0, 0))
	check(t, st.Multiclass.Metrics, want, 1e-12)
}

func TestAUCFromSketchesPastExactLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	n := 30000
	y := make([]int, n)
	s := make([]float64, n)
	acc, _ := New(Config{ProblemType: schema.BinaryClassification})
	acc.exactLimit = 2000 // past it after a few thousand distinct scores
	for i := range y {
		y[i] = rng.IntN(2)
		s[i] = rng.Float64()*0.6 + 0.3*float64(y[i])
		acc.Add("", strconv.FormatFloat(s[i], 'g', -1, 64), strconv.Itoa(y[i]))
	}
	if acc.scores != nil {
		t.Fatal("exact score table kept past its limit")
	}
	var want map[string]any
	pycheck.Run(t, `
import json, sys
from sklearn.metrics import roc_auc_score
d = json.load(sys.stdin)
print(json.dumps({"auc": roc_auc_score(d["y"], d["s"])}))`, map[string]any{"y": y, "s": s}, &want)
	got := acc.Statistics(time.Unix(0, 0)).Binary.Metrics["auc"].Value
	// Each class's CDF is off by at most the rank error, so the AUC by at
	// most twice it.
	if d := math.Abs(got - want["auc"].(float64)); d > 0.01 {
		t.Errorf("sketched AUC %.5f, scikit-learn %.5f", got, want["auc"])
	}
}

func TestSuggestAndCheck(t *testing.T) {
	base := &schema.ModelQualityStatistics{Binary: &schema.BinaryMetrics{Metrics: map[string]schema.Metric{
		"accuracy": {Value: 0.9}, "auc": {Value: 0.95}, "precision": {Value: 0.8}, "recall": {Value: 0.7}, "f1": {Value: 0.75},
	}}}
	c := Suggest(base, 0.1)
	if got := c.Binary["accuracy"]; got.ComparisonOperator != schema.LessThanThreshold || math.Abs(got.Threshold-0.81) > 1e-12 {
		t.Fatalf("accuracy constraint %+v", got)
	}
	cases := []struct {
		name string
		acc  float64
		want int
	}{
		{"within", 0.85, 0},
		{"below", 0.5, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur := &schema.ModelQualityStatistics{Binary: &schema.BinaryMetrics{Metrics: map[string]schema.Metric{
				"accuracy": {Value: tc.acc}, "auc": {Value: 0.95}, "precision": {Value: 0.8}, "recall": {Value: 0.7}, "f1": {Value: 0.75},
			}}}
			v, err := Check(cur, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Violations) != tc.want {
				t.Fatalf("violations %+v, want %d", v.Violations, tc.want)
			}
			if tc.want > 0 && (v.Violations[0].MetricName != "accuracy" || v.Violations[0].ConstraintCheckType != schema.LessThanThreshold) {
				t.Errorf("violation %+v", v.Violations[0])
			}
		})
	}
	reg := Suggest(&schema.ModelQualityStatistics{Regression: map[string]schema.Metric{"mae": {Value: 2}, "r2": {Value: 0.8}}}, 0.1)
	if reg.Regression["mae"].ComparisonOperator != schema.GreaterThanThreshold || math.Abs(reg.Regression["mae"].Threshold-2.2) > 1e-12 {
		t.Errorf("mae constraint %+v", reg.Regression["mae"])
	}
}

func TestOutputsAndLabels(t *testing.T) {
	cases := []struct {
		name       string
		enc        string
		data       string
		attrs      Attributes
		preds, pbs []string
	}{
		{"csv single", "CSV", "0.73\n", Attributes{}, []string{"0.73"}, []string{""}},
		{"csv probability", "CSV", "0.73", Attributes{Probability: "0"}, []string{""}, []string{"0.73"}},
		{"csv batch two columns", "CSV", "1,0.9\n0,0.2", Attributes{Inference: "0", Probability: "1"}, []string{"1", "0"}, []string{"0.9", "0.2"}},
		{"json predictions", "JSON", `{"predictions": [3.5, 4]}`, Attributes{}, []string{"3.5", "4"}, []string{"", ""}},
		{"json objects", "JSON", `{"predictions": [{"label": "dog", "score": 0.8}]}`, Attributes{}, []string{"dog"}, []string{"0.8"}},
		{"json list", "JSON", `[[1, 0.9]]`, Attributes{Inference: "0", Probability: "1"}, []string{"1"}, []string{"0.9"}},
		{"json scalar", "JSON", `7`, Attributes{}, []string{"7"}, []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, q, err := tc.attrs.Outputs(tc.enc, []byte(tc.data), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(p) != fmt.Sprint(tc.preds) || fmt.Sprint(q) != fmt.Sprint(tc.pbs) {
				t.Errorf("got %q %q, want %q %q", p, q, tc.preds, tc.pbs)
			}
		})
	}
	if _, _, err := (Attributes{Inference: "5"}).Outputs("CSV", []byte("1,2"), nil, nil); err == nil {
		t.Error("an out-of-range inference attribute was accepted")
	}
	if got := Labels("CSV", []byte("1\n0\n"), nil); fmt.Sprint(got) != "[1 0]" {
		t.Errorf("labels %q", got)
	}
	if got := Labels("JSON", []byte(`["a","b"]`), nil); fmt.Sprint(got) != "[a b]" {
		t.Errorf("labels %q", got)
	}
}
