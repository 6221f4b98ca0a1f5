package trees

import (
	"encoding/json"
	"math"

	"github.com/bridgeops/bridge/internal/libmf"
	"github.com/bridgeops/bridge/internal/serving/scoring"
)

// Ensemble is a compiled tree file: preprocessing steps, then a tree
// ensemble (or a linear model) and its link function.
type Ensemble struct {
	nIn      int      // input columns
	nModel   int      // columns after preprocessing
	features []string // input column names, nil when unknown
	source   string
	steps    []step
	imputes  bool
	missing  bool // NaN inputs are meaningful
	proba    bool // answer predict_proba rather than predict
	classes  []scoring.Label
	outputs  int
	link     string
	float32  bool // XGBoost: float32 arithmetic
	// missVal is a value that counts as missing besides NaN (hasMissVal).
	missVal    float64
	hasMissVal bool

	// trees
	split, combine string
	f32            bool // round inputs to float32 before the splits (le32, lt32)
	lt             bool // left when x < threshold (else x <= threshold)
	leafWidth      int
	base           []float64
	scale          float64
	trees          []tree
	known          [][]uint64 // per feature: known categories, nil when numeric

	// linear
	linear    bool
	coef      []float64
	intercept []float64
}

type step struct {
	kind             string
	mean, scale, min []float64
	clip             bool
	lo, hi           float64
	missNaN          bool
	miss             float64
	fill             []float64
	keep             []int
}

type tree struct {
	output int
	nodes  []node      // breadth first: children of a node are adjacent
	value  []float64   // leafWidth per node
	extra  []nodeExtra // per node, for categorical and zero-missing splits; nil without
	cats   [][]uint64
}

// node is 16 bytes: the threshold, the feature index with two flags, and
// the left child (the right child is left+1; -1 marks a leaf).
type node struct {
	threshold float64
	feat      uint32
	left      int32
}

const (
	missingLeftBit = 1 << 30 // a missing value goes left
	specialBit     = 1 << 31 // see extra
	featMask       = 1<<30 - 1
)

type nodeExtra struct {
	cat         int32
	categorical bool
	catRight    bool
	zeroMissing bool
}

func newLabel(raw json.RawMessage) (scoring.Label, error) { return scoring.NewLabel(raw) }

// NumFeatures is the number of input columns a row must have.
func (e *Ensemble) NumFeatures() int { return e.nIn }

// Features returns the input column names, nil when unknown.
func (e *Ensemble) Features() []string { return e.features }

// AcceptsMissing reports whether NaN inputs are meaningful to the model
// (an imputer, or trees that route missing values).
func (e *Ensemble) AcceptsMissing() bool { return e.missing }

// Classes is the number of classes, 0 for a regressor.
func (e *Ensemble) Classes() int { return len(e.classes) }

// NumTrees is the number of trees.
func (e *Ensemble) NumTrees() int { return len(e.trees) }

// scratch is per-call working memory.
type scratch struct {
	a, b []float64
	b32  []float64 // the row rounded to float32
	raw  []float64
	f32  []float32
}

// preprocess applies the steps to x and returns the model's input row
// (x itself when there are no steps).
func (e *Ensemble) preprocess(x []float64, s *scratch) []float64 {
	if len(e.steps) == 0 {
		return x
	}
	cur := append(s.a[:0], x...)
	for i := range e.steps {
		st := &e.steps[i]
		switch st.kind {
		case "standard_scaler":
			if st.mean != nil {
				for j := range cur {
					cur[j] -= st.mean[j]
				}
			}
			if st.scale != nil {
				for j := range cur {
					cur[j] /= st.scale[j]
				}
			}
		case "min_max_scaler":
			for j := range cur {
				cur[j] *= st.scale[j]
				cur[j] += st.min[j]
				if st.clip {
					cur[j] = min(max(cur[j], st.lo), st.hi)
				}
			}
		case "simple_imputer":
			next := s.b[:0]
			for _, j := range st.keep {
				v := cur[j]
				if (st.missNaN && math.IsNaN(v)) || (!st.missNaN && v == st.miss) {
					v = st.fill[j]
				}
				next = append(next, v)
			}
			s.b = cur
			cur = next
		}
	}
	s.a = cur
	return cur
}

// rawRow computes the model's raw outputs (before the link) for one input row
// into out (len n_outputs).
func (e *Ensemble) rawRow(x []float64, out []float64, s *scratch) {
	x = e.preprocess(x, s)
	if e.linear {
		n := e.nModel
		for k := range out {
			w := e.coef[k*n : (k+1)*n]
			v := 0.0
			for j, c := range w {
				v += c * x[j]
			}
			out[k] = v + e.intercept[k]
		}
		return
	}
	if e.f32 || e.hasMissVal {
		r := s.b32[:0]
		for _, v := range x {
			if e.f32 {
				v = float64(float32(v))
			}
			if e.hasMissVal && v == e.missVal {
				v = math.NaN()
			}
			r = append(r, v)
		}
		s.b32, x = r, r
	}
	switch e.combine {
	case "average":
		for k := range out {
			out[k] = 0
		}
		w := e.leafWidth
		for ti := range e.trees {
			t := &e.trees[ti]
			leaf := t.leaf(x, e)
			v := t.value[leaf*w : leaf*w+w]
			for k := range out {
				out[k] += v[k]
			}
		}
		n := float64(len(e.trees))
		for k := range out {
			out[k] /= n
		}
	case "sum":
		copy(out, e.base)
		for ti := range e.trees {
			t := &e.trees[ti]
			out[t.output] += e.scale * t.value[t.leaf(x, e)]
		}
	case "sum32":
		acc := s.f32[:0]
		for _, b := range e.base {
			acc = append(acc, float32(b))
		}
		for ti := range e.trees {
			t := &e.trees[ti]
			acc[t.output] += float32(t.value[t.leaf(x, e)])
		}
		for k, v := range acc {
			out[k] = float64(v)
		}
		s.f32 = acc
	}
}

// leaf walks t for row x and returns the leaf's node index.
func (t *tree) leaf(x []float64, e *Ensemble) int {
	nodes := t.nodes
	i := int32(0)
	for {
		nd := &nodes[i]
		if nd.left < 0 {
			return int(i)
		}
		// x is already rounded to float32 for the float32 splits (see
		// rawRow), so one float64 comparison does for every kind.
		f := nd.feat
		v := x[f&featMask]
		var left bool
		switch {
		case v != v: // NaN
			left = f&missingLeftBit != 0
		case f&specialBit != 0:
			left = t.specialLeft(i, nd, v, e)
		case e.lt:
			left = v < nd.threshold
		default:
			left = v <= nd.threshold
		}
		if left {
			i = nd.left
		} else {
			i = nd.left + 1
		}
	}
}

// specialLeft routes a LightGBM zero-as-missing split (0 goes the missing
// way) and a categorical split as HistGradientBoosting does: left when the
// category is in the node's left set, right when it is another category
// seen in training, else as a missing value.
func (t *tree) specialLeft(i int32, nd *node, v float64, e *Ensemble) bool {
	ex := &t.extra[i]
	missingLeft := nd.feat&missingLeftBit != 0
	if ex.zeroMissing && v >= -1e-35 && v <= 1e-35 {
		return missingLeft
	}
	if !ex.categorical {
		return v <= nd.threshold
	}
	if ex.catRight {
		// XGBoost (common::Decision): right only for a listed category.
		if v < 0 || v >= 1<<24 {
			return true
		}
		return !in(t.cats[ex.cat], int(v))
	}
	if v < 0 || v >= 1<<16 {
		return missingLeft
	}
	c := int(v)
	if in(t.cats[ex.cat], c) {
		return true
	}
	if in(e.known[nd.feat&featMask], c) {
		return false
	}
	return missingLeft
}

func in(bs []uint64, c int) bool {
	return c/64 < len(bs) && bs[c/64]&(1<<(c%64)) != 0
}

// predictRow computes one row's prediction: for a classifier the class
// index (and, into proba when it is not nil, the class probabilities), for
// a regressor the value.
func (e *Ensemble) predictRow(x []float64, proba []float64, s *scratch) (int, float64) {
	raw := s.raw[:e.outputs]
	e.rawRow(x, raw, s)
	switch e.link {
	case LinkIdentity:
		return 0, raw[0]
	case LinkExp:
		return 0, math.Exp(raw[0])
	case LinkLogistic:
		return 0, expit(raw[0])
	case LinkLogistic32:
		return 0, float64(sigmoid32(float32(raw[0])))
	case LinkExp32:
		return 0, float64(expf(float32(raw[0])))
	case LinkSigmoid, LinkSigmoid2:
		r := raw[0]
		if e.link == LinkSigmoid2 {
			r *= 2
		}
		p1 := expit(r)
		p0 := 1 - p1
		if proba != nil {
			proba[0], proba[1] = p0, p1
		}
		switch {
		case e.link == LinkSigmoid2:
			// scikit-learn's exponential loss decides on the sign.
			if raw[0] >= 0 {
				return 1, 0
			}
			return 0, 0
		case e.linear:
			// LogisticRegression.predict: decision > 0.
			if raw[0] > 0 {
				return 1, 0
			}
			return 0, 0
		}
		if p1 > p0 {
			return 1, 0
		}
		return 0, 0
	case LinkSigmoid32:
		p1 := sigmoid32(float32(raw[0]))
		if proba != nil {
			proba[0], proba[1] = float64(1-p1), float64(p1)
		}
		if p1 > 0.5 {
			return 1, 0
		}
		return 0, 0
	case LinkSoftmax:
		// exp(raw - logsumexp(raw)), as scikit-learn computes it.
		m := math.Inf(-1)
		for _, v := range raw {
			m = max(m, v)
		}
		sum := 0.0
		for _, v := range raw {
			sum += math.Exp(v - m)
		}
		lse := math.Log(sum) + m
		best, bestP := 0, math.Inf(-1)
		for k, v := range raw {
			p := math.Exp(v - lse)
			if proba != nil {
				proba[k] = p
			}
			if e.linear {
				p = v // LogisticRegression.predict: argmax of the decision
			}
			if p > bestP {
				best, bestP = k, p
			}
		}
		return best, 0
	case LinkSoftmax32:
		m := float32(math.Inf(-1))
		for _, v := range raw {
			m = max(m, float32(v))
		}
		// XGBoost sums the float32 exponentials in a double.
		var sum float64
		for _, v := range raw {
			sum += float64(expf(float32(v) - m))
		}
		best, bestP := 0, float32(-1)
		for k, v := range raw {
			p := expf(float32(v)-m) / float32(sum)
			if proba != nil {
				proba[k] = float64(p)
			}
			if p > bestP {
				best, bestP = k, p
			}
		}
		return best, 0
	default: // LinkProba: the averaged leaf distributions
		best, bestP := 0, math.Inf(-1)
		for k, p := range raw {
			if proba != nil {
				proba[k] = p
			}
			if p > bestP {
				best, bestP = k, p
			}
		}
		return best, 0
	}
}

func expit(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// expf is the C library's float32 exp, as XGBoost calls it.
func expf(x float32) float32 { return libmf.Expf(x) }

// sigmoid32 is XGBoost's float32 logistic transform (common::Sigmoid).
func sigmoid32(x float32) float32 {
	const eps = float32(1e-16)
	e := expf(min(-x, 88.7))
	return 1 / (e + 1 + eps)
}
