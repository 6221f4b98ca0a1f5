package drift

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bridgeops/bridge/internal/monitor/pycheck"
	"github.com/bridgeops/bridge/internal/monitor/stats"
)

func TestKSAgainstSciPy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name  string
		shift float64
		n, m  int
	}{
		{"same", 0, 1500, 1000},
		{"shifted", 0.3, 1500, 1200},
		{"far", 2, 800, 900},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := stats.NewKLL(stats.DefaultK, stats.DefaultC), stats.NewKLL(stats.DefaultK, stats.DefaultC)
			xa, xb := make([]float64, tc.n), make([]float64, tc.m)
			for i := range xa {
				xa[i] = rng.NormFloat64()
				a.Add(xa[i])
			}
			for i := range xb {
				xb[i] = rng.NormFloat64() + tc.shift
				b.Add(xb[i])
			}
			var want struct{ D, P float64 }
			pycheck.Run(t, `
import json, sys
from scipy.stats import ks_2samp
d = json.load(sys.stdin)
r = ks_2samp(d["a"], d["b"], mode="asymp")
print(json.dumps({"D": float(r.statistic), "P": float(r.pvalue)}))`, map[string]any{"a": xa, "b": xb}, &want)
			// Below k values the sketches are exact, so the statistic is too.
			d := LInfSimple(a, b)
			if math.Abs(d-want.D) > 1e-12 {
				t.Errorf("KS statistic %.15g, SciPy %.15g", d, want.D)
			}
			p := KSPValue(d, a.N(), b.N())
			if math.Abs(p-want.P) > 0.02*math.Max(want.P, 0.01) && math.Abs(p-want.P) > 1e-6 {
				t.Errorf("KS p-value %.6g, SciPy %.6g", p, want.P)
			}
			robust := Numeric(Robust, a, b)
			wantRobust := math.Max(0, d-1.8*math.Sqrt(float64(tc.n+tc.m)/float64(tc.n*tc.m)))
			if math.Abs(robust-wantRobust) > 1e-15 {
				t.Errorf("robust %g, want %g", robust, wantRobust)
			}
		})
	}
}

func TestPSI(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	base, same, moved := stats.NewKLL(2048, 0.64), stats.NewKLL(2048, 0.64), stats.NewKLL(2048, 0.64)
	for i := 0; i < 50000; i++ {
		base.Add(rng.NormFloat64())
		same.Add(rng.NormFloat64())
		moved.Add(rng.NormFloat64() + 1)
	}
	var edges []float64
	for _, b := range base.Buckets(-4, 4, 10)[1:] {
		edges = append(edges, b.Lower)
	}
	if p := PSI(base, same, edges); p > 0.01 {
		t.Errorf("PSI of the same distribution %g, want < 0.01", p)
	}
	if p := PSI(base, moved, edges); p < 0.25 {
		t.Errorf("PSI of a one-sigma shift %g, want > 0.25 (a major shift)", p)
	}
}

func TestCategorical(t *testing.T) {
	base := map[string]int64{"a": 500, "b": 300, "c": 200}
	cases := []struct {
		name   string
		method string
		cur    map[string]int64
		min    float64
		max    float64
	}{
		{"linf same", LInfinity, map[string]int64{"a": 50, "b": 30, "c": 20}, 0, 1e-12},
		{"linf moved", LInfinity, map[string]int64{"a": 20, "b": 30, "c": 50}, 0.3 - 1e-12, 0.3 + 1e-12},
		{"linf new value", LInfinity, map[string]int64{"a": 50, "b": 30, "z": 20}, 0.2 - 1e-12, 0.2 + 1e-12},
		{"chi same", ChiSquared, map[string]int64{"a": 500, "b": 300, "c": 200}, 0, 0.01},
		{"chi moved", ChiSquared, map[string]int64{"a": 200, "b": 300, "c": 500}, 0.999, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := Categorical(tc.method, false, base, tc.cur)
			if d < tc.min || d > tc.max {
				t.Errorf("distance %g, want in [%g, %g]", d, tc.min, tc.max)
			}
		})
	}
}

func TestChiSquaredSurvivalAgainstSciPy(t *testing.T) {
	xs := [][2]float64{{0.5, 1}, {3.84, 1}, {10, 4}, {100, 50}, {7, 9}}
	var want []float64
	pycheck.Run(t, `
import json, sys
from scipy.stats import chi2
print(json.dumps([float(chi2.sf(x, df)) for x, df in json.load(sys.stdin)]))`, xs, &want)
	for i, x := range xs {
		if got := ChiSquaredSurvival(x[0], x[1]); math.Abs(got-want[i]) > 1e-9 {
			t.Errorf("sf(%g, %g) = %.12g, SciPy %.12g", x[0], x[1], got, want[i])
		}
	}
}
