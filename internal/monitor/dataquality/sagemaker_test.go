package dataquality

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/monitor/schema"
)

// A baseline in the shape SageMaker Model Monitor's baseline job writes
// (AWS's published schemas): Bridge must read it and check windows with it.
const sagemakerStatistics = `{
  "version": 0.0,
  "dataset": {"item_count": 1000},
  "features": [
    {"name": "_c0", "inferred_type": "Fractional",
     "numerical_statistics": {"common": {"num_present": 1000, "num_missing": 0},
       "mean": 0.5, "sum": 500.0, "std_dev": 0.2886, "min": 0.0, "max": 0.999,
       "distribution": {"kll": {
         "buckets": [%s],
         "sketch": {"parameters": {"c": 0.64, "k": 2048.0}, "data": [[%s]]}}}}},
    {"name": "_c1", "inferred_type": "String",
     "string_statistics": {"common": {"num_present": 1000, "num_missing": 0}, "distinct_count": 2.0,
       "distribution": {"categorical": {"buckets": [{"value": "yes", "count": 500}, {"value": "no", "count": 500}]}}}}
  ]
}`

const sagemakerConstraints = `{
  "version": 0.0,
  "features": [
    {"name": "_c0", "inferred_type": "Fractional", "completeness": 1.0, "num_constraints": {"is_non_negative": true}},
    {"name": "_c1", "inferred_type": "String", "completeness": 1.0, "string_constraints": {"domains": ["no", "yes"]}}
  ],
  "monitoring_config": {"evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0, "domain_content_threshold": 1.0,
    "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1, "comparison_method": "Robust"}}
}`

func sagemakerBaseline(t *testing.T) Baseline {
	t.Helper()
	var data, buckets []string
	for i := 0; i < 1000; i++ {
		data = append(data, fmt.Sprintf("%.3f", float64(i)/1000))
	}
	for i := 0; i < 10; i++ {
		buckets = append(buckets, fmt.Sprintf(`{"lower_bound": %.4f, "upper_bound": %.4f, "count": 100.0}`, float64(i)*0.0999, float64(i+1)*0.0999))
	}
	var st schema.Statistics
	if err := json.Unmarshal([]byte(fmt.Sprintf(sagemakerStatistics, strings.Join(buckets, ","), strings.Join(data, ","))), &st); err != nil {
		t.Fatal(err)
	}
	var c schema.Constraints
	if err := json.Unmarshal([]byte(sagemakerConstraints), &c); err != nil {
		t.Fatal(err)
	}
	return Baseline{Statistics: &st, Constraints: &c}
}

func TestSageMakerBaseline(t *testing.T) {
	base := sagemakerBaseline(t)
	window := func(shift float64, cat func(i int) string) *Profile {
		p := NewProfile(SpecsFromBaseline(base.Statistics))
		for i := 0; i < 2000; i++ {
			p.AddFields([][]byte{[]byte(fmt.Sprint(float64(i%1000)/1000 + shift)), []byte(cat(i))}, false, false)
		}
		return p
	}
	yesNo := func(i int) string {
		if i%2 == 0 {
			return "yes"
		}
		return "no"
	}
	cases := []struct {
		name string
		p    *Profile
		want []string
	}{
		{"same", window(0, yesNo), nil},
		{"shifted", window(0.3, yesNo), []string{"_c0/baseline_drift_check"}},
		{"mostly yes", window(0, func(i int) string {
			if i%10 == 0 {
				return "no"
			}
			return "yes"
		}), []string{"_c1/baseline_drift_check"}},
		{"maybe", window(0, func(i int) string {
			if i == 7 {
				return "maybe"
			}
			return yesNo(i)
		}), []string{"_c1/categorical_values_check"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Check(base, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range res.Violations.Violations {
				got = append(got, v.FeatureName+"/"+v.ConstraintCheckType)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("violations %v, want %v", res.Violations.Violations, tc.want)
			}
			if d := res.Statistics.Features[0].Drift; d == nil || d.Method != "Robust" || d.Threshold != 0.1 {
				t.Errorf("drift %+v", d)
			}
		})
	}
}
