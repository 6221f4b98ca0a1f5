package sagemaker

import "fmt"

// Fill completes a monitoring job's baseline files from what the package
// registered: statistics and constraints given already (by flags) win.
// kind is data-quality or model-quality; data quality needs statistics.
// note says where the files come from, for the user.
func (b Baselines) Fill(kind string, statistics, constraints *string) (note string, err error) {
	if *constraints == "" {
		*constraints = b.Constraints
	}
	if *statistics == "" {
		*statistics = b.Statistics
	}
	if kind == "data-quality" && *statistics == "" {
		return "", fmt.Errorf("model package %s registered no data-quality statistics (DriftCheckBaselines.ModelDataQuality.Statistics or ModelMetrics.ModelDataQuality.Statistics): pass --baseline-statistics", b.PackageARN)
	}
	note = fmt.Sprintf("baseline of model package %s: constraints %s", b.PackageARN, *constraints)
	if *constraints == b.Constraints {
		note += " (" + b.ConstraintsFrom + ")"
	}
	if *statistics != "" {
		note += ", statistics " + *statistics
		if *statistics == b.Statistics {
			note += " (" + b.StatisticsFrom + ")"
		}
	}
	return note, nil
}
