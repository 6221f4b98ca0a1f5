// Package schema declares the JSON documents of SageMaker Model Monitor that
// Bridge reads and writes: statistics.json, constraints.json and
// constraint_violations.json, for data quality and for model quality. Field
// names follow AWS's published schemas so baselines and reports move between
// SageMaker and Bridge unchanged. Fields Bridge adds are marked as
// extensions; readers that follow the schema ignore them.
package schema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Inferred types of a feature.
const (
	TypeIntegral   = "Integral"
	TypeFractional = "Fractional"
	TypeString     = "String"
	TypeUnknown    = "Unknown"
)

// File names of a baseline or a monitoring execution's output.
const (
	StatisticsFile  = "statistics.json"
	ConstraintsFile = "constraints.json"
	ViolationsFile  = "constraint_violations.json"
)

// Statistics is a data-quality statistics.json.
type Statistics struct {
	Version  float64   `json:"version"`
	Dataset  Dataset   `json:"dataset"`
	Features []Feature `json:"features"`
}

// Dataset holds dataset-level statistics.
type Dataset struct {
	ItemCount int64 `json:"item_count"`
	// EvaluationTime is set in model-quality statistics.
	EvaluationTime string `json:"evaluation_time,omitempty"`
}

// Feature holds one feature's statistics.
type Feature struct {
	Name         string          `json:"name"`
	InferredType string          `json:"inferred_type"`
	Numerical    *NumericalStats `json:"numerical_statistics,omitempty"`
	String       *StringStats    `json:"string_statistics,omitempty"`
	Drift        *Drift          `json:"drift,omitempty"` // extension: drift against the baseline
}

// Common holds counts shared by numerical and string statistics.
type Common struct {
	NumPresent int64 `json:"num_present"`
	NumMissing int64 `json:"num_missing"`
}

// NumericalStats are the statistics of an Integral or Fractional feature.
type NumericalStats struct {
	Common       Common           `json:"common"`
	Mean         float64          `json:"mean"`
	Sum          float64          `json:"sum"`
	StdDev       float64          `json:"std_dev"`
	Min          float64          `json:"min"`
	Max          float64          `json:"max"`
	Distribution *NumDistribution `json:"distribution,omitempty"`
}

// NumDistribution wraps the KLL sketch of a numerical feature.
type NumDistribution struct {
	KLL KLLDistribution `json:"kll"`
}

// KLLDistribution is the materialised buckets plus the sketch itself.
type KLLDistribution struct {
	Buckets []KLLBucket `json:"buckets"`
	Sketch  KLLSketch   `json:"sketch"`
}

// KLLBucket is one equal-width bucket.
type KLLBucket struct {
	LowerBound float64 `json:"lower_bound"`
	UpperBound float64 `json:"upper_bound"`
	Count      float64 `json:"count"`
}

// KLLSketch is a serialised KLL sketch: data[h] holds items of weight 2^h.
type KLLSketch struct {
	Parameters KLLParameters `json:"parameters"`
	Data       [][]float64   `json:"data"`
}

// KLLParameters are the sketch's c (shrinking factor) and k (size).
type KLLParameters struct {
	C float64 `json:"c"`
	K float64 `json:"k"`
}

// StringStats are the statistics of a String feature.
type StringStats struct {
	Common        Common           `json:"common"`
	DistinctCount float64          `json:"distinct_count"`
	Distribution  *StrDistribution `json:"distribution,omitempty"`
}

// StrDistribution wraps the categorical buckets.
type StrDistribution struct {
	Categorical Categorical `json:"categorical"`
}

// Categorical lists value counts (the most frequent values).
type Categorical struct {
	Buckets []CategoricalBucket `json:"buckets"`
}

// CategoricalBucket is one value's count.
type CategoricalBucket struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Drift is Bridge's extension reporting how a feature moved against the
// baseline: the distance the baseline_drift_check compares with its
// threshold, and for numerical features PSI and Kolmogorov-Smirnov.
type Drift struct {
	Method    string  `json:"method"`   // "Simple", "Robust", "LInfinity", "ChiSquared"
	Distance  float64 `json:"distance"` // compared with the threshold
	Threshold float64 `json:"threshold"`
	// Numerical features only.
	KSStatistic *float64 `json:"ks_statistic,omitempty"`
	KSPValue    *float64 `json:"ks_p_value,omitempty"`
	PSI         *float64 `json:"psi,omitempty"`
	// Categorical ChiSquared only.
	ChiSquared *float64 `json:"chi_squared,omitempty"`
}

// Constraints is a data-quality constraints.json.
type Constraints struct {
	Version          float64             `json:"version"`
	Features         []FeatureConstraint `json:"features"`
	MonitoringConfig MonitoringConfig    `json:"monitoring_config"`
}

// FeatureConstraint constrains one feature.
type FeatureConstraint struct {
	Name              string             `json:"name"`
	InferredType      string             `json:"inferred_type"`
	Completeness      *float64           `json:"completeness,omitempty"`
	NumConstraints    *NumConstraints    `json:"num_constraints,omitempty"`
	StringConstraints *StringConstraints `json:"string_constraints,omitempty"`
	// MonitoringConfigOverrides may override monitoring_config for this
	// feature (Bridge honours comparison thresholds and methods).
	MonitoringConfigOverrides *MonitoringConfig `json:"monitoringConfigOverrides,omitempty"`
}

// NumConstraints are numerical constraints.
type NumConstraints struct {
	IsNonNegative bool `json:"is_non_negative"`
}

// StringConstraints are string constraints.
type StringConstraints struct {
	Domains []string `json:"domains"`
}

// MonitoringConfig controls evaluation.
type MonitoringConfig struct {
	EvaluateConstraints     string                   `json:"evaluate_constraints,omitempty"`
	EmitMetrics             string                   `json:"emit_metrics,omitempty"`
	DatatypeCheckThreshold  *float64                 `json:"datatype_check_threshold,omitempty"`
	DomainContentThreshold  *float64                 `json:"domain_content_threshold,omitempty"`
	DistributionConstraints *DistributionConstraints `json:"distribution_constraints,omitempty"`
}

// DistributionConstraints configure the baseline drift check.
type DistributionConstraints struct {
	PerformComparison              string   `json:"perform_comparison,omitempty"`
	ComparisonThreshold            *float64 `json:"comparison_threshold,omitempty"`
	ComparisonMethod               string   `json:"comparison_method,omitempty"`
	CategoricalComparisonThreshold *float64 `json:"categorical_comparison_threshold,omitempty"`
	CategoricalDriftMethod         string   `json:"categorical_drift_method,omitempty"`
}

// Violation check types of constraint_violations.json.
const (
	CheckDataType      = "data_type_check"
	CheckCompleteness  = "completeness_check"
	CheckBaselineDrift = "baseline_drift_check"
	CheckMissingColumn = "missing_column_check"
	CheckExtraColumn   = "extra_column_check"
	CheckCategorical   = "categorical_values_check"
	// CheckNonNegative is Bridge's name for a failed
	// num_constraints.is_non_negative (SageMaker's list has none).
	CheckNonNegative = "non_negative_check"
)

// Violations is constraint_violations.json.
type Violations struct {
	Violations []Violation `json:"violations"`
}

// Violation is one failed check. Data-quality violations carry a feature
// name; model-quality ones a metric name and the comparison operator as the
// check type.
type Violation struct {
	FeatureName         string `json:"feature_name,omitempty"`
	MetricName          string `json:"metric_name,omitempty"`
	ConstraintCheckType string `json:"constraint_check_type"`
	Description         string `json:"description"`
}

// F returns a pointer to v (for optional numbers).
func F(v float64) *float64 { return &v }

// WriteJSON writes v as indented JSON to dir/name, creating dir.
func WriteJSON(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	path := filepath.Join(dir, name)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadJSON reads dir/name into v.
func ReadJSON(dir, name string, v any) error {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}
