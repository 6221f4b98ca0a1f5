// Package monitor runs Bridge's model monitoring: it builds data-quality
// and model-quality baselines from datasets, and evaluates a window of
// captured traffic (merged with ground truth for model quality) against a
// baseline, writing SageMaker Model Monitor's statistics.json and
// constraint_violations.json.
package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bridgeops/bridge/internal/capture"
	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/monitor/dataquality"
	"github.com/bridgeops/bridge/internal/monitor/join"
	"github.com/bridgeops/bridge/internal/monitor/modelquality"
	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/source"
	"github.com/bridgeops/bridge/internal/monitor/tabular"
)

// Monitoring types.
const (
	DataQuality  = "data-quality"
	ModelQuality = "model-quality"
)

// ReportFile is Bridge's summary of a run, next to the SageMaker files.
const ReportFile = "bridge_report.json"

// Job is one monitoring run over one window.
type Job struct {
	// AWS are the settings for s3:// locations.
	AWS         config.AWSSettings
	Type        string // DataQuality or ModelQuality
	Endpoint    string
	Capture     string // directory or s3://bucket/prefix holding <endpoint>/<variant>/YYYY/MM/DD/HH/
	GroundTruth string // directory or s3://... holding YYYY/MM/DD/HH/ (model quality)
	Baseline    string // directory with statistics.json / constraints.json
	// BaselineStatistics and BaselineConstraints name the baseline's files
	// directly (a path or s3://bucket/key, e.g. a model package's
	// DriftCheckBaselines or ModelMetrics files); each overrides the file
	// of the same name in Baseline.
	BaselineStatistics, BaselineConstraints string
	Output                                  string // directory for the results
	// MinRecords is the fewest evaluated rows (data quality: captured
	// rows; model quality: rows merged with ground truth) a window needs to
	// be checked (default 1). A window with fewer ends as StatusNoData:
	// no violations, no metrics.
	MinRecords int64
	// AllowMissing makes an endpoint that has never been captured an empty
	// window rather than an error (an endpoint not deployed yet).
	AllowMissing bool
	// Start and End bound the window [Start, End); zero means open.
	Start, End time.Time

	// Model quality: how to read captured responses and labels. The
	// problem type defaults to the baseline constraints'.
	ProblemType          string
	Attributes           modelquality.Attributes
	PositiveLabel        string
	ProbabilityThreshold float64

	// Workers is the parallelism (default GOMAXPROCS).
	Workers int
	// JoinMemory bounds the ground truth held in memory, in bytes of
	// ground-truth files (default 64 MiB); past it the merge spills to
	// partition files in TempDir.
	JoinMemory int64
	TempDir    string
	// Now stamps evaluation_time (default time.Now).
	Now func() time.Time
}

// Report summarises a run.
type Report struct {
	Type string `json:"type"`
	// Status is StatusCompleted, StatusViolations or StatusNoData.
	Status     string     `json:"status"`
	Endpoint   string     `json:"endpoint"`
	Start      *time.Time `json:"start,omitempty"`
	End        *time.Time `json:"end,omitempty"`
	Files      int        `json:"capture_files"`
	Records    int64      `json:"capture_records"`
	Rows       int64      `json:"rows"`
	Malformed  int64      `json:"malformed_lines"`
	BadPayload int64      `json:"unparseable_payloads"`
	OutOfRange int64      `json:"records_outside_window"`
	// Model quality.
	GroundTruthRecords   int64              `json:"ground_truth_records,omitempty"`
	MalformedGroundTruth int64              `json:"malformed_ground_truth_lines,omitempty"`
	Unmatched            int64              `json:"records_without_ground_truth,omitempty"`
	RowMismatch          int64              `json:"records_with_row_count_mismatch,omitempty"`
	Spilled              bool               `json:"join_spilled,omitempty"`
	JoinMemory           int64              `json:"join_table_bytes,omitempty"`
	Metrics              map[string]float64 `json:"metrics"`
	Violations           []schema.Violation `json:"violations"`
	StatisticsPath       string             `json:"statistics_path"`
	ViolationsPath       string             `json:"violations_path"`
	Duration             float64            `json:"duration_seconds"`
}

func (j *Job) defaults() {
	if j.MinRecords <= 0 {
		j.MinRecords = 1
	}
	if j.Workers <= 0 {
		j.Workers = runtime.GOMAXPROCS(0)
	}
	if j.JoinMemory <= 0 {
		j.JoinMemory = 64 << 20
	}
	if j.Now == nil {
		j.Now = time.Now
	}
}

// Run evaluates the job's window against its baseline and writes
// statistics.json, constraint_violations.json and bridge_report.json to the
// output directory. Violations are results, not errors.
func Run(ctx context.Context, j Job) (*Report, error) {
	j.defaults()
	began := time.Now()
	if j.Endpoint == "" {
		return nil, fmt.Errorf("no endpoint: pass --endpoint NAME (the endpoint directory under the capture location)")
	}
	if j.Output == "" || j.Capture == "" || (j.Baseline == "" && j.BaselineConstraints == "" && j.BaselineStatistics == "") {
		return nil, fmt.Errorf("a monitoring run needs --capture, --output and --baseline (or --baseline-statistics / --baseline-constraints)")
	}
	if !j.Start.IsZero() && !j.End.IsZero() && !j.End.After(j.Start) {
		return nil, fmt.Errorf("window end %s is not after its start %s", j.End.Format(time.RFC3339), j.Start.Format(time.RFC3339))
	}
	capStore, err := source.Open(ctx, j.Capture, j.AWS)
	if err != nil {
		return nil, err
	}
	objs, err := source.Window(ctx, capStore, j.Endpoint, j.Start, j.End)
	if err != nil {
		return nil, fmt.Errorf("list captures of %s: %w", j.Endpoint, err)
	}
	// Checked once the baseline has been read, so a bad baseline is
	// reported first.
	checkEndpoint := func() error {
		if len(objs) == 0 && !j.AllowMissing {
			return CheckEndpoint(ctx, capStore, j.Endpoint)
		}
		return nil
	}
	rep := &Report{Type: j.Type, Endpoint: j.Endpoint, Files: len(objs), Metrics: map[string]float64{}}
	if !j.Start.IsZero() {
		t := j.Start.UTC()
		rep.Start = &t
	}
	if !j.End.IsZero() {
		t := j.End.UTC()
		rep.End = &t
	}
	var res *result
	switch j.Type {
	case DataQuality:
		res, err = runDataQuality(ctx, j, capStore, objs, rep, checkEndpoint)
	case ModelQuality:
		res, err = runModelQuality(ctx, j, capStore, objs, rep, checkEndpoint)
	default:
		err = fmt.Errorf("monitoring type %q: want data-quality or model-quality", j.Type)
	}
	if err != nil {
		return nil, err
	}
	if res.evaluated < j.MinRecords {
		// Nothing (or too little) to judge: no violations, no metrics and
		// no statistics, so nothing alerts on an empty window.
		rep.Status = StatusNoData
		rep.Metrics = map[string]float64{}
		rep.Violations = nil
		if err := schema.WriteJSON(j.Output, schema.ViolationsFile, schema.Violations{Violations: []schema.Violation{}}); err != nil {
			return nil, err
		}
		rep.ViolationsPath = j.Output + "/" + schema.ViolationsFile
		if err := os.Remove(filepath.Join(j.Output, schema.StatisticsFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	} else {
		rep.Status = StatusCompleted
		if len(res.violations.Violations) > 0 {
			rep.Status = StatusViolations
		}
		if err := writeResults(j, rep, res.statistics, res.violations); err != nil {
			return nil, err
		}
	}
	rep.Duration = time.Since(began).Seconds()
	if err := schema.WriteJSON(j.Output, ReportFile, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// inWindow reports whether an event's inference time is inside the window
// (events without a time are placed by their hour directory alone).
func (j *Job) inWindow(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	if !j.Start.IsZero() && t.Before(j.Start) {
		return false
	}
	if !j.End.IsZero() && !t.Before(j.End) {
		return false
	}
	return true
}

type counters struct {
	records, rows, malformed, badPayload, outOfRange atomic.Int64
}

func (c *counters) into(r *Report) {
	r.Records, r.Rows, r.Malformed, r.BadPayload, r.OutOfRange = c.records.Load(), c.rows.Load(), c.malformed.Load(), c.badPayload.Load(), c.outOfRange.Load()
}

// result is what a run found, before it is written.
type result struct {
	evaluated  int64 // rows checked: captured rows, or rows merged with ground truth
	statistics any
	violations schema.Violations
}

func runDataQuality(ctx context.Context, j Job, store source.Store, objs []source.Object, rep *Report, checkEndpoint func() error) (*result, error) {
	var base dataquality.Baseline
	base.Statistics = &schema.Statistics{}
	where, err := readBaselineFile(ctx, j, schema.StatisticsFile, base.Statistics)
	if err != nil {
		return nil, fmt.Errorf("read data-quality baseline: %w (create one with bridge monitor baseline data-quality)", err)
	}
	if len(base.Statistics.Features) == 0 {
		return nil, fmt.Errorf("baseline %s has no features: is it a model-quality baseline? use --type model-quality", where)
	}
	cons := &schema.Constraints{}
	if _, err := readBaselineFile(ctx, j, schema.ConstraintsFile, cons); err == nil {
		base.Constraints = cons
	} else if j.BaselineConstraints != "" {
		return nil, fmt.Errorf("read data-quality baseline: %w", err)
	}
	if err := checkEndpoint(); err != nil {
		return nil, err
	}
	specs := dataquality.SpecsFromBaseline(base.Statistics)
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	profiles := make([]*dataquality.Profile, j.Workers)
	parsers := make([]*tabular.Parser, j.Workers)
	events := make([]capture.Event, j.Workers)
	for w := range profiles {
		profiles[w] = dataquality.NewProfile(specs)
		parsers[w] = tabular.NewParser(names)
	}
	var c counters
	tooLong, err := source.Lines(ctx, store, objs, j.Workers, func(w int, line []byte) {
		ev := &events[w]
		if capture.ParseLine(line, ev) != nil {
			c.malformed.Add(1)
			return
		}
		if !j.inWindow(ev.InferenceTime) {
			c.outOfRange.Add(1)
			return
		}
		c.records.Add(1)
		if ev.Input == nil {
			return
		}
		p := profiles[w]
		rows := int64(0)
		err := parsers[w].Rows(ev.Input.Encoding, ev.Input.Data, func(fields [][]byte, short, long bool) {
			p.AddFields(fields, short, long)
			rows++
		})
		c.rows.Add(rows)
		if err != nil {
			c.badPayload.Add(1)
		}
	})
	if err != nil {
		return nil, err
	}
	c.malformed.Add(tooLong)
	for _, p := range profiles[1:] {
		profiles[0].Merge(p)
	}
	c.into(rep)
	res, err := dataquality.Check(base, profiles[0])
	if err != nil {
		return nil, err
	}
	rep.Violations = res.Violations.Violations
	for _, f := range res.Statistics.Features {
		if f.Drift != nil {
			rep.Metrics[f.Name+".baseline_drift"] = f.Drift.Distance
			if f.Drift.PSI != nil {
				rep.Metrics[f.Name+".psi"] = *f.Drift.PSI
			}
			if f.Drift.KSStatistic != nil {
				rep.Metrics[f.Name+".ks"] = *f.Drift.KSStatistic
			}
		}
		// A feature without values in the window has no mean (not 0).
		if f.Numerical != nil && f.Numerical.Common.NumPresent > 0 {
			rep.Metrics[f.Name+".mean"] = f.Numerical.Mean
		}
	}
	return &result{evaluated: rep.Rows, statistics: res.Statistics, violations: res.Violations}, nil
}

func writeResults(j Job, rep *Report, st any, v schema.Violations) error {
	if err := schema.WriteJSON(j.Output, schema.StatisticsFile, st); err != nil {
		return err
	}
	if err := schema.WriteJSON(j.Output, schema.ViolationsFile, v); err != nil {
		return err
	}
	rep.StatisticsPath = j.Output + "/" + schema.StatisticsFile
	rep.ViolationsPath = j.Output + "/" + schema.ViolationsFile
	return nil
}

// pairState is one worker's model-quality state.
type pairState struct {
	acc          *modelquality.Accumulator
	ev           capture.Event
	gt           capture.GroundTruth
	preds, probs []string
	labels       []string
	spill        [][]byte
	label        []byte
}

func runModelQuality(ctx context.Context, j Job, capStore source.Store, objs []source.Object, rep *Report, checkEndpoint func() error) (*result, error) {
	cons := &schema.ModelQualityConstraints{}
	where, err := readBaselineFile(ctx, j, schema.ConstraintsFile, cons)
	if err != nil {
		return nil, fmt.Errorf("read model-quality baseline: %w (create one with bridge monitor baseline model-quality)", err)
	}
	problem, _ := cons.Group()
	if j.ProblemType == "" {
		j.ProblemType = problem
	}
	if problem == "" {
		return nil, fmt.Errorf("baseline %s holds no model-quality constraints: is it a data-quality baseline? use --type data-quality", where)
	}
	if j.ProblemType != problem {
		return nil, fmt.Errorf("problem type %s does not match the baseline's %s", j.ProblemType, problem)
	}
	if j.GroundTruth == "" {
		return nil, fmt.Errorf("model-quality monitoring needs --ground-truth (labels added with bridge monitor ground-truth add)")
	}
	if err := checkEndpoint(); err != nil {
		return nil, err
	}
	cfg := modelquality.Config{ProblemType: j.ProblemType, PositiveLabel: j.PositiveLabel, ProbabilityThreshold: j.ProbabilityThreshold}
	gtStore, err := source.Open(ctx, j.GroundTruth, j.AWS)
	if err != nil {
		return nil, err
	}
	// Labels may arrive after the window: read from the window's start on.
	gtObjs, err := source.Window(ctx, gtStore, "", j.Start, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("list ground truth: %w", err)
	}
	var gtBytes int64
	for _, o := range gtObjs {
		gtBytes += o.Size
	}
	states := make([]*pairState, j.Workers)
	for w := range states {
		acc, err := modelquality.New(cfg)
		if err != nil {
			return nil, err
		}
		states[w] = &pairState{acc: acc}
	}
	var c counters
	var gtCount, gtMalformed, unmatched, mismatch atomic.Int64

	// pair feeds one captured record's rows with its labels.
	pair := func(st *pairState, labelData []byte, labelEnc string, preds, probs []string) {
		st.labels = modelquality.Labels(labelEnc, labelData, st.labels[:0])
		if len(st.labels) != len(preds) {
			mismatch.Add(1)
			return
		}
		for i := range preds {
			st.acc.Add(preds[i], probs[i], st.labels[i])
		}
		c.rows.Add(int64(len(preds)))
	}
	// parse extracts a record's id and predictions (false: skip it).
	parse := func(st *pairState, line []byte) bool {
		if capture.ParseLineIDBytes(line, &st.ev) != nil {
			c.malformed.Add(1)
			return false
		}
		if !j.inWindow(st.ev.InferenceTime) {
			c.outOfRange.Add(1)
			return false
		}
		c.records.Add(1)
		if st.ev.Output == nil {
			c.badPayload.Add(1)
			return false
		}
		var err error
		st.preds, st.probs, err = j.Attributes.Outputs(st.ev.Output.Encoding, st.ev.Output.Data, st.preds[:0], st.probs[:0])
		if err != nil || len(st.preds) == 0 {
			c.badPayload.Add(1)
			return false
		}
		return true
	}
	// parseGT reads a ground-truth line into st.gt (false: skip it).
	parseGT := func(st *pairState, line []byte) bool {
		if capture.ParseGroundTruthLine(line, &st.gt) != nil {
			gtMalformed.Add(1)
			return false
		}
		gtCount.Add(1)
		return true
	}

	inMemory := false
	if gtBytes <= tableFileRatio*j.JoinMemory {
		// In memory: the labels in one compact table of at most
		// JoinMemory bytes; past it (ids longer than usual), the spill.
		// Ids and labels take about a seventh of their JSON lines.
		tab := join.NewTable(j.Workers, j.JoinMemory, gtBytes/6)
		full := atomic.Bool{}
		gctx, cancel := context.WithCancel(ctx)
		tooLong, err := source.Lines(gctx, gtStore, gtObjs, j.Workers, func(w int, line []byte) {
			st := states[w]
			if full.Load() || !parseGT(st, line) {
				return
			}
			enc := byte('C')
			if st.gt.Encoding == capture.EncodingJSON {
				enc = 'J'
			}
			st.label = append(append(st.label[:0], st.gt.Data...), enc)
			if tab.AddString(w, st.gt.EventID, st.label) != nil {
				full.Store(true)
				cancel()
			}
		})
		cancel()
		switch {
		case full.Load():
			gtCount.Store(0)
			gtMalformed.Store(0)
		case err != nil:
			return nil, err
		default:
			inMemory = true
			gtMalformed.Add(tooLong)
			tab.Build(j.Workers)
			rep.JoinMemory = tab.Bytes()
			lookup := func(st *pairState) ([]byte, bool) {
				inf, ev := st.ev.InferenceIDBytes(), st.ev.EventIDBytes()
				if len(inf) > 0 {
					if l, ok := tab.Lookup(inf); ok {
						return l, true
					}
					if bytes.Equal(inf, ev) {
						return nil, false
					}
				}
				return tab.Lookup(ev)
			}
			tooLong, err = source.Lines(ctx, capStore, objs, j.Workers, func(w int, line []byte) {
				st := states[w]
				if !parse(st, line) {
					return
				}
				l, ok := lookup(st)
				if !ok || len(l) == 0 {
					unmatched.Add(1)
					return
				}
				enc := capture.EncodingCSV
				if l[len(l)-1] == 'J' {
					enc = capture.EncodingJSON
				}
				pair(st, l[:len(l)-1], enc, st.preds, st.probs)
			})
			if err != nil {
				return nil, err
			}
			c.malformed.Add(tooLong)
		}
	}
	if !inMemory {
		rep.Spilled = true
		// Workers join partitions in parallel, each holding one
		// partition's labels: size them so all fit in JoinMemory.
		partitions := int(math.Ceil(float64(gtBytes) / float64(j.JoinMemory) * float64(2*j.Workers)))
		// Smaller partitions also join faster: a partition's hash table
		// that fits in the CPU's cache avoids a miss per lookup.
		if p := int(gtBytes / partitionTarget); p > partitions {
			partitions = min(p, maxPartitions)
		}
		sp, err := join.New(j.TempDir, partitions, j.Workers)
		if err != nil {
			return nil, err
		}
		defer sp.Close()
		var spillErr error
		var once sync.Once
		fail := func(err error) { once.Do(func() { spillErr = err }) }
		tooLong, err := source.Lines(ctx, gtStore, gtObjs, j.Workers, func(w int, line []byte) {
			st := states[w]
			if !parseGT(st, line) {
				return
			}
			enc := byte('C')
			if st.gt.Encoding == capture.EncodingJSON {
				enc = 'J'
			}
			if err := sp.AddLabel(w, []byte(st.gt.EventID), append(st.gt.Data, enc)); err != nil {
				fail(err)
			}
		})
		if err != nil {
			return nil, err
		}
		gtMalformed.Add(tooLong)
		// Spilled captures are keyed by the inference id when the client
		// sent one, else by the event id.
		tooLong, err = source.Lines(ctx, capStore, objs, j.Workers, func(w int, line []byte) {
			st := states[w]
			if !parse(st, line) {
				return
			}
			if len(st.preds) > 30 {
				// Batches this large are not spilled (the partition
				// format holds up to 62 fields).
				c.badPayload.Add(1)
				return
			}
			fields := st.spill[:0]
			fields = append(fields, []byte{byte(len(st.preds))})
			for i := range st.preds {
				fields = append(fields, []byte(st.preds[i]), []byte(st.probs[i]))
			}
			st.spill = fields
			if err := sp.AddProbe(w, st.ev.IDBytes(), fields...); err != nil {
				fail(err)
			}
		})
		if err != nil {
			return nil, err
		}
		c.malformed.Add(tooLong)
		if spillErr != nil {
			return nil, spillErr
		}
		err = sp.Join(ctx, j.Workers, func(w int, label string, matched bool, fields [][]byte) {
			st := states[w]
			if !matched || label == "" {
				unmatched.Add(1)
				return
			}
			enc := capture.EncodingCSV
			if label[len(label)-1] == 'J' {
				enc = capture.EncodingJSON
			}
			n := int(fields[0][0])
			st.preds, st.probs = st.preds[:0], st.probs[:0]
			for i := 0; i < n; i++ {
				st.preds = append(st.preds, string(fields[1+2*i]))
				st.probs = append(st.probs, string(fields[2+2*i]))
			}
			pair(st, []byte(label[:len(label)-1]), enc, st.preds, st.probs)
		})
		if err != nil {
			return nil, err
		}
	}
	for _, st := range states[1:] {
		states[0].acc.Merge(st.acc)
	}
	c.into(rep)
	rep.GroundTruthRecords, rep.MalformedGroundTruth, rep.Unmatched, rep.RowMismatch = gtCount.Load(), gtMalformed.Load(), unmatched.Load(), mismatch.Load()
	stats := states[0].acc.Statistics(j.Now())
	rep.Metrics = modelquality.Metrics(stats)
	viol, err := modelquality.Check(stats, cons)
	if err != nil {
		return nil, err
	}
	rep.Violations = viol.Violations
	return &result{evaluated: states[0].acc.N(), statistics: stats, violations: viol}, nil
}

// partitionTarget is the ground truth (bytes of files) per spilled
// partition the join aims for, so each partition's table stays in cache;
// maxPartitions bounds the spill's open files (two per worker and
// partition).
const (
	partitionTarget = 2 << 20
	maxPartitions   = 256
)

// tableFileRatio: ground-truth files up to this many times JoinMemory are
// first tried in memory, as a compact table holds a label in about a
// third of its JSON line's bytes (a variable for tests).
var tableFileRatio int64 = 3
