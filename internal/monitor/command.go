package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/schema"
)

// The functions in this file are the bodies of bridge monitor baseline and
// bridge monitor ground-truth add: each checks what it is given, does the
// work and says what it wrote.

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

// GroundTruthInput is what bridge monitor ground-truth add is given.
type GroundTruthInput struct {
	CSV    string // inference_id,label rows
	Output string // directory or s3://bucket/prefix
	At     string // hour directory to write to, RFC 3339; "" means clock
}

// WriteGroundTruth converts in.CSV into ground-truth records
// (AddGroundTruth), says where they went on out, and warns on warn about
// the malformed rows it skipped.
func WriteGroundTruth(ctx context.Context, out, warn io.Writer, in GroundTruthInput, clock time.Time, aws config.AWSSettings) error {
	if in.CSV == "" || in.Output == "" {
		return errors.New("pass --csv FILE and --output DIR|s3://bucket/prefix")
	}
	at := clock
	if in.At != "" {
		t, err := ParseTime("time", in.At)
		if err != nil {
			return err
		}
		at = t
	}
	res, err := AddGroundTruth(ctx, in.CSV, in.Output, at, aws)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d ground-truth records written to %s\n", res.Records, res.Location)
	if res.Malformed > 0 {
		fmt.Fprintf(warn, "warning: %d malformed rows skipped\n", res.Malformed)
	}
	return nil
}
