// Package modelquality computes model-quality metrics from (prediction,
// label) pairs in one pass with bounded memory, renders them as SageMaker
// Model Monitor's model-quality statistics.json, suggests constraints
// (thresholds with comparison operators) and checks a window against them.
package modelquality

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/stats"
)

// Config says how to read predictions and labels.
type Config struct {
	ProblemType string // schema.Regression, BinaryClassification, MulticlassClassification
	// PositiveLabel is the positive class of binary classification
	// (default "1").
	PositiveLabel string
	// ProbabilityThreshold turns a probability into a predicted label when
	// no predicted label is given (default 0.5).
	ProbabilityThreshold float64
}

// Validate checks the problem type.
func (c *Config) Validate() error {
	switch c.ProblemType {
	case schema.Regression, schema.BinaryClassification, schema.MulticlassClassification:
	default:
		return fmt.Errorf("problem type %q: want Regression, BinaryClassification or MulticlassClassification", c.ProblemType)
	}
	if c.PositiveLabel == "" {
		c.PositiveLabel = "1"
	}
	c.PositiveLabel = Canonical(c.PositiveLabel)
	if c.ProbabilityThreshold == 0 {
		c.ProbabilityThreshold = 0.5
	}
	return nil
}

// Canonical normalises a label: numbers print in their shortest form (so
// "1.0" and "1" are one class), other text is trimmed.
func Canonical(s string) string {
	s = strings.TrimSpace(s)
	if isSmallInt(s) {
		return s // already canonical: skip the float round trip
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && f == f {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return s
}

// isSmallInt reports whether s is a short non-negative integer without
// leading zeros ("0", "1", "42").
func isSmallInt(s string) bool {
	if len(s) == 0 || len(s) > 6 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Accumulator accumulates pairs. Not safe for concurrent use: give each
// goroutine its own (New) and Merge.
type Accumulator struct {
	cfg Config
	n   int64
	// skipped pairs (unparseable numbers)
	invalid int64

	// regression
	y      stats.Moments
	absErr stats.Moments
	sqErr  stats.Moments

	// classification
	confusion map[string]map[string]int64
	// binary scores, exact per distinct score up to ExactScores, then
	// KLL sketches per class
	scores     *scoreTable
	posSketch  *stats.KLL
	negSketch  *stats.KLL
	withScores int64
	exactLimit int // ExactScores; lowered by tests
}

// ExactScores is how many distinct probabilities the binary AUC is computed
// from exactly; past it, per-class KLL sketches estimate the AUC (error
// bounded by the sketches' rank error).
const ExactScores = 1 << 16

// New returns an empty accumulator.
func New(cfg Config) (*Accumulator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Accumulator{cfg: cfg, confusion: map[string]map[string]int64{}, scores: newScoreTable(), exactLimit: ExactScores}, nil
}

// Config returns the accumulator's configuration.
func (a *Accumulator) Config() Config { return a.cfg }

// N is the number of pairs counted.
func (a *Accumulator) N() int64 { return a.n }

// Invalid is the number of pairs skipped because a value did not parse.
func (a *Accumulator) Invalid() int64 { return a.invalid }

// Add counts one pair. prediction is the predicted value or label (may be
// empty for binary classification when probability is set); probability is
// the positive class's score ("" when none); label is the ground truth.
func (a *Accumulator) Add(prediction, probability, label string) {
	switch a.cfg.ProblemType {
	case schema.Regression:
		p, err1 := strconv.ParseFloat(strings.TrimSpace(prediction), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(label), 64)
		if err1 != nil || err2 != nil {
			a.invalid++
			return
		}
		a.n++
		e := y - p
		a.y.Add(y)
		a.absErr.Add(math.Abs(e))
		a.sqErr.Add(e * e)
	case schema.BinaryClassification:
		yl := Canonical(label)
		hasScore := false
		var score float64
		if probability != "" {
			s, err := strconv.ParseFloat(strings.TrimSpace(probability), 64)
			if err != nil {
				a.invalid++
				return
			}
			score, hasScore = s, true
		}
		var pl string
		if strings.TrimSpace(prediction) != "" {
			pl = Canonical(prediction)
		} else if hasScore {
			if score >= a.cfg.ProbabilityThreshold {
				pl = a.cfg.PositiveLabel
			} else {
				pl = "0"
				if a.cfg.PositiveLabel == "0" {
					pl = "1"
				}
			}
		} else {
			a.invalid++
			return
		}
		if yl == "" {
			a.invalid++
			return
		}
		a.n++
		a.count(yl, pl, 1)
		if hasScore {
			a.withScores++
			a.addScore(score, yl == a.cfg.PositiveLabel, 1)
		}
	default:
		yl, pl := Canonical(label), Canonical(prediction)
		if yl == "" || pl == "" {
			a.invalid++
			return
		}
		a.n++
		a.count(yl, pl, 1)
	}
}

// count adds n to the confusion matrix cell (actual, predicted).
func (a *Accumulator) count(actual, predicted string, n int64) {
	row := a.confusion[actual]
	if row == nil {
		row = map[string]int64{}
		a.confusion[actual] = row
	}
	row[predicted] += n
}

func (a *Accumulator) addScore(s float64, pos bool, w int64) {
	if a.scores != nil {
		if pos {
			a.scores.add(s, w, 0)
		} else {
			a.scores.add(s, 0, w)
		}
		if a.scores.Len() > a.exactLimit {
			a.toSketches()
		}
		return
	}
	for i := int64(0); i < w; i++ {
		if pos {
			a.posSketch.Add(s)
		} else {
			a.negSketch.Add(s)
		}
	}
}

// toSketches moves the exact score counts into KLL sketches, once there
// are too many distinct scores to keep exactly.
func (a *Accumulator) toSketches() {
	a.posSketch = stats.NewKLL(stats.DefaultK, stats.DefaultC)
	a.negSketch = stats.NewKLL(stats.DefaultK, stats.DefaultC)
	for k, v := range a.scores.keys {
		c := a.scores.counts[k]
		for i := int64(0); i < c[0]; i++ {
			a.posSketch.Add(v)
		}
		for i := int64(0); i < c[1]; i++ {
			a.negSketch.Add(v)
		}
	}
	a.scores = nil
}

// Merge folds o into a.
func (a *Accumulator) Merge(o *Accumulator) {
	a.n += o.n
	a.invalid += o.invalid
	a.y.Merge(&o.y)
	a.absErr.Merge(&o.absErr)
	a.sqErr.Merge(&o.sqErr)
	for act, row := range o.confusion {
		for pred, c := range row {
			a.count(act, pred, c)
		}
	}
	a.withScores += o.withScores
	if o.scores != nil {
		for k, v := range o.scores.keys {
			c := o.scores.counts[k]
			if c[0] > 0 {
				a.addScore(v, true, c[0])
			}
			if c[1] > 0 {
				a.addScore(v, false, c[1])
			}
		}
		return
	}
	if a.scores != nil {
		a.toSketches()
	}
	a.posSketch.Merge(o.posSketch)
	a.negSketch.Merge(o.negSketch)
}

// Statistics renders the metrics as model-quality statistics.json.
func (a *Accumulator) Statistics(now time.Time) *schema.ModelQualityStatistics {
	st := &schema.ModelQualityStatistics{Version: 0, Dataset: schema.Dataset{ItemCount: a.n, EvaluationTime: now.UTC().Format(time.RFC3339)}}
	switch a.cfg.ProblemType {
	case schema.Regression:
		st.Regression = a.regression()
	case schema.BinaryClassification:
		st.Binary = a.binary()
	default:
		st.Multiclass = a.multiclass()
	}
	return st
}

// Metrics flattens the statistics into name -> value (for history and
// Prometheus).
func Metrics(st *schema.ModelQualityStatistics) map[string]float64 {
	out := map[string]float64{}
	var m map[string]schema.Metric
	switch {
	case st.Regression != nil:
		m = st.Regression
	case st.Binary != nil:
		m = st.Binary.Metrics
	case st.Multiclass != nil:
		m = st.Multiclass.Metrics
	}
	for k, v := range m {
		out[k] = v.Value
	}
	return out
}

func se(p float64, n float64) float64 {
	if n <= 0 || math.IsNaN(p) {
		return 0
	}
	return math.Sqrt(math.Max(0, p*(1-p)) / n)
}

func (a *Accumulator) regression() map[string]schema.Metric {
	n := float64(a.n)
	if a.n == 0 {
		return map[string]schema.Metric{}
	}
	mae := a.absErr.Mean()
	mse := a.sqErr.Mean()
	rmse := math.Sqrt(mse)
	sst := a.y.Variance() * n
	r2 := 0.0
	switch {
	case sst > 0:
		r2 = 1 - a.sqErr.Sum()/sst
	case a.sqErr.Sum() == 0:
		r2 = 1
	}
	seMSE := a.sqErr.StdDev() / math.Sqrt(n)
	seRMSE := 0.0
	if rmse > 0 {
		seRMSE = seMSE / (2 * rmse)
	}
	// Olkin and Finn's large-sample standard error of R^2 (one predictor).
	seR2 := 0.0
	if n > 3 {
		rr := math.Max(0, math.Min(1, r2))
		seR2 = math.Sqrt(4 * rr * (1 - rr) * (1 - rr) * (n - 2) * (n - 2) / ((n*n - 1) * (n + 3)))
	}
	return map[string]schema.Metric{
		"mae":  {Value: mae, StandardDeviation: a.absErr.StdDev() / math.Sqrt(n)},
		"mse":  {Value: mse, StandardDeviation: seMSE},
		"rmse": {Value: rmse, StandardDeviation: seRMSE},
		"r2":   {Value: r2, StandardDeviation: seR2},
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func fbeta(beta2 float64, tp, fp, fn int64) float64 {
	d := (1+beta2)*float64(tp) + beta2*float64(fn) + float64(fp)
	if d == 0 {
		return 0
	}
	return (1 + beta2) * float64(tp) / d
}

func (a *Accumulator) confusionMatrix() schema.ConfusionMatrix {
	cm := schema.ConfusionMatrix{}
	labels := a.labels()
	for _, act := range labels {
		cm[act] = map[string]int64{}
		for _, pred := range labels {
			cm[act][pred] = a.confusion[act][pred]
		}
	}
	return cm
}

func (a *Accumulator) labels() []string {
	set := map[string]bool{}
	for act, row := range a.confusion {
		set[act] = true
		for pred := range row {
			set[pred] = true
		}
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

func (a *Accumulator) binary() *schema.BinaryMetrics {
	pos := a.cfg.PositiveLabel
	var tp, fp, tn, fn int64
	for act, row := range a.confusion {
		for pred, c := range row {
			switch {
			case act == pos && pred == pos:
				tp += c
			case act == pos:
				fn += c
			case pred == pos:
				fp += c
			default:
				tn += c
			}
		}
	}
	n := tp + fp + tn + fn
	m := map[string]schema.Metric{}
	set := func(name string, v, sd float64) { m[name] = schema.Metric{Value: v, StandardDeviation: sd} }
	acc := ratio(tp+tn, n)
	prec := ratio(tp, tp+fp)
	rec := ratio(tp, tp+fn)
	set("accuracy", acc, se(acc, float64(n)))
	set("precision", prec, se(prec, float64(tp+fp)))
	set("recall", rec, se(rec, float64(tp+fn)))
	set("true_positive_rate", rec, se(rec, float64(tp+fn)))
	tnr := ratio(tn, tn+fp)
	set("true_negative_rate", tnr, se(tnr, float64(tn+fp)))
	set("false_positive_rate", 1-tnr, se(tnr, float64(tn+fp)))
	if tn+fp == 0 {
		set("false_positive_rate", 0, 0)
	}
	fnr := ratio(fn, fn+tp)
	set("false_negative_rate", fnr, se(fnr, float64(fn+tp)))
	for _, b := range []struct {
		name  string
		beta2 float64
	}{{"f0_5", 0.25}, {"f1", 1}, {"f2", 4}} {
		f := fbeta(b.beta2, tp, fp, fn)
		set(b.name, f, se(f, float64(tp+fp+fn)))
	}
	// The best constant classifier predicts the majority class.
	P, N := tp+fn, tn+fp
	var ctp, cfp, cfn int64
	if P >= N {
		ctp, cfp = P, N
	} else {
		cfn = P
	}
	cacc := ratio(max(P, N), n)
	set("accuracy_best_constant_classifier", cacc, se(cacc, float64(n)))
	cp, cr := ratio(ctp, ctp+cfp), ratio(ctp, ctp+cfn)
	set("precision_best_constant_classifier", cp, se(cp, float64(ctp+cfp)))
	set("recall_best_constant_classifier", cr, se(cr, float64(ctp+cfn)))
	for _, b := range []struct {
		name  string
		beta2 float64
	}{{"f0_5_best_constant_classifier", 0.25}, {"f1_best_constant_classifier", 1}, {"f2_best_constant_classifier", 4}} {
		f := fbeta(b.beta2, ctp, cfp, cfn)
		set(b.name, f, se(f, float64(ctp+cfp+cfn)))
	}
	out := &schema.BinaryMetrics{ConfusionMatrix: a.confusionMatrix(), Metrics: m}
	if a.withScores > 0 {
		auc, roc, pr, np, nn := a.rocAUC()
		// Hanley and McNeil (1982) standard error of the AUC.
		sd := 0.0
		if np > 0 && nn > 0 {
			q1, q2 := auc/(2-auc), 2*auc*auc/(1+auc)
			v := (auc*(1-auc) + (np-1)*(q1-auc*auc) + (nn-1)*(q2-auc*auc)) / (np * nn)
			sd = math.Sqrt(math.Max(0, v))
		}
		if !math.IsNaN(auc) {
			set("auc", auc, sd)
			out.ROC, out.PR = roc, pr
		}
	}
	return out
}

// scoreCounts returns distinct scores descending with their positive and
// negative counts.
func (a *Accumulator) scoreCounts() (vals []float64, cnt [][2]float64) {
	if a.scores != nil {
		order := make([]int, a.scores.Len())
		for i := range order {
			order[i] = i
		}
		keys := a.scores.keys
		sort.Slice(order, func(i, j int) bool { return keys[order[i]] > keys[order[j]] })
		for _, k := range order {
			c := a.scores.counts[k]
			vals = append(vals, keys[k])
			cnt = append(cnt, [2]float64{float64(c[0]), float64(c[1])})
		}
		return vals, cnt
	}
	merged := map[float64][2]float64{}
	for i, s := range []*stats.KLL{a.posSketch, a.negSketch} {
		xs, cdf := s.CDFPoints()
		prev := 0.0
		for j, x := range xs {
			c := merged[x]
			c[i] += (cdf[j] - prev) * float64(s.N())
			prev = cdf[j]
			merged[x] = c
		}
	}
	for v := range merged {
		vals = append(vals, v)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	for _, v := range vals {
		cnt = append(cnt, merged[v])
	}
	return vals, cnt
}

// rocAUC computes the area under the ROC curve with ties counted half (as
// scikit-learn's roc_auc_score), and the curves, thinned to at most 101
// points.
func (a *Accumulator) rocAUC() (auc float64, roc *schema.ROCCurve, pr *schema.PRCurve, np, nn float64) {
	_, cnt := a.scoreCounts()
	for _, c := range cnt {
		np += c[0]
		nn += c[1]
	}
	roc = &schema.ROCCurve{FalsePositiveRates: []float64{0}, TruePositiveRates: []float64{0}}
	pr = &schema.PRCurve{}
	if np == 0 || nn == 0 {
		return math.NaN(), roc, pr, np, nn
	}
	var tpc, fpc, area float64
	type pt struct{ fpr, tpr, prec, rec float64 }
	var pts []pt
	for _, c := range cnt {
		// trapezoid between (fpc, tpc) and (fpc+c1, tpc+c0)
		area += c[1] * (tpc + c[0]/2)
		tpc += c[0]
		fpc += c[1]
		pts = append(pts, pt{fpc / nn, tpc / np, tpc / (tpc + fpc), tpc / np})
	}
	auc = area / (np * nn)
	step := 1
	if len(pts) > 100 {
		step = (len(pts) + 99) / 100
	}
	for i := 0; i < len(pts); i += step {
		roc.FalsePositiveRates = append(roc.FalsePositiveRates, pts[i].fpr)
		roc.TruePositiveRates = append(roc.TruePositiveRates, pts[i].tpr)
		pr.Precisions = append(pr.Precisions, pts[i].prec)
		pr.Recalls = append(pr.Recalls, pts[i].rec)
	}
	last := pts[len(pts)-1]
	if roc.FalsePositiveRates[len(roc.FalsePositiveRates)-1] != last.fpr || roc.TruePositiveRates[len(roc.TruePositiveRates)-1] != last.tpr {
		roc.FalsePositiveRates = append(roc.FalsePositiveRates, last.fpr)
		roc.TruePositiveRates = append(roc.TruePositiveRates, last.tpr)
		pr.Precisions = append(pr.Precisions, last.prec)
		pr.Recalls = append(pr.Recalls, last.rec)
	}
	return auc, roc, pr, np, nn
}

func (a *Accumulator) multiclass() *schema.MulticlassMetrics {
	labels := a.labels()
	support := map[string]int64{}
	predicted := map[string]int64{}
	correct := map[string]int64{}
	var n int64
	for act, row := range a.confusion {
		for pred, c := range row {
			support[act] += c
			predicted[pred] += c
			if act == pred {
				correct[act] += c
			}
			n += c
		}
	}
	var totalCorrect int64
	for _, c := range correct {
		totalCorrect += c
	}
	m := map[string]schema.Metric{}
	set := func(name string, v, sd float64) { m[name] = schema.Metric{Value: v, StandardDeviation: sd} }
	acc := ratio(totalCorrect, n)
	set("accuracy", acc, se(acc, float64(n)))
	var wp, wr, wf05, wf1, wf2 float64
	var maxSupport int64
	for _, l := range labels {
		tp := correct[l]
		fp := predicted[l] - tp
		fn := support[l] - tp
		w := ratio(support[l], n)
		wp += w * ratio(tp, tp+fp)
		wr += w * ratio(tp, tp+fn)
		wf05 += w * fbeta(0.25, tp, fp, fn)
		wf1 += w * fbeta(1, tp, fp, fn)
		wf2 += w * fbeta(4, tp, fp, fn)
		if support[l] > maxSupport {
			maxSupport = support[l]
		}
	}
	set("weighted_precision", wp, se(wp, float64(n)))
	set("weighted_recall", wr, se(wr, float64(n)))
	set("weighted_f0_5", wf05, se(wf05, float64(n)))
	set("weighted_f1", wf1, se(wf1, float64(n)))
	set("weighted_f2", wf2, se(wf2, float64(n)))
	// The best constant classifier predicts the most frequent class: its
	// weighted precision is p_max^2, recall and accuracy p_max.
	pm := ratio(maxSupport, n)
	set("accuracy_best_constant_classifier", pm, se(pm, float64(n)))
	set("weighted_recall_best_constant_classifier", pm, se(pm, float64(n)))
	set("weighted_precision_best_constant_classifier", pm*pm, se(pm*pm, float64(n)))
	cf := func(beta2 float64) float64 { // constant classifier's F for its class, weighted by pm
		return pm * fbeta(beta2, maxSupport, n-maxSupport, 0)
	}
	set("weighted_f0_5_best_constant_classifier", cf(0.25), se(cf(0.25), float64(n)))
	set("weighted_f1_best_constant_classifier", cf(1), se(cf(1), float64(n)))
	set("weighted_f2_best_constant_classifier", cf(4), se(cf(4), float64(n)))
	return &schema.MulticlassMetrics{ConfusionMatrix: a.confusionMatrix(), Metrics: m}
}
