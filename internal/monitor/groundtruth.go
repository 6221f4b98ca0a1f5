package monitor

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/source"
)

// GroundTruthResult is what AddGroundTruth wrote.
type GroundTruthResult struct {
	Records   int    // ground-truth records written
	Malformed int    // rows skipped: not two fields, no id, unparseable
	Location  string // the object written, output/key
}

// AddGroundTruth converts a CSV of inference_id,label rows (an optional
// header row naming them) into SageMaker ground-truth records and writes
// them as one JSON Lines object under output's hour directory of at.
func AddGroundTruth(ctx context.Context, csvPath, output string, at time.Time, aws config.AWSSettings) (GroundTruthResult, error) {
	var res GroundTruthResult
	in, err := os.Open(csvPath)
	if err != nil {
		return res, err // names the file
	}
	defer in.Close()
	out, n, bad, err := groundTruthLines(in)
	if err != nil {
		return res, fmt.Errorf("read %s: %w", csvPath, err)
	}
	res.Malformed = bad
	if n == 0 {
		return res, fmt.Errorf("%s holds no inference_id,label rows", csvPath)
	}
	st, err := source.Open(ctx, output, aws)
	if err != nil {
		return res, err
	}
	key := source.HourPath(at) + "/" + at.UTC().Format("04-05-000") + "-" + capture.NewID() + ".jsonl"
	if err := st.Put(ctx, key, out); err != nil {
		return res, err
	}
	res.Records = n
	res.Location = strings.TrimSuffix(output, "/") + "/" + key
	return res, nil
}

// groundTruthLines reads inference_id,label rows into ground-truth lines.
func groundTruthLines(in io.Reader) (out []byte, n, bad int, err error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad++
				continue
			}
			return nil, 0, 0, err
		}
		if first && len(rec) == 2 && strings.EqualFold(strings.TrimSpace(rec[0]), "inference_id") {
			continue
		}
		if len(rec) != 2 || strings.TrimSpace(rec[0]) == "" {
			bad++
			continue
		}
		out = capture.AppendGroundTruthLine(out, &capture.GroundTruth{EventID: strings.TrimSpace(rec[0]), Data: []byte(strings.TrimSpace(rec[1]))})
		n++
	}
	return out, n, bad, nil
}
