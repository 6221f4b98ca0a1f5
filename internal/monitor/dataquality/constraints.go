package dataquality

import (
	"fmt"
	"math"
	"sort"

	"github.com/bridgeops/bridge/internal/monitor/drift"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/stats"
)

// MaxDomain is the largest number of distinct values a String feature may
// have for the suggested constraints to list them as its domain.
const MaxDomain = 50

// DefaultMonitoringConfig is the monitoring_config Bridge suggests: the
// values SageMaker Model Monitor's baseline job writes.
func DefaultMonitoringConfig() schema.MonitoringConfig {
	return schema.MonitoringConfig{
		EvaluateConstraints:    "Enabled",
		EmitMetrics:            "Enabled",
		DatatypeCheckThreshold: schema.F(1.0),
		DomainContentThreshold: schema.F(1.0),
		DistributionConstraints: &schema.DistributionConstraints{
			PerformComparison:              "Enabled",
			ComparisonThreshold:            schema.F(0.1),
			ComparisonMethod:               drift.Robust,
			CategoricalComparisonThreshold: schema.F(0.1),
			CategoricalDriftMethod:         drift.LInfinity,
		},
	}
}

// Suggest derives constraints from baseline statistics: the inferred type,
// the observed completeness, non-negativity when the minimum is >= 0, and
// the domain of String features with at most MaxDomain distinct values.
func Suggest(st *schema.Statistics) *schema.Constraints {
	c := &schema.Constraints{Version: 0, MonitoringConfig: DefaultMonitoringConfig()}
	for _, f := range st.Features {
		fc := schema.FeatureConstraint{Name: f.Name, InferredType: f.InferredType}
		var common schema.Common
		switch {
		case f.Numerical != nil:
			common = f.Numerical.Common
			fc.NumConstraints = &schema.NumConstraints{IsNonNegative: common.NumPresent > 0 && f.Numerical.Min >= 0}
		case f.String != nil:
			common = f.String.Common
			if d := f.String.Distribution; d != nil && f.String.DistinctCount <= MaxDomain && len(d.Categorical.Buckets) == int(f.String.DistinctCount) {
				dom := make([]string, 0, len(d.Categorical.Buckets))
				for _, b := range d.Categorical.Buckets {
					dom = append(dom, b.Value)
				}
				sort.Strings(dom)
				fc.StringConstraints = &schema.StringConstraints{Domains: dom}
			}
		}
		if total := common.NumPresent + common.NumMissing; total > 0 {
			fc.Completeness = schema.F(float64(common.NumPresent) / float64(total))
		}
		c.Features = append(c.Features, fc)
	}
	return c
}

// Baseline is a data-quality baseline: statistics.json and constraints.json.
type Baseline struct {
	Statistics  *schema.Statistics
	Constraints *schema.Constraints
}

// featureConfig resolves the monitoring configuration for one feature:
// the global one with the feature's overrides applied.
func featureConfig(global schema.MonitoringConfig, fc *schema.FeatureConstraint) (cfg schema.MonitoringConfig, dc schema.DistributionConstraints) {
	cfg = global
	def := DefaultMonitoringConfig()
	if cfg.DatatypeCheckThreshold == nil {
		cfg.DatatypeCheckThreshold = def.DatatypeCheckThreshold
	}
	if cfg.DomainContentThreshold == nil {
		cfg.DomainContentThreshold = def.DomainContentThreshold
	}
	dc = *def.DistributionConstraints
	if g := global.DistributionConstraints; g != nil {
		mergeDC(&dc, g)
	}
	if fc != nil && fc.MonitoringConfigOverrides != nil {
		o := fc.MonitoringConfigOverrides
		if o.DatatypeCheckThreshold != nil {
			cfg.DatatypeCheckThreshold = o.DatatypeCheckThreshold
		}
		if o.DomainContentThreshold != nil {
			cfg.DomainContentThreshold = o.DomainContentThreshold
		}
		if o.EvaluateConstraints != "" {
			cfg.EvaluateConstraints = o.EvaluateConstraints
		}
		if o.DistributionConstraints != nil {
			mergeDC(&dc, o.DistributionConstraints)
		}
	}
	return cfg, dc
}

func mergeDC(dst *schema.DistributionConstraints, src *schema.DistributionConstraints) {
	if src.PerformComparison != "" {
		dst.PerformComparison = src.PerformComparison
	}
	if src.ComparisonThreshold != nil {
		dst.ComparisonThreshold = src.ComparisonThreshold
	}
	if src.ComparisonMethod != "" {
		dst.ComparisonMethod = src.ComparisonMethod
	}
	if src.CategoricalComparisonThreshold != nil {
		dst.CategoricalComparisonThreshold = src.CategoricalComparisonThreshold
	}
	if src.CategoricalDriftMethod != "" {
		dst.CategoricalDriftMethod = src.CategoricalDriftMethod
	}
}

// Result is the outcome of checking a window against a baseline.
type Result struct {
	Statistics *schema.Statistics // the window's, with drift annotations
	Violations schema.Violations
}

// Check evaluates the window profile cur against the baseline. cur must
// have been built with SpecsFromBaseline(base.Statistics) so its features
// are the baseline's, in order.
func Check(base Baseline, cur *Profile) (*Result, error) {
	if len(cur.features) != len(base.Statistics.Features) {
		return nil, fmt.Errorf("window profile has %d features, baseline %d", len(cur.features), len(base.Statistics.Features))
	}
	out := &Result{Statistics: cur.Statistics(), Violations: schema.Violations{Violations: []schema.Violation{}}}
	constraints := map[string]*schema.FeatureConstraint{}
	var global schema.MonitoringConfig
	if base.Constraints != nil {
		global = base.Constraints.MonitoringConfig
		for i := range base.Constraints.Features {
			constraints[base.Constraints.Features[i].Name] = &base.Constraints.Features[i]
		}
	} else {
		global = DefaultMonitoringConfig()
	}
	add := func(feature, check, format string, args ...any) {
		out.Violations.Violations = append(out.Violations.Violations, schema.Violation{
			FeatureName: feature, ConstraintCheckType: check, Description: fmt.Sprintf(format, args...),
		})
	}
	if cur.items > 0 && cur.shortRows > 0 {
		add("", schema.CheckMissingColumn, "There are missing columns in the current dataset: %d of %d rows have fewer than the baseline's %d columns.", cur.shortRows, cur.items, len(cur.features))
	}
	if cur.items > 0 && cur.longRows > 0 {
		add("", schema.CheckExtraColumn, "There are extra columns in the current dataset: %d of %d rows have more than the baseline's %d columns.", cur.longRows, cur.items, len(cur.features))
	}
	for i, bf := range base.Statistics.Features {
		fc := constraints[bf.Name]
		cfg, dc := featureConfig(global, fc)
		if cfg.EvaluateConstraints == "Disabled" {
			continue
		}
		typ := bf.InferredType
		if fc != nil && fc.InferredType != "" {
			typ = fc.InferredType
		}
		obs := cur.observe(i, typ)
		if obs.present == 0 && obs.missing == 0 {
			continue
		}
		// data type
		if obs.present > 0 && typ != schema.TypeString && typ != schema.TypeUnknown {
			ratio := float64(obs.conforming) / float64(obs.present)
			if ratio < *cfg.DatatypeCheckThreshold {
				add(bf.Name, schema.CheckDataType, "Data type match requirement is not met. Expected data type: %s, Expected match: %s. Observed: Only %s of data is %s.",
					typ, pct(*cfg.DatatypeCheckThreshold), pct(ratio), typ)
			}
		}
		// completeness
		if fc != nil && fc.Completeness != nil {
			comp := float64(obs.present) / float64(obs.present+obs.missing)
			if comp < *fc.Completeness-1e-12 {
				add(bf.Name, schema.CheckCompleteness, "Data completeness requirement is not met. Expected: %s, Observed: Only %s of data is non-null.", pct(*fc.Completeness), pct(comp))
			}
		}
		// non-negativity
		if fc != nil && fc.NumConstraints != nil && fc.NumConstraints.IsNonNegative && obs.hasNumbers && obs.min < 0 {
			add(bf.Name, schema.CheckNonNegative, "Non-negativity requirement is not met. Expected: all values >= 0, Observed: minimum %g.", obs.min)
		}
		// domain
		if fc != nil && fc.StringConstraints != nil && len(fc.StringConstraints.Domains) > 0 && obs.top != nil && obs.present > 0 {
			dom := map[string]bool{}
			for _, d := range fc.StringConstraints.Domains {
				dom[d] = true
			}
			var in int64
			var unknown []string
			for _, vc := range obs.top.Top(0) {
				if dom[vc.Value] {
					in += vc.Count
				} else if len(unknown) < 5 {
					unknown = append(unknown, vc.Value)
				}
			}
			ratio := float64(in) / float64(obs.present)
			if ratio < *cfg.DomainContentThreshold {
				add(bf.Name, schema.CheckCategorical, "Categorical value match requirement is not met. Expected match: %s. Observed: Only %s of data is within the baseline domain; unknown values include %q.",
					pct(*cfg.DomainContentThreshold), pct(ratio), unknown)
			}
		}
		// distribution drift
		if dc.PerformComparison == "Disabled" {
			continue
		}
		d := checkDrift(bf, obs, dc)
		if d == nil {
			continue
		}
		out.Statistics.Features[i].Drift = d
		if d.Distance > d.Threshold {
			add(bf.Name, schema.CheckBaselineDrift, "Baseline drift distance: %.4g exceeds threshold: %.4g (method %s).", d.Distance, d.Threshold, d.Method)
		}
	}
	return out, nil
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", f*100) }

func checkDrift(bf schema.Feature, obs observation, dc schema.DistributionConstraints) *schema.Drift {
	switch {
	case bf.Numerical != nil && obs.kll != nil && obs.kll.N() > 0:
		dist := bf.Numerical.Distribution
		if dist == nil || len(dist.KLL.Sketch.Data) == 0 {
			return nil
		}
		k, c := int(dist.KLL.Sketch.Parameters.K), dist.KLL.Sketch.Parameters.C
		base, err := stats.KLLFromData(k, c, dist.KLL.Sketch.Data)
		if err != nil || base.N() == 0 {
			return nil
		}
		method := dc.ComparisonMethod
		if method != drift.Simple {
			method = drift.Robust
		}
		simple := drift.LInfSimple(base, obs.kll)
		d := &schema.Drift{Method: method, Distance: simple, Threshold: *dc.ComparisonThreshold}
		if method == drift.Robust {
			d.Distance = drift.RobustCorrection(simple, base.N(), obs.kll.N())
		}
		p := drift.KSPValue(simple, base.N(), obs.kll.N())
		var edges []float64
		for i, b := range dist.KLL.Buckets {
			if i > 0 {
				edges = append(edges, b.LowerBound)
			}
		}
		psi := drift.PSI(base, obs.kll, edges)
		d.KSStatistic, d.KSPValue, d.PSI = schema.F(simple), schema.F(p), schema.F(psi)
		return d
	case bf.String != nil && obs.top != nil && obs.top.N() > 0:
		if bf.String.Distribution == nil || len(bf.String.Distribution.Categorical.Buckets) == 0 {
			return nil
		}
		baseCounts := map[string]int64{}
		for _, b := range bf.String.Distribution.Categorical.Buckets {
			baseCounts[b.Value] += b.Count
		}
		curCounts := map[string]int64{}
		for _, vc := range obs.top.Top(0) {
			curCounts[vc.Value] = vc.Count
		}
		method := dc.CategoricalDriftMethod
		if method != drift.ChiSquared {
			method = drift.LInfinity
		}
		dist, chi2 := drift.Categorical(method, dc.ComparisonMethod == drift.Robust, baseCounts, curCounts)
		d := &schema.Drift{Method: method, Distance: dist, Threshold: *dc.CategoricalComparisonThreshold}
		if method == drift.ChiSquared {
			d.ChiSquared = schema.F(chi2)
			// The chi-squared distance is 1 - p-value: drifted when the
			// p-value falls below the threshold.
			d.Threshold = 1 - *dc.CategoricalComparisonThreshold
		}
		if math.IsNaN(d.Distance) {
			return nil
		}
		return d
	}
	return nil
}
