package monitor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/monitor/dataquality"
	"github.com/bridgeops/bridge/internal/monitor/modelquality"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/tabular"
)

// BaselineResult summarises a baseline job.
type BaselineResult struct {
	Rows      int64
	Malformed int64
	Skipped   int64 // model quality: rows whose values did not parse
	Dir       string
}

// BaselineDataQuality profiles a dataset (CSV with a header row, or JSON
// Lines) and writes statistics.json and suggested constraints.json to out.
// Columns named in exclude (the label, ids, anything the endpoint is not
// sent) are left out of the baseline, so the features are the remaining
// columns in order, as captured CSV requests carry them.
func BaselineDataQuality(ctx context.Context, dataset, out string, exclude ...string) (*BaselineResult, error) {
	var p *dataquality.Profile
	var keep []int // indexes of the profiled columns
	var kept [][]byte
	var nCols int
	_, malformed, err := tabular.ReadDataset(dataset, func(cols []string, row [][]byte) error {
		if p == nil {
			var err error
			if keep, err = keptColumns(cols, exclude); err != nil {
				return err
			}
			nCols = len(cols)
			specs := make([]dataquality.Spec, len(keep))
			for i, c := range keep {
				specs[i] = dataquality.Spec{Name: cols[c], Mode: dataquality.Infer}
			}
			p = dataquality.NewProfile(specs)
		}
		if len(keep) < nCols {
			kept = kept[:0]
			for _, c := range keep {
				if c < len(row) {
					kept = append(kept, row[c])
				}
			}
			// A short row stays short; an over-long row's extra fields
			// are not the excluded columns' business.
			extra := len(row) > nCols
			if extra {
				kept = append(kept, row[nCols:]...)
			}
			p.AddFields(kept, len(row) < nCols, extra)
		} else {
			p.AddFields(row, len(row) < nCols, len(row) > nCols)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", dataset, err)
	}
	if p == nil || p.Items() == 0 {
		return nil, fmt.Errorf("baseline %s: the dataset has no rows", dataset)
	}
	st := p.Statistics()
	if err := schema.WriteJSON(out, schema.StatisticsFile, st); err != nil {
		return nil, err
	}
	if err := schema.WriteJSON(out, schema.ConstraintsFile, dataquality.Suggest(st)); err != nil {
		return nil, err
	}
	return &BaselineResult{Rows: p.Items(), Malformed: malformed, Dir: out}, nil
}

// keptColumns returns the indexes of cols not named in exclude; every
// excluded name must be a column, and one column must remain.
func keptColumns(cols, exclude []string) ([]int, error) {
	drop := map[string]bool{}
	for _, e := range exclude {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !slices.Contains(cols, e) {
			return nil, fmt.Errorf("excluded column %q is not in the dataset (columns: %s)", e, strings.Join(cols, ", "))
		}
		drop[e] = true
	}
	var keep []int
	for i, c := range cols {
		if !drop[c] {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, errors.New("every column is excluded: nothing left to profile")
	}
	return keep, nil
}

// ModelQualityBaseline configures a model-quality baseline job.
type ModelQualityBaseline struct {
	Dataset              string
	ProblemType          string
	InferenceAttribute   string // column of the predicted value/label
	ProbabilityAttribute string // column of the positive class's probability (binary)
	GroundTruthAttribute string // column of the label
	PositiveLabel        string
	ProbabilityThreshold float64
	// Tolerance is the relative slack of the suggested thresholds
	// (default modelquality.DefaultTolerance).
	Tolerance float64
	Output    string
	Now       func() time.Time
}

// BaselineModelQuality computes the metrics of a dataset holding
// predictions and labels and writes statistics.json and suggested
// constraints.json.
func BaselineModelQuality(ctx context.Context, b ModelQualityBaseline) (*BaselineResult, error) {
	if b.GroundTruthAttribute == "" || (b.InferenceAttribute == "" && b.ProbabilityAttribute == "") {
		return nil, fmt.Errorf("name the label column (--ground-truth-attribute) and the prediction column (--inference-attribute, or --probability-attribute for binary classification)")
	}
	acc, err := modelquality.New(modelquality.Config{ProblemType: b.ProblemType, PositiveLabel: b.PositiveLabel, ProbabilityThreshold: b.ProbabilityThreshold})
	if err != nil {
		return nil, err
	}
	if b.Tolerance == 0 {
		b.Tolerance = modelquality.DefaultTolerance
	}
	if b.Now == nil {
		b.Now = time.Now
	}
	idx := map[string]int{}
	_, malformed, err := tabular.ReadDataset(b.Dataset, func(cols []string, row [][]byte) error {
		if len(idx) == 0 {
			for i, c := range cols {
				idx[c] = i
			}
			for _, want := range []string{b.InferenceAttribute, b.ProbabilityAttribute, b.GroundTruthAttribute} {
				if _, ok := idx[want]; want != "" && !ok {
					return fmt.Errorf("column %q is not in the dataset (columns: %v)", want, cols)
				}
			}
		}
		get := func(col string) string {
			if col == "" {
				return ""
			}
			if i := idx[col]; i < len(row) {
				return string(row[i])
			}
			return ""
		}
		acc.Add(get(b.InferenceAttribute), get(b.ProbabilityAttribute), get(b.GroundTruthAttribute))
		return ctx.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", b.Dataset, err)
	}
	if acc.N() == 0 {
		return nil, fmt.Errorf("baseline %s: no row had a parseable prediction and label", b.Dataset)
	}
	st := acc.Statistics(b.Now())
	if err := schema.WriteJSON(b.Output, schema.StatisticsFile, st); err != nil {
		return nil, err
	}
	if err := schema.WriteJSON(b.Output, schema.ConstraintsFile, modelquality.Suggest(st, b.Tolerance)); err != nil {
		return nil, err
	}
	return &BaselineResult{Rows: acc.N(), Malformed: malformed, Skipped: acc.Invalid(), Dir: b.Output}, nil
}
