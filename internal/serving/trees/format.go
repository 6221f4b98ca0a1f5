package trees

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// FormatName and FormatVersion identify a tree file.
const (
	FormatName    = "bridge-trees"
	FormatVersion = 1
)

// File is the JSON tree file (see the package documentation and
// docs/python.md for the meaning of every field).
type File struct {
	Format       string       `json:"format"`
	Version      int          `json:"version"`
	Source       string       `json:"source,omitempty"`
	NumFeatures  int          `json:"n_features"`
	FeatureNames []string     `json:"feature_names,omitempty"`
	Preprocess   []Step       `json:"preprocess,omitempty"`
	Output       string       `json:"output,omitempty"`
	Model        EnsembleSpec `json:"model"`
}

// Step is one preprocessing step, applied in order before the model.
type Step struct {
	Kind string `json:"kind"` // standard_scaler, min_max_scaler, simple_imputer
	// standard_scaler: x = (x - mean) / scale (either may be absent).
	Mean  []float64 `json:"mean,omitempty"`
	Scale []float64 `json:"scale,omitempty"`
	// min_max_scaler: x = x*scale + min, then clipped to clip when set.
	Min  []float64   `json:"min,omitempty"`
	Clip *[2]float64 `json:"clip,omitempty"`
	// simple_imputer: a value equal to missing (NaN when missing is null)
	// becomes fill[i]; keep lists the columns that go on (columns whose
	// training values were all missing are dropped, as scikit-learn does).
	Missing *float64  `json:"missing,omitempty"`
	Fill    []float64 `json:"fill,omitempty"`
	Keep    []int     `json:"keep,omitempty"`
}

// EnsembleSpec is the model proper.
type EnsembleSpec struct {
	// Kind is "trees" or "linear".
	Kind string `json:"kind"`
	// Classes are the class labels of a classifier (JSON strings, numbers
	// or booleans); absent for a regressor.
	Classes []json.RawMessage `json:"classes,omitempty"`
	// Split says how a row goes down a tree: "le32" (left when
	// float32(x) <= threshold; scikit-learn's trees), "le" (left when
	// x <= threshold, float64; HistGradientBoosting) or "lt32" (left when
	// float32(x) < float32(threshold); XGBoost).
	Split string `json:"split,omitempty"`
	// Combine says how tree outputs add up: "average" (forests: the mean of
	// the trees' leaf vectors), "sum" (boosting: base_score + scale*leaf per
	// output, float64) or "sum32" (XGBoost: float32 sums).
	Combine string `json:"combine,omitempty"`
	// Missing says whether NaN inputs are meaningful: true when every
	// split routes them (missing_left), false when a NaN is refused.
	Missing bool `json:"missing,omitempty"`
	// MissingValue, when set, is a value that counts as missing besides
	// NaN (XGBoost's missing parameter), compared after the split's
	// float32 rounding.
	MissingValue *float64 `json:"missing_value,omitempty"`
	// Outputs is the number of raw outputs (1 for regression and binary
	// boosting, one per class otherwise); LeafWidth the number of values
	// per leaf (the class count for a forest classifier, else 1).
	Outputs   int       `json:"n_outputs"`
	LeafWidth int       `json:"leaf_width,omitempty"`
	BaseScore []float64 `json:"base_score,omitempty"`
	// Scale multiplies every leaf value in a "sum" (the learning rate of
	// scikit-learn's GradientBoosting; 1 when absent).
	Scale *float64 `json:"scale,omitempty"`
	// Link turns raw outputs into predictions: identity, exp, sigmoid,
	// sigmoid2 (expit(2x): the exponential loss), softmax, proba (forest
	// class probabilities), sigmoid32 / softmax32 (XGBoost, float32).
	Link  string `json:"link"`
	Trees []Tree `json:"trees,omitempty"`
	// KnownCategories lists, per categorical feature index, the categories
	// seen in training; a category not listed follows missing_left.
	KnownCategories map[string][]int `json:"known_categories,omitempty"`
	// Linear model (kind "linear"): rows of coefficients, one per output.
	Coef      [][]float64 `json:"coef,omitempty"`
	Intercept []float64   `json:"intercept,omitempty"`
}

// Tree is one tree as parallel arrays indexed by node; node 0 is the root.
// A node whose left child is -1 is a leaf.
type Tree struct {
	Output      int      `json:"output,omitempty"` // raw output this tree adds to
	Feature     []int    `json:"feature"`
	Threshold   []Number `json:"threshold"`
	Left        []int    `json:"left"`
	Right       []int    `json:"right"`
	MissingLeft []bool   `json:"missing_left,omitempty"`
	// ZeroMissing, when present, marks splits where 0 (|x| <= 1e-35) is a
	// missing value too (LightGBM's zero_as_missing).
	ZeroMissing []bool `json:"zero_missing,omitempty"`
	// Value holds LeafWidth values per node (only leaves' are used).
	Value []float64 `json:"value"`
	// CatLeft, when present, holds per node the categories that go left
	// (null for numeric splits).
	CatLeft [][]int `json:"cat_left,omitempty"`
	// CatRight, when present, holds per node the categories that go right
	// (null for numeric splits), as XGBoost's categorical splits do: any
	// other value, including negative ones and categories of 2^24 or more,
	// goes left; the value is truncated to an integer first.
	CatRight [][]int `json:"cat_right,omitempty"`
}

// Links.
const (
	LinkIdentity  = "identity"
	LinkExp       = "exp"
	LinkSigmoid   = "sigmoid"
	LinkSigmoid2  = "sigmoid2"
	LinkSoftmax   = "softmax"
	LinkProba     = "proba"
	LinkSigmoid32 = "sigmoid32"
	LinkSoftmax32 = "softmax32"
	LinkLogistic  = "logistic" // a regressor's output 1/(1+exp(-raw)) (LightGBM's binary Booster)
	// XGBoost regressors' float32 transforms: the logistic (reg:logistic, a
	// binary:logistic Booster) and expf (count:poisson, reg:gamma,
	// reg:tweedie, survival:cox).
	LinkLogistic32 = "logistic32"
	LinkExp32      = "exp32"
)

// Parse reads and validates a tree file and compiles it for evaluation.
// Every structural problem (a feature index out of range, a child that
// points outside the tree or back up it, a leaf vector of the wrong
// length) is an error here, so that requests never meet one.
func Parse(b []byte) (*Ensemble, error) {
	var f File
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse tree file: %w", err)
	}
	return Compile(&f)
}

// Compile validates f and builds its evaluator.
func Compile(f *File) (*Ensemble, error) {
	if f.Format != FormatName || f.Version != FormatVersion {
		return nil, fmt.Errorf("tree file format %q version %d: want %q version %d", f.Format, f.Version, FormatName, FormatVersion)
	}
	if f.NumFeatures <= 0 {
		return nil, fmt.Errorf("n_features is %d: want the number of input columns", f.NumFeatures)
	}
	if f.FeatureNames != nil && len(f.FeatureNames) != f.NumFeatures {
		return nil, fmt.Errorf("feature_names lists %d names for %d features", len(f.FeatureNames), f.NumFeatures)
	}
	e := &Ensemble{nIn: f.NumFeatures, features: f.FeatureNames, source: f.Source, proba: f.Output == "predict_proba"}
	switch f.Output {
	case "", "predict", "predict_proba":
	default:
		return nil, fmt.Errorf("output %q: want predict or predict_proba", f.Output)
	}
	width := f.NumFeatures
	for i, s := range f.Preprocess {
		st, w, err := compileStep(s, width)
		if err != nil {
			return nil, fmt.Errorf("preprocess[%d] %s: %w", i, s.Kind, err)
		}
		e.steps = append(e.steps, st)
		if s.Kind == "simple_imputer" {
			e.imputes = true
		}
		width = w
	}
	e.nModel = width
	m := &f.Model
	for i, raw := range m.Classes {
		l, err := newLabel(raw)
		if err != nil {
			return nil, fmt.Errorf("classes[%d]: %w", i, err)
		}
		e.classes = append(e.classes, l)
	}
	if e.proba && len(e.classes) == 0 {
		return nil, errors.New("output predict_proba needs a classifier (classes)")
	}
	if m.Outputs <= 0 {
		return nil, fmt.Errorf("model n_outputs is %d: want at least 1", m.Outputs)
	}
	e.outputs = m.Outputs
	e.link = m.Link
	switch m.Link {
	case LinkIdentity, LinkExp, LinkLogistic, LinkLogistic32, LinkExp32:
		if len(e.classes) > 0 || m.Outputs != 1 {
			return nil, fmt.Errorf("link %s is for single-output regressors", m.Link)
		}
	case LinkSigmoid, LinkSigmoid2, LinkSigmoid32:
		if len(e.classes) != 2 || m.Outputs != 1 {
			return nil, fmt.Errorf("link %s needs 2 classes and 1 output, got %d and %d", m.Link, len(e.classes), m.Outputs)
		}
	case LinkSoftmax, LinkSoftmax32, LinkProba:
		if len(e.classes) < 2 || m.Outputs != len(e.classes) {
			return nil, fmt.Errorf("link %s needs one output per class (%d classes), got %d", m.Link, len(e.classes), m.Outputs)
		}
	default:
		return nil, fmt.Errorf("link %q is not supported", m.Link)
	}
	switch m.Kind {
	case "trees":
		if err := e.compileTrees(m); err != nil {
			return nil, err
		}
	case "linear":
		if len(m.Coef) != m.Outputs || len(m.Intercept) != m.Outputs {
			return nil, fmt.Errorf("linear model: %d coefficient rows and %d intercepts for %d outputs", len(m.Coef), len(m.Intercept), m.Outputs)
		}
		for i, r := range m.Coef {
			if len(r) != width {
				return nil, fmt.Errorf("linear model: coefficient row %d has %d values for %d features", i, len(r), width)
			}
			e.coef = append(e.coef, r...)
		}
		e.intercept = m.Intercept
		e.linear = true
		if m.Link == LinkProba {
			return nil, errors.New("link proba is for forests")
		}
	default:
		return nil, fmt.Errorf("model kind %q: want trees or linear", m.Kind)
	}
	e.missing = m.Missing || e.imputes
	return e, nil
}

func compileStep(s Step, width int) (step, int, error) {
	vec := func(name string, v []float64, must bool) error {
		if v == nil && !must {
			return nil
		}
		if len(v) != width {
			return fmt.Errorf("%s has %d values for %d features", name, len(v), width)
		}
		return nil
	}
	st := step{kind: s.Kind, mean: s.Mean, scale: s.Scale, min: s.Min, fill: s.Fill, keep: s.Keep}
	switch s.Kind {
	case "standard_scaler":
		if err := vec("mean", s.Mean, false); err != nil {
			return st, 0, err
		}
		if err := vec("scale", s.Scale, false); err != nil {
			return st, 0, err
		}
		return st, width, nil
	case "min_max_scaler":
		if err := vec("scale", s.Scale, true); err != nil {
			return st, 0, err
		}
		if err := vec("min", s.Min, true); err != nil {
			return st, 0, err
		}
		if s.Clip != nil {
			st.clip, st.lo, st.hi = true, s.Clip[0], s.Clip[1]
		}
		return st, width, nil
	case "simple_imputer":
		if err := vec("fill", s.Fill, true); err != nil {
			return st, 0, err
		}
		st.missNaN = s.Missing == nil
		if s.Missing != nil {
			st.miss = *s.Missing
		}
		if s.Keep == nil {
			st.keep = make([]int, width)
			for i := range st.keep {
				st.keep[i] = i
			}
		}
		for _, k := range st.keep {
			if k < 0 || k >= width {
				return st, 0, fmt.Errorf("keep names column %d of %d", k, width)
			}
		}
		if len(st.keep) == 0 {
			return st, 0, errors.New("keep is empty: no column would remain")
		}
		return st, len(st.keep), nil
	default:
		return st, 0, fmt.Errorf("step kind %q is not supported (want standard_scaler, min_max_scaler or simple_imputer)", s.Kind)
	}
}

func (e *Ensemble) compileTrees(m *EnsembleSpec) error {
	switch m.Split {
	case "le32", "le", "lt32":
	default:
		return fmt.Errorf("split %q: want le32, le or lt32", m.Split)
	}
	switch m.Combine {
	case "average", "sum", "sum32":
	default:
		return fmt.Errorf("combine %q: want average, sum or sum32", m.Combine)
	}
	if len(m.Trees) == 0 {
		return errors.New("the model has no trees")
	}
	e.leafWidth = max(m.LeafWidth, 1)
	if m.Combine == "average" && e.leafWidth != m.Outputs {
		return fmt.Errorf("combine average needs leaf_width = n_outputs, got %d and %d", e.leafWidth, m.Outputs)
	}
	if m.Combine != "average" && e.leafWidth != 1 {
		return fmt.Errorf("combine %s needs leaf_width 1, got %d", m.Combine, e.leafWidth)
	}
	e.base = make([]float64, m.Outputs)
	if m.BaseScore != nil {
		if len(m.BaseScore) != m.Outputs {
			return fmt.Errorf("base_score has %d values for %d outputs", len(m.BaseScore), m.Outputs)
		}
		copy(e.base, m.BaseScore)
	}
	e.scale = 1
	if m.Scale != nil {
		e.scale = *m.Scale
	}
	e.split, e.combine = m.Split, m.Combine
	if m.MissingValue != nil {
		if !m.Missing {
			return errors.New("missing_value needs missing (trees that route missing values)")
		}
		e.missVal, e.hasMissVal = *m.MissingValue, true
		if m.Split == "le32" || m.Split == "lt32" {
			e.missVal = float64(float32(e.missVal))
		}
	}
	e.f32 = m.Split == "le32" || m.Split == "lt32"
	e.lt = m.Split == "lt32"
	e.float32 = m.Combine == "sum32"
	known := map[int][]uint64{}
	for k, cats := range m.KnownCategories {
		var fi int
		if _, err := fmt.Sscan(k, &fi); err != nil || fi < 0 || fi >= e.nModel {
			return fmt.Errorf("known_categories names feature %q of %d", k, e.nModel)
		}
		bs, err := bitset(cats)
		if err != nil {
			return fmt.Errorf("known_categories[%s]: %w", k, err)
		}
		known[fi] = bs
	}
	e.known = make([][]uint64, e.nModel)
	for fi, bs := range known {
		e.known[fi] = bs
	}
	for ti := range m.Trees {
		t, err := e.compileTree(&m.Trees[ti], m)
		if err != nil {
			return fmt.Errorf("tree %d: %w", ti, err)
		}
		e.trees = append(e.trees, t)
	}
	return nil
}

func bitset(cats []int) ([]uint64, error) { return bitsetMax(cats, 1<<16) }

// maxCatRight bounds XGBoost's categories (its own limit is 2^24; a
// split's bit set takes up to 2 MB).
const maxCatRight = 1<<24 - 1

func bitsetMax(cats []int, limit int) ([]uint64, error) {
	var bs []uint64
	for _, c := range cats {
		if c < 0 || c > limit {
			return nil, fmt.Errorf("category %d out of range 0..%d", c, limit)
		}
		for len(bs) <= c/64 {
			bs = append(bs, 0)
		}
		bs[c/64] |= 1 << (c % 64)
	}
	return bs, nil
}

func (e *Ensemble) compileTree(t *Tree, m *EnsembleSpec) (tree, error) {
	n := len(t.Feature)
	var ct tree
	if n == 0 {
		return ct, errors.New("no nodes")
	}
	if len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n {
		return ct, fmt.Errorf("feature, threshold, left and right have %d, %d, %d and %d entries: want one per node", n, len(t.Threshold), len(t.Left), len(t.Right))
	}
	if t.MissingLeft != nil && len(t.MissingLeft) != n {
		return ct, fmt.Errorf("missing_left has %d entries for %d nodes", len(t.MissingLeft), n)
	}
	if t.ZeroMissing != nil && len(t.ZeroMissing) != n {
		return ct, fmt.Errorf("zero_missing has %d entries for %d nodes", len(t.ZeroMissing), n)
	}
	if t.CatLeft != nil && len(t.CatLeft) != n {
		return ct, fmt.Errorf("cat_left has %d entries for %d nodes", len(t.CatLeft), n)
	}
	if t.CatRight != nil && len(t.CatRight) != n {
		return ct, fmt.Errorf("cat_right has %d entries for %d nodes", len(t.CatRight), n)
	}
	if t.CatRight != nil && t.CatLeft != nil {
		return ct, errors.New("a tree has either cat_left or cat_right, not both")
	}
	if len(t.Value) != n*e.leafWidth {
		return ct, fmt.Errorf("value has %d entries: want %d (%d per node)", len(t.Value), n*e.leafWidth, e.leafWidth)
	}
	if t.Output < 0 || t.Output >= m.Outputs || (m.Combine == "average" && t.Output != 0) {
		return ct, fmt.Errorf("output %d out of range (n_outputs %d)", t.Output, m.Outputs)
	}
	ct.output = t.Output
	raw := make([]rawNode, n)
	// Every node but the root must be the child of exactly one node, and
	// a walk from the root must visit each node once: no cycles, no
	// shared subtrees, no orphans.
	parents := make([]int32, n)
	for i := range parents {
		parents[i] = -1
	}
	for i := range n {
		nd := &raw[i]
		l, r := t.Left[i], t.Right[i]
		if l == -1 {
			if r != -1 {
				return ct, fmt.Errorf("node %d has no left child but right child %d: a leaf has both -1", i, r)
			}
			nd.left = -1
			for _, v := range t.Value[i*e.leafWidth : (i+1)*e.leafWidth] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return ct, fmt.Errorf("leaf %d has value %v: want finite numbers", i, v)
				}
			}
			continue
		}
		for _, c := range [2]int{l, r} {
			if c <= 0 || c >= n {
				return ct, fmt.Errorf("node %d has child %d outside 1..%d", i, c, n-1)
			}
			if c == i {
				return ct, fmt.Errorf("node %d is its own child (a cycle)", i)
			}
			if parents[c] >= 0 {
				return ct, fmt.Errorf("node %d is a child of both node %d and node %d (a cycle or shared subtree)", c, parents[c], i)
			}
			parents[c] = int32(i)
		}
		if l == r {
			return ct, fmt.Errorf("node %d has the same left and right child %d", i, l)
		}
		fi := t.Feature[i]
		if fi < 0 || fi >= e.nModel {
			return ct, fmt.Errorf("node %d splits on feature %d, outside 0..%d", i, fi, e.nModel-1)
		}
		th := float64(t.Threshold[i])
		if math.IsNaN(th) {
			return ct, fmt.Errorf("node %d has threshold NaN", i)
		}
		nd.left, nd.right, nd.feature, nd.threshold = int32(l), int32(r), int32(fi), th
		if m.Split == "lt32" {
			nd.threshold = float64(float32(th))
		}
		if t.MissingLeft != nil {
			nd.missingLeft = t.MissingLeft[i]
		} else if m.Missing {
			return ct, fmt.Errorf("the model routes missing values but node %d has no missing_left", i)
		}
		if t.ZeroMissing != nil {
			nd.zeroMissing = t.ZeroMissing[i]
			nd.special = nd.zeroMissing
		}
		if t.CatLeft != nil && t.CatLeft[i] != nil {
			bs, err := bitset(t.CatLeft[i])
			if err != nil {
				return ct, fmt.Errorf("node %d cat_left: %w", i, err)
			}
			nd.cat = int32(len(ct.cats))
			ct.cats = append(ct.cats, bs)
			nd.categorical = true
			nd.special = true
		}
		if t.CatRight != nil && t.CatRight[i] != nil {
			bs, err := bitsetMax(t.CatRight[i], maxCatRight)
			if err != nil {
				return ct, fmt.Errorf("node %d cat_right: %w", i, err)
			}
			nd.cat = int32(len(ct.cats))
			ct.cats = append(ct.cats, bs)
			nd.categorical, nd.catRight = true, true
			nd.special = true
		}
	}
	// Reachability from the root (with the parent check above this also
	// rules out cycles: a cycle's nodes would all have a parent inside it
	// and none would be reachable from the root).
	seen := 0
	stack := []int32{0}
	visited := make([]bool, n)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visited[i] {
			return ct, fmt.Errorf("node %d is reached twice (a cycle)", i)
		}
		visited[i] = true
		seen++
		if nd := raw[i]; nd.left >= 0 {
			stack = append(stack, nd.left, nd.right)
		}
	}
	if seen != n {
		return ct, fmt.Errorf("%d of %d nodes cannot be reached from the root (a cycle or orphans)", n-seen, n)
	}
	return pack(ct, raw, t.Value, e.leafWidth), nil
}

// Number is a JSON number that may also be written "inf" or "-inf" (JSON
// has no infinities; HistGradientBoosting uses +inf thresholds for splits
// that only separate missing values).
type Number float64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Number) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"inf"`, `"+inf"`, `"Infinity"`:
		*n = Number(math.Inf(1))
		return nil
	case `"-inf"`, `"-Infinity"`:
		*n = Number(math.Inf(-1))
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("threshold %s: want a number, \"inf\" or \"-inf\"", b)
	}
	*n = Number(f)
	return nil
}

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsInf(f, 1):
		return []byte(`"inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-inf"`), nil
	}
	return json.Marshal(f)
}

// rawNode is a validated node in the file's numbering.
type rawNode struct {
	left, right int32 // -1 for a leaf
	feature     int32
	cat         int32
	threshold   float64
	missingLeft bool
	zeroMissing bool
	categorical bool
	catRight    bool // XGBoost's categorical split (cat_right)
	special     bool // zeroMissing or categorical
}

// pack renumbers a validated tree breadth first so that an internal node's
// children are adjacent (right = left+1) and stores 16-byte nodes: half the
// memory, and fewer cache lines touched per row.
func pack(ct tree, raw []rawNode, value []float64, w int) tree {
	n := len(raw)
	newID := make([]int32, n)
	order := make([]int32, 1, n)
	next := int32(1)
	for i := 0; i < len(order); i++ {
		r := raw[order[i]]
		if r.left >= 0 {
			newID[r.left], newID[r.right] = next, next+1
			order = append(order, r.left, r.right)
			next += 2
		}
	}
	ct.nodes = make([]node, n)
	ct.value = make([]float64, n*w)
	for _, o := range order {
		ni, r := newID[o], raw[o]
		copy(ct.value[int(ni)*w:], value[int(o)*w:int(o+1)*w])
		if r.left < 0 {
			ct.nodes[ni] = node{left: -1}
			continue
		}
		f := uint32(r.feature)
		if r.missingLeft {
			f |= missingLeftBit
		}
		if r.special {
			f |= specialBit
			if ct.extra == nil {
				ct.extra = make([]nodeExtra, n)
			}
			ct.extra[ni] = nodeExtra{cat: r.cat, categorical: r.categorical, catRight: r.catRight, zeroMissing: r.zeroMissing}
		}
		ct.nodes[ni] = node{threshold: r.threshold, feat: f, left: newID[r.left]}
	}
	return ct
}
