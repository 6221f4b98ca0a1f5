package dataquality

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/bridgeops/bridge/internal/monitor/pycheck"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/stats"
)

// gen makes rows of (age Integral, income Fractional with ~5% missing,
// plan String of 3 values); shift moves income's distribution and weights
// plan towards "gold".
func gen(seed uint64, n int, shift float64, goldBias bool) [][]string {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	plans := []string{"basic", "plus", "gold"}
	rows := make([][]string, n)
	for i := range rows {
		income := ""
		if rng.Float64() > 0.05 {
			income = strconv.FormatFloat(50000+shift+rng.NormFloat64()*8000, 'f', 4, 64)
		}
		plan := plans[rng.IntN(3)]
		if goldBias && rng.Float64() < 0.5 {
			plan = "gold"
		}
		rows[i] = []string{strconv.Itoa(18 + rng.IntN(60)), income, plan}
	}
	return rows
}

var cols = []string{"age", "income", "plan"}

func profile(specs []Spec, rows [][]string) *Profile {
	p := NewProfile(specs)
	fields := make([][]byte, 3)
	for _, r := range rows {
		for i, v := range r {
			fields[i] = []byte(v)
		}
		p.AddFields(fields, false, false)
	}
	return p
}

func inferSpecs() []Spec {
	return []Spec{{"age", Infer}, {"income", Infer}, {"plan", Infer}}
}

func TestStatisticsAgainstPandas(t *testing.T) {
	rows := gen(1, 30000, 0, false)
	// Profile in two halves and merge, as the monitor's workers do.
	a, b := profile(inferSpecs(), rows[:12345]), profile(inferSpecs(), rows[12345:])
	a.Merge(b)
	st := a.Statistics()
	var want map[string]map[string]any
	pycheck.Run(t, `
import json, sys, io, pandas as pd
d = json.load(sys.stdin)
df = pd.DataFrame(d["rows"], columns=d["cols"]).replace("", None)
df["age"] = pd.to_numeric(df["age"]); df["income"] = pd.to_numeric(df["income"])
out = {}
for c in ["age", "income"]:
    s = df[c]
    out[c] = {"count": int(s.count()), "missing": int(s.isna().sum()), "mean": float(s.mean()), "sum": float(s.sum()),
              "std": float(s.std(ddof=0)), "min": float(s.min()), "max": float(s.max())}
vc = df["plan"].value_counts()
out["plan"] = {"count": int(df["plan"].count()), "nunique": int(df["plan"].nunique()), "counts": {k: int(v) for k, v in vc.items()}}
print(json.dumps(out))`, map[string]any{"rows": rows, "cols": cols}, &want)

	if st.Dataset.ItemCount != 30000 {
		t.Errorf("item_count %d", st.Dataset.ItemCount)
	}
	types := map[string]string{"age": schema.TypeIntegral, "income": schema.TypeFractional, "plan": schema.TypeString}
	for _, f := range st.Features {
		if f.InferredType != types[f.Name] {
			t.Errorf("%s inferred %s, want %s", f.Name, f.InferredType, types[f.Name])
		}
		w := want[f.Name]
		if f.Name == "plan" {
			if f.String.Common.NumPresent != int64(w["count"].(float64)) || f.String.DistinctCount != w["nunique"].(float64) {
				t.Errorf("plan: present %d distinct %g, pandas %v", f.String.Common.NumPresent, f.String.DistinctCount, w)
			}
			counts := w["counts"].(map[string]any)
			for _, b := range f.String.Distribution.Categorical.Buckets {
				if float64(b.Count) != counts[b.Value].(float64) {
					t.Errorf("plan %s count %d, pandas %v", b.Value, b.Count, counts[b.Value])
				}
			}
			continue
		}
		ns := f.Numerical
		if ns.Common.NumPresent != int64(w["count"].(float64)) || ns.Common.NumMissing != int64(w["missing"].(float64)) {
			t.Errorf("%s: present %d missing %d, pandas %v %v", f.Name, ns.Common.NumPresent, ns.Common.NumMissing, w["count"], w["missing"])
		}
		for name, got := range map[string]float64{"mean": ns.Mean, "sum": ns.Sum, "std": ns.StdDev, "min": ns.Min, "max": ns.Max} {
			wv := w[name].(float64)
			if math.Abs(got-wv)/math.Max(math.Abs(wv), 1e-300) > 1e-9 {
				t.Errorf("%s %s = %.17g, pandas %.17g", f.Name, name, got, wv)
			}
		}
		var total float64
		for _, b := range ns.Distribution.KLL.Buckets {
			total += b.Count
		}
		if len(ns.Distribution.KLL.Buckets) != 10 || total != float64(ns.Common.NumPresent) {
			t.Errorf("%s: %d buckets holding %g values, want 10 holding %d", f.Name, len(ns.Distribution.KLL.Buckets), total, ns.Common.NumPresent)
		}
		// the serialised sketch's quantiles are within the stated rank error
		sk, err := stats.KLLFromData(int(ns.Distribution.KLL.Sketch.Parameters.K), ns.Distribution.KLL.Sketch.Parameters.C, ns.Distribution.KLL.Sketch.Data)
		if err != nil {
			t.Fatal(err)
		}
		var xs []float64
		col := slices.Index(cols, f.Name)
		for _, r := range rows {
			if v, err := strconv.ParseFloat(r[col], 64); err == nil {
				xs = append(xs, v)
			}
		}
		slices.Sort(xs)
		for _, q := range []float64{0.05, 0.5, 0.95} {
			est := sk.Quantile(q)
			r := float64(sort.SearchFloat64s(xs, est)) / float64(len(xs))
			hi := float64(sort.Search(len(xs), func(i int) bool { return xs[i] > est })) / float64(len(xs))
			if q < r-stats.RankError || q > hi+stats.RankError {
				t.Errorf("%s quantile %.2f = %g has true rank [%.4f, %.4f]", f.Name, q, est, r, hi)
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	st := profile(inferSpecs(), gen(2, 2000, 0, false)).Statistics()
	c := Suggest(st)
	byName := map[string]schema.FeatureConstraint{}
	for _, f := range c.Features {
		byName[f.Name] = f
	}
	if !byName["age"].NumConstraints.IsNonNegative {
		t.Error("age should be non-negative")
	}
	if got := *byName["income"].Completeness; got > 0.97 || got < 0.93 {
		t.Errorf("income completeness %g, want about 0.95", got)
	}
	if got := byName["plan"].StringConstraints; got == nil || fmt.Sprint(got.Domains) != "[basic gold plus]" {
		t.Errorf("plan domains %+v", got)
	}
	if c.MonitoringConfig.DistributionConstraints.ComparisonMethod != "Robust" {
		t.Errorf("monitoring config %+v", c.MonitoringConfig)
	}
}

func violationsOf(t *testing.T, base Baseline, rows [][]string) map[string]string {
	t.Helper()
	p := profile(SpecsFromBaseline(base.Statistics), rows)
	res, err := Check(base, p)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range res.Violations.Violations {
		out[v.FeatureName+"/"+v.ConstraintCheckType] = v.Description
	}
	return out
}

func TestCheck(t *testing.T) {
	st := profile(inferSpecs(), gen(3, 20000, 0, false)).Statistics()
	base := Baseline{Statistics: st, Constraints: Suggest(st)}
	// Loosen completeness so sampling noise in the 5% missing rate does not
	// fire; the cases below check completeness separately.
	for i := range base.Constraints.Features {
		if base.Constraints.Features[i].Name == "income" {
			base.Constraints.Features[i].Completeness = schema.F(0.9)
		}
	}
	withAge := func(rows [][]string, v string) [][]string {
		for i := range rows {
			if i%3 == 0 {
				rows[i][0] = v
			}
		}
		return rows
	}
	cases := []struct {
		name string
		rows [][]string
		want []string
	}{
		{"undrifted", gen(4, 5000, 0, false), nil},
		{"income drift", gen(5, 5000, 12000, false), []string{"income/baseline_drift_check"}},
		{"plan drift", gen(6, 5000, 0, true), []string{"plan/baseline_drift_check"}},
		{"unknown plan", func() [][]string {
			r := gen(7, 5000, 0, false)
			r[10][2] = "platinum"
			return r
		}(), []string{"plan/categorical_values_check"}},
		{"age as text", withAge(gen(8, 3000, 0, false), "old"), []string{"age/data_type_check"}},
		{"negative age", withAge(gen(9, 3000, 0, false), "-1"), []string{"age/non_negative_check", "age/baseline_drift_check"}},
		{"income missing", func() [][]string {
			r := gen(10, 3000, 0, false)
			for i := range r[:1000] {
				r[i][1] = ""
			}
			return r
		}(), []string{"income/completeness_check"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := violationsOf(t, base, tc.rows)
			for _, w := range tc.want {
				if _, ok := got[w]; !ok {
					t.Errorf("missing violation %s; got %v", w, got)
				}
				delete(got, w)
			}
			if len(got) > 0 {
				t.Errorf("unexpected violations %v", got)
			}
		})
	}
}

func TestColumnChecks(t *testing.T) {
	st := profile(inferSpecs(), gen(11, 2000, 0, false)).Statistics()
	base := Baseline{Statistics: st, Constraints: Suggest(st)}
	p := NewProfile(SpecsFromBaseline(st))
	p.AddFields([][]byte{[]byte("30"), []byte("50000"), []byte("gold")}, false, false)
	p.AddFields([][]byte{[]byte("30"), []byte("50000")}, true, false)
	p.AddFields([][]byte{[]byte("30"), []byte("50000"), []byte("gold"), []byte("x")}, false, true)
	res, err := Check(base, p)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range res.Violations.Violations {
		seen[v.ConstraintCheckType] = true
	}
	for _, want := range []string{schema.CheckMissingColumn, schema.CheckExtraColumn} {
		if !seen[want] {
			t.Errorf("no %s in %+v", want, res.Violations.Violations)
		}
	}
}
