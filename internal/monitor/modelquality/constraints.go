package modelquality

import (
	"fmt"
	"math"
	"sort"

	"github.com/bridgeops/bridge/internal/monitor/schema"
)

// DefaultTolerance is the relative slack Suggest leaves between a baseline
// metric and its threshold.
const DefaultTolerance = 0.1

// lowerIsBetter lists the metrics where a rise is a degradation.
var lowerIsBetter = map[string]bool{"mae": true, "mse": true, "rmse": true, "false_positive_rate": true, "false_negative_rate": true}

// suggested lists, per problem type, the metrics Suggest constrains.
var suggested = map[string][]string{
	schema.Regression:               {"mae", "mse", "rmse", "r2"},
	schema.BinaryClassification:     {"accuracy", "precision", "recall", "f1", "auc"},
	schema.MulticlassClassification: {"accuracy", "weighted_precision", "weighted_recall", "weighted_f1"},
}

// Suggest derives constraints from baseline statistics: each metric's
// threshold is the baseline value moved by tolerance (relative) in the
// degrading direction; the operator is GreaterThanThreshold for error
// metrics (mae, mse, rmse) and LessThanThreshold for the others.
func Suggest(st *schema.ModelQualityStatistics, tolerance float64) *schema.ModelQualityConstraints {
	if tolerance < 0 {
		tolerance = DefaultTolerance
	}
	out := &schema.ModelQualityConstraints{Version: 0}
	var problem string
	var metrics map[string]schema.Metric
	switch {
	case st.Regression != nil:
		problem, metrics = schema.Regression, st.Regression
	case st.Binary != nil:
		problem, metrics = schema.BinaryClassification, st.Binary.Metrics
	case st.Multiclass != nil:
		problem, metrics = schema.MulticlassClassification, st.Multiclass.Metrics
	}
	group := map[string]schema.MetricConstraint{}
	for _, name := range suggested[problem] {
		m, ok := metrics[name]
		if !ok || math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			continue
		}
		if lowerIsBetter[name] {
			group[name] = schema.MetricConstraint{Threshold: m.Value * (1 + tolerance), ComparisonOperator: schema.GreaterThanThreshold}
		} else {
			group[name] = schema.MetricConstraint{Threshold: m.Value - math.Abs(m.Value)*tolerance, ComparisonOperator: schema.LessThanThreshold}
		}
	}
	switch problem {
	case schema.Regression:
		out.Regression = group
	case schema.BinaryClassification:
		out.Binary = group
	case schema.MulticlassClassification:
		out.Multiclass = group
	}
	return out
}

// Check compares a window's statistics with the constraints and returns the
// violations (SageMaker's model-quality form: metric_name, the operator as
// constraint_check_type, a description).
func Check(st *schema.ModelQualityStatistics, c *schema.ModelQualityConstraints) (schema.Violations, error) {
	out := schema.Violations{Violations: []schema.Violation{}}
	problem, group := c.Group()
	var metrics map[string]schema.Metric
	switch problem {
	case schema.Regression:
		metrics = st.Regression
	case schema.BinaryClassification:
		if st.Binary != nil {
			metrics = st.Binary.Metrics
		}
	case schema.MulticlassClassification:
		if st.Multiclass != nil {
			metrics = st.Multiclass.Metrics
		}
	default:
		return out, fmt.Errorf("model-quality constraints name no problem type: want regression_constraints, binary_classification_constraints or multiclass_classification_constraints")
	}
	if metrics == nil {
		return out, fmt.Errorf("the window's statistics are not %s metrics: check --problem-type against the baseline", problem)
	}
	names := make([]string, 0, len(group))
	for k := range group {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		mc := group[name]
		m, ok := metrics[name]
		if !ok || math.IsNaN(m.Value) {
			continue
		}
		if mc.Violated(m.Value) {
			out.Violations = append(out.Violations, schema.Violation{
				MetricName:          name,
				ConstraintCheckType: mc.ComparisonOperator,
				Description:         fmt.Sprintf("Metric %s with %.4g +/- %.4g was %s '%.4g'", name, m.Value, m.StandardDeviation, mc.ComparisonOperator, mc.Threshold),
			})
		}
	}
	return out, nil
}
