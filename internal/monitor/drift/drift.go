// Package drift computes distances between a baseline distribution and a
// current one: the L-infinity distance SageMaker Model Monitor's
// baseline_drift_check uses (maximum absolute difference between the two
// CDFs, "Simple", or its small-sample "Robust" correction), the two-sample
// Kolmogorov-Smirnov p-value, the population stability index (PSI), and for
// categorical features the L-infinity distance between category frequencies
// or a chi-squared test. All functions are pure.
package drift

import (
	"math"
	"sort"

	"github.com/bridgeops/bridge/internal/monitor/stats"
)

// Comparison methods of distribution_constraints.
const (
	Simple     = "Simple"
	Robust     = "Robust"
	LInfinity  = "LInfinity"
	ChiSquared = "ChiSquared"
)

// cAlpha is the Kolmogorov-Smirnov critical coefficient SageMaker's robust
// distance subtracts (alpha = 0.003; Knuth TAOCP vol. 2, 3.3.1 eq. 15).
const cAlpha = 1.8

// LInfSimple is the maximum absolute difference between the CDFs of two
// sketches, evaluated at every value either retains: the two-sample
// Kolmogorov-Smirnov statistic of the sketched distributions.
func LInfSimple(a, b *stats.KLL) float64 {
	if a.N() == 0 || b.N() == 0 {
		return 0
	}
	xa, ca := a.CDFPoints()
	xb, cb := b.CDFPoints()
	return linfCDF(xa, ca, xb, cb)
}

func linfCDF(xa, ca, xb, cb []float64) float64 {
	var d, fa, fb float64
	i, j := 0, 0
	for i < len(xa) || j < len(xb) {
		switch {
		case j >= len(xb) || (i < len(xa) && xa[i] < xb[j]):
			fa = ca[i]
			i++
		case i >= len(xa) || xb[j] < xa[i]:
			fb = cb[j]
			j++
		default:
			fa, fb = ca[i], cb[j]
			i++
			j++
		}
		if v := math.Abs(fa - fb); v > d {
			d = v
		}
	}
	return d
}

// RobustCorrection turns a simple L-infinity distance between samples of n
// and m values into SageMaker's "Robust" distance:
// max(0, d - 1.8*sqrt((n+m)/(n*m))).
func RobustCorrection(d float64, n, m int64) float64 {
	if n <= 0 || m <= 0 {
		return 0
	}
	nf, mf := float64(n), float64(m)
	return math.Max(0, d-cAlpha*math.Sqrt((nf+mf)/(nf*mf)))
}

// Numeric is the distance of method (Simple or Robust) between two sketches.
func Numeric(method string, base, cur *stats.KLL) float64 {
	d := LInfSimple(base, cur)
	if method == Robust {
		return RobustCorrection(d, base.N(), cur.N())
	}
	return d
}

// KSPValue is the asymptotic p-value of the two-sample Kolmogorov-Smirnov
// statistic d for samples of n and m values (Stephens' correction; Numerical
// Recipes' probks).
func KSPValue(d float64, n, m int64) float64 {
	if n <= 0 || m <= 0 {
		return 1
	}
	en := math.Sqrt(float64(n) * float64(m) / float64(n+m))
	lambda := (en + 0.12 + 0.11/en) * d
	return kolmogorovQ(lambda)
}

func kolmogorovQ(lambda float64) float64 {
	if lambda < 1e-3 {
		return 1
	}
	a2 := -2 * lambda * lambda
	sum, fac, prev := 0.0, 2.0, 0.0
	for j := 1; j <= 100; j++ {
		term := fac * math.Exp(a2*float64(j*j))
		sum += term
		if math.Abs(term) <= 1e-3*prev || math.Abs(term) <= 1e-10*sum {
			return math.Min(1, math.Max(0, sum))
		}
		fac = -fac
		prev = math.Abs(term)
	}
	return 1
}

// PSIEpsilon replaces empty bins' proportions so PSI stays finite.
const PSIEpsilon = 1e-4

// PSI is the population stability index sum((p-q)*ln(p/q)) of the current
// sketch's proportions p against the baseline's q, over the bins delimited
// by edges (interior bin edges, ascending; the outer bins are open-ended).
func PSI(base, cur *stats.KLL, edges []float64) float64 {
	if base.N() == 0 || cur.N() == 0 || len(edges) == 0 {
		return 0
	}
	q := binFractions(base, edges)
	p := binFractions(cur, edges)
	var psi float64
	for i := range p {
		pi, qi := math.Max(p[i], PSIEpsilon), math.Max(q[i], PSIEpsilon)
		psi += (pi - qi) * math.Log(pi/qi)
	}
	return psi
}

// binFractions returns the fraction of the sketch in (-inf, e0), [e0, e1),
// ..., [e_last, +inf).
func binFractions(s *stats.KLL, edges []float64) []float64 {
	xs, cdf := s.CDFPoints()
	below := func(x float64) float64 { // fraction strictly below x
		i := sort.SearchFloat64s(xs, x) // first xs >= x
		if i == 0 {
			return 0
		}
		return cdf[i-1]
	}
	out := make([]float64, len(edges)+1)
	prev := 0.0
	for i, e := range edges {
		f := below(e)
		out[i] = f - prev
		prev = f
	}
	out[len(edges)] = 1 - prev
	return out
}

// Categorical is the distance between two category-count maps with the
// LInfinity method (maximum absolute difference of category frequencies,
// robust-corrected when robust is set), or with ChiSquared, where the
// distance is 1 - p-value of Pearson's chi-squared test of cur against the
// baseline frequencies (so larger is more drifted either way).
func Categorical(method string, robust bool, base, cur map[string]int64) (dist, chi2 float64) {
	var n, m int64
	for _, c := range base {
		n += c
	}
	for _, c := range cur {
		m += c
	}
	if n == 0 || m == 0 {
		return 0, 0
	}
	if method == ChiSquared {
		chi2, df := chiSquared(base, cur, n, m)
		if df < 1 {
			return 0, chi2
		}
		return 1 - ChiSquaredSurvival(chi2, float64(df)), chi2
	}
	var d float64
	for k, c := range base {
		d = math.Max(d, math.Abs(float64(c)/float64(n)-float64(cur[k])/float64(m)))
	}
	for k, c := range cur {
		if _, ok := base[k]; !ok {
			d = math.Max(d, float64(c)/float64(m))
		}
	}
	if robust {
		d = RobustCorrection(d, n, m)
	}
	return d, 0
}

// chiSquared computes Pearson's statistic of cur's counts against the
// expected counts from base's frequencies; categories unseen in the
// baseline are pooled into one cell with a tiny expected count floor.
func chiSquared(base, cur map[string]int64, n, m int64) (float64, int) {
	var stat float64
	cells := 0
	for k, c := range base {
		exp := float64(c) / float64(n) * float64(m)
		obs := float64(cur[k])
		stat += (obs - exp) * (obs - exp) / exp
		cells++
	}
	var unseen float64
	for k, c := range cur {
		if _, ok := base[k]; !ok {
			unseen += float64(c)
		}
	}
	if unseen > 0 {
		exp := 0.5 // half an observation: the baseline saw none
		stat += (unseen - exp) * (unseen - exp) / exp
		cells++
	}
	return stat, cells - 1
}

// ChiSquaredSurvival is P(X >= x) for a chi-squared variable with df
// degrees of freedom: the regularised upper incomplete gamma Q(df/2, x/2).
func ChiSquaredSurvival(x, df float64) float64 {
	if x <= 0 {
		return 1
	}
	return gammaQ(df/2, x/2)
}

// gammaQ is the regularised upper incomplete gamma function (Numerical
// Recipes: series for x < a+1, continued fraction otherwise).
func gammaQ(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, del, ap := 1/a, 1/a, a
		for i := 0; i < 1000; i++ {
			ap++
			del *= x / ap
			sum += del
			if math.Abs(del) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}
