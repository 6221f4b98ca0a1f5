package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bridgeops/bridge/internal/monitor/schema"
)

// DataQualityBaseline is what bridge monitor baseline data-quality is
// given.
type DataQualityBaseline struct {
	Dataset string
	Output  string
	// Exclude are columns left out of the profile; GroundTruthAttribute
	// (the label) is left out the same way.
	Exclude              []string
	GroundTruthAttribute string
}

// WriteDataQualityBaseline profiles b.Dataset into b.Output
// (BaselineDataQuality), says where on out, and warns on warn about the
// malformed rows it skipped.
func WriteDataQualityBaseline(ctx context.Context, out, warn io.Writer, b DataQualityBaseline) error {
	if b.Dataset == "" || b.Output == "" {
		return errors.New("pass --dataset FILE and --output DIR")
	}
	exclude := b.Exclude
	if b.GroundTruthAttribute != "" {
		exclude = append(exclude, b.GroundTruthAttribute)
	}
	res, err := BaselineDataQuality(ctx, b.Dataset, b.Output, exclude...)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "baseline of %d rows written to %s (%s, %s)\n", res.Rows, res.Dir, schema.StatisticsFile, schema.ConstraintsFile)
	if res.Malformed > 0 {
		fmt.Fprintf(warn, "warning: %d malformed rows skipped\n", res.Malformed)
	}
	return nil
}

// WriteModelQualityBaseline computes b's metrics into b.Output
// (BaselineModelQuality), says where on out, and warns on warn about the
// rows it skipped.
func WriteModelQualityBaseline(ctx context.Context, out, warn io.Writer, b ModelQualityBaseline) error {
	if b.Dataset == "" || b.Output == "" {
		return errors.New("pass --dataset FILE and --output DIR")
	}
	res, err := BaselineModelQuality(ctx, b)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "model-quality baseline of %d rows written to %s\n", res.Rows, res.Dir)
	if res.Malformed+res.Skipped > 0 {
		fmt.Fprintf(warn, "warning: %d malformed rows and %d rows with unparseable values skipped\n", res.Malformed, res.Skipped)
	}
	return nil
}
