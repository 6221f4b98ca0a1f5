package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/bridgeops/bridge/internal/monitor/pycheck"
)

func relClose(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if want == got {
		return
	}
	if d := math.Abs(got-want) / math.Max(math.Abs(want), 1e-300); d > tol {
		t.Errorf("%s = %.17g, want %.17g (relative error %.3g > %.3g)", name, got, want, d, tol)
	}
}

func TestMomentsAgainstPandas(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := map[string][]float64{
		"normal offset 1e6": func() []float64 {
			x := make([]float64, 20000)
			for i := range x {
				x[i] = 1e6 + rng.NormFloat64()*3
			}
			return x
		}(),
		"lognormal": func() []float64 {
			x := make([]float64, 5000)
			for i := range x {
				x[i] = math.Exp(rng.NormFloat64() * 2)
			}
			return x
		}(),
		"integers": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		"single":   {42.5},
	}
	for name, xs := range cases {
		t.Run(name, func(t *testing.T) {
			var whole Moments
			var parts [3]Moments
			for i, x := range xs {
				whole.Add(x)
				parts[i%3].Add(x)
			}
			merged := parts[0]
			merged.Merge(&parts[1])
			merged.Merge(&parts[2])
			var want struct {
				Count                    int64
				Mean, Sum, Std, Min, Max float64
			}
			pycheck.Run(t, `
import json, sys, pandas as pd
s = pd.Series(json.load(sys.stdin), dtype="float64")
print(json.dumps({"Count": int(s.count()), "Mean": float(s.mean()), "Sum": float(s.sum()),
  "Std": float(s.std(ddof=0)), "Min": float(s.min()), "Max": float(s.max())}))`, xs, &want)
			for _, m := range []*Moments{&whole, &merged} {
				if m.N != want.Count {
					t.Errorf("count %d, want %d", m.N, want.Count)
				}
				relClose(t, "mean", m.Mean(), want.Mean, 1e-9)
				relClose(t, "sum", m.Sum(), want.Sum, 1e-9)
				if want.Std == 0 {
					if m.StdDev() > 1e-12 {
						t.Errorf("std %g, want 0", m.StdDev())
					}
				} else {
					relClose(t, "std", m.StdDev(), want.Std, 1e-9)
				}
				relClose(t, "min", m.Min, want.Min, 0)
				relClose(t, "max", m.Max, want.Max, 0)
			}
		})
	}
}

// rankErr returns the largest |estimated rank - true rank| / n over a grid
// of values.
func rankErr(s *KLL, sorted []float64) float64 {
	n := float64(len(sorted))
	worst := 0.0
	for q := 0.0; q <= 1.0; q += 0.001 {
		x := sorted[int(q*(n-1))]
		truth := float64(sort.Search(len(sorted), func(i int) bool { return sorted[i] > x }))
		if d := math.Abs(float64(s.Rank(x))-truth) / n; d > worst {
			worst = d
		}
	}
	return worst
}

func TestKLLRankError(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 1_000_000
	if testing.Short() {
		n = 200_000
	}
	streams := map[string]func(i int) float64{
		"uniform":    func(int) float64 { return rng.Float64() },
		"sorted":     func(i int) float64 { return float64(i) },
		"reversed":   func(i int) float64 { return float64(n - i) },
		"heavy tail": func(int) float64 { return math.Exp(rng.NormFloat64() * 3) },
		"few values": func(int) float64 { return float64(rng.IntN(7)) },
	}
	for name, gen := range streams {
		t.Run(name, func(t *testing.T) {
			s := NewKLL(DefaultK, DefaultC)
			parts := []*KLL{NewKLL(DefaultK, DefaultC), NewKLL(DefaultK, DefaultC)}
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = gen(i)
				s.Add(xs[i])
				parts[i%2].Add(xs[i])
			}
			parts[0].Merge(parts[1])
			slices.Sort(xs)
			for label, sk := range map[string]*KLL{"single": s, "merged": parts[0]} {
				if sk.N() != int64(n) {
					t.Fatalf("%s: N = %d, want %d", label, sk.N(), n)
				}
				if e := rankErr(sk, xs); e > RankError {
					t.Errorf("%s: rank error %.5f exceeds the stated %.4f", label, e, RankError)
				} else {
					t.Logf("%s: rank error %.5f (stated bound %.4f), %d items retained", label, e, RankError, len(sk.items()))
				}
			}
			if got := len(s.items()); got > 4*DefaultK {
				t.Errorf("sketch retains %d items; memory should stay near k/(1-c) = %d", got, DefaultK*100/36)
			}
		})
	}
}

func TestKLLExactWhenSmallAndRoundTrip(t *testing.T) {
	s := NewKLL(DefaultK, DefaultC)
	for i := 1; i <= 1000; i++ {
		s.Add(float64(i))
	}
	for _, q := range []float64{0.1, 0.5, 0.9} {
		if got, want := s.Quantile(q), q*1000; got != want {
			t.Errorf("quantile(%g) = %g, want %g", q, got, want)
		}
	}
	for i := 1001; i <= 200000; i++ {
		s.Add(float64(i))
	}
	back, err := KLLFromData(s.K(), s.C(), s.Data())
	if err != nil {
		t.Fatal(err)
	}
	if back.N() != s.N() {
		t.Fatalf("round trip N = %d, want %d", back.N(), s.N())
	}
	for _, x := range []float64{1, 5000, 100000, 199999} {
		if back.Rank(x) != s.Rank(x) {
			t.Errorf("round trip rank(%g) = %d, want %d", x, back.Rank(x), s.Rank(x))
		}
	}
	if _, err := KLLFromData(2048, 0.64, [][]float64{{1, math.NaN()}}); err == nil {
		t.Error("a sketch with NaN was accepted")
	}
}

func TestKLLQuantilesAgainstPandas(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([]float64, 300000)
	s := NewKLL(DefaultK, DefaultC)
	for i := range xs {
		xs[i] = rng.NormFloat64()*10 + 3
		s.Add(xs[i])
	}
	qs := []float64{0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99}
	var want []float64
	pycheck.Run(t, `
import json, sys, pandas as pd
d = json.load(sys.stdin)
s = pd.Series(d["x"])
print(json.dumps([float(s.quantile(q)) for q in d["q"]]))`, map[string]any{"x": xs, "q": qs}, &want)
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	n := float64(len(xs))
	for i, q := range qs {
		got := s.Quantile(q)
		// The estimate's true rank must be within the stated error of q.
		r := float64(sort.SearchFloat64s(sorted, got)) / n
		if math.Abs(r-q) > RankError {
			t.Errorf("quantile %.2f = %g (pandas %g) has true rank %.4f: off by more than %.4f", q, got, want[i], r, RankError)
		}
	}
}

func TestDistinct(t *testing.T) {
	for _, n := range []int{0, 1, 100, ExactDistinctLimit, 50000, 300000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var d, a, b Distinct
			for i := 0; i < n; i++ {
				v := fmt.Sprintf("value-%d", i)
				d.Add(v)
				d.Add(v) // duplicates do not count
				if i%2 == 0 {
					a.Add(v)
				} else {
					b.Add(v)
				}
			}
			a.Merge(&b)
			for label, x := range map[string]*Distinct{"single": &d, "merged": &a} {
				got := x.Count()
				if n <= ExactDistinctLimit {
					if got != int64(n) || !x.Exact() {
						t.Errorf("%s: count %d (exact %v), want exactly %d", label, got, x.Exact(), n)
					}
					continue
				}
				if rel := math.Abs(float64(got)-float64(n)) / float64(n); rel > 4*DistinctError {
					t.Errorf("%s: count %d, want %d within %.1f%% (4 standard errors)", label, got, n, 400*DistinctError)
				}
			}
		})
	}
}

func TestTopValues(t *testing.T) {
	tv := NewTopValues(10)
	// Zipf-like: value i appears 1000/i times, plus a long tail of singletons.
	for i := 1; i <= 5; i++ {
		for j := 0; j < 1000/i; j++ {
			tv.Add(fmt.Sprintf("v%d", i))
		}
	}
	if !tv.Exact() {
		t.Fatal("approximate before exceeding capacity")
	}
	for i := 0; i < 500; i++ {
		tv.Add(fmt.Sprintf("tail%d", i))
	}
	if tv.Exact() {
		t.Fatal("exact after exceeding capacity")
	}
	top := tv.Top(3)
	want := []string{"v1", "v2", "v3"}
	for i, w := range want {
		if top[i].Value != w {
			t.Fatalf("top %v, want %v first", top, want)
		}
	}
	// Space-Saving overestimates by at most N/capacity.
	bound := tv.N() / int64(tv.Capacity)
	for i := 1; i <= 3; i++ {
		got, truth := tv.Count(fmt.Sprintf("v%d", i)), int64(1000/i)
		if got < truth || got > truth+bound {
			t.Errorf("count of v%d = %d, want within [%d, %d]", i, got, truth, truth+bound)
		}
	}
	if tv.N() != 1000+500+333+250+200+500 {
		t.Errorf("N = %d", tv.N())
	}
}
