package schema

// Problem types of model-quality monitoring.
const (
	Regression               = "Regression"
	BinaryClassification     = "BinaryClassification"
	MulticlassClassification = "MulticlassClassification"
)

// Comparison operators of model-quality constraints: the constraint is
// violated when the metric compares to the threshold this way.
const (
	LessThanThreshold             = "LessThanThreshold"
	LessThanOrEqualToThreshold    = "LessThanOrEqualToThreshold"
	GreaterThanThreshold          = "GreaterThanThreshold"
	GreaterThanOrEqualToThreshold = "GreaterThanOrEqualToThreshold"
)

// Metric is a model-quality metric with its standard deviation.
type Metric struct {
	Value             float64 `json:"value"`
	StandardDeviation float64 `json:"standard_deviation"`
}

// ModelQualityStatistics is a model-quality statistics.json. Exactly one of
// the metric groups is set.
type ModelQualityStatistics struct {
	Version    float64            `json:"version"`
	Dataset    Dataset            `json:"dataset"`
	Regression map[string]Metric  `json:"regression_metrics,omitempty"`
	Binary     *BinaryMetrics     `json:"binary_classification_metrics,omitempty"`
	Multiclass *MulticlassMetrics `json:"multiclass_classification_metrics,omitempty"`
}

// ConfusionMatrix maps actual label -> predicted label -> count.
type ConfusionMatrix map[string]map[string]int64

// BinaryMetrics are binary-classification metrics: every scalar metric by
// name plus the confusion matrix and curves.
type BinaryMetrics struct {
	ConfusionMatrix ConfusionMatrix
	Metrics         map[string]Metric
	ROC             *ROCCurve
	PR              *PRCurve
}

// ROCCurve is receiver_operating_characteristic_curve.
type ROCCurve struct {
	FalsePositiveRates []float64 `json:"false_positive_rates"`
	TruePositiveRates  []float64 `json:"true_positive_rates"`
}

// PRCurve is precision_recall_curve.
type PRCurve struct {
	Precisions []float64 `json:"precisions"`
	Recalls    []float64 `json:"recalls"`
}

// MulticlassMetrics are multiclass-classification metrics.
type MulticlassMetrics struct {
	ConfusionMatrix ConfusionMatrix
	Metrics         map[string]Metric
}

// MetricConstraint is one model-quality constraint.
type MetricConstraint struct {
	Threshold          float64 `json:"threshold"`
	ComparisonOperator string  `json:"comparison_operator"`
}

// ModelQualityConstraints is a model-quality constraints.json; exactly one
// group is set.
type ModelQualityConstraints struct {
	Version    float64                     `json:"version"`
	Regression map[string]MetricConstraint `json:"regression_constraints,omitempty"`
	Binary     map[string]MetricConstraint `json:"binary_classification_constraints,omitempty"`
	Multiclass map[string]MetricConstraint `json:"multiclass_classification_constraints,omitempty"`
}

// Group returns the problem type and constraints that are set.
func (c ModelQualityConstraints) Group() (string, map[string]MetricConstraint) {
	switch {
	case c.Regression != nil:
		return Regression, c.Regression
	case c.Binary != nil:
		return BinaryClassification, c.Binary
	case c.Multiclass != nil:
		return MulticlassClassification, c.Multiclass
	}
	return "", nil
}

// Violated reports whether value violates c.
func (c MetricConstraint) Violated(value float64) bool {
	switch c.ComparisonOperator {
	case LessThanThreshold:
		return value < c.Threshold
	case LessThanOrEqualToThreshold:
		return value <= c.Threshold
	case GreaterThanThreshold:
		return value > c.Threshold
	case GreaterThanOrEqualToThreshold:
		return value >= c.Threshold
	}
	return false
}
