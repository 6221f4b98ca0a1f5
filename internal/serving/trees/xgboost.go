package trees

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bridgeops/bridge/internal/libmf"
)

// loadXGBoost reads an MLflow xgboost flavor's model file (XGBoost's JSON
// or UBJSON format) and converts it. XGBoost's own binary format (.xgb,
// .model, .bin) is not read: such models stay with the Python runtime.
//
// The conversion keeps XGBoost's arithmetic: features and thresholds are
// compared in float32 (left when x < threshold), missing values (NaN)
// follow each node's default direction, margins are float32 sums of
// base_score and the leaves, and the logistic and softmax transforms are
// computed in float32 as XGBoost's CPU predictor does.
func loadXGBoost(dir string, conf, pyfunc map[string]any) (*Ensemble, error) {
	data, _ := conf["data"].(string)
	if data == "" {
		data = "model.xgb"
	}
	if !filepath.IsLocal(data) {
		return nil, notNative("xgboost data %q is not inside the model directory", data)
	}
	format, _ := conf["model_format"].(string)
	if format == "" {
		format = strings.TrimPrefix(filepath.Ext(data), ".")
	}
	class, _ := conf["model_class"].(string)
	b, err := os.ReadFile(filepath.Join(dir, data))
	if err != nil {
		return nil, notNative("read xgboost model: %v", err)
	}
	var doc any
	switch format {
	case "json":
		dec := json.NewDecoder(bytes.NewReader(jsonNonFinite(b)))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("xgboost model %s: %w", data, err)
		}
	case "ubj":
		u := ubjReader{b: b}
		if doc, err = u.value(0); err != nil {
			return nil, fmt.Errorf("xgboost model %s: %w", data, err)
		}
	default:
		return nil, notNative("xgboost model_format %q: Bridge reads XGBoost's json and ubj formats (save the model as model.json)", format)
	}
	f, err := xgbFile(doc, class)
	if err != nil {
		return nil, err
	}
	return Compile(f)
}

// xgbClasses are the scikit-learn wrapper classes MLflow records as
// model_class; any other class (xgboost.core.Booster) predicts with the
// Booster's own predict.
var xgbClasses = map[string]bool{"XGBClassifier": true, "XGBRFClassifier": true, "XGBRegressor": true, "XGBRFRegressor": true, "XGBRanker": true}

// xgbFile converts a decoded XGBoost model document. class is the MLflow
// flavor's model_class: the scikit-learn wrappers answer classes (and
// predict_proba) and use only the trees up to best_iteration when the
// model was trained with early stopping, as their predict does; a Booster
// answers the transformed output of every tree.
func xgbFile(doc any, class string) (*File, error) {
	var gerr error
	g := &genP{v: doc, err: &gerr}
	learner := g.key("learner")
	param := learner.key("learner_model_param")
	obj := learner.key("objective").key("name").str()
	booster := learner.key("gradient_booster")
	if name := booster.key("name").str(); name != "gbtree" {
		return nil, notNative("xgboost booster %q (only gbtree is converted)", name)
	}
	model := booster.key("model")
	nFeat := int(param.key("num_feature").num())
	nClass := int(param.key("num_class").num())
	baseP := param.key("base_score")
	if gerr != nil {
		return nil, fmt.Errorf("xgboost model: %w", gerr)
	}
	var err error
	if t := param.opt("num_target"); t != nil && int(t.num()) > 1 {
		return nil, notNative("xgboost multi-target models")
	}
	// XGBoost parses base_score as a float (written "5E-1", or "[5E-1]"
	// by newer versions).
	var b64 float64
	if bs, ok := baseP.v.(string); ok {
		b64, err = strconv.ParseFloat(strings.Trim(bs, "[]"), 32)
		if err != nil {
			return nil, fmt.Errorf("xgboost model: base_score %q: %v", bs, err)
		}
	} else if b64 = baseP.num(); gerr != nil {
		return nil, fmt.Errorf("xgboost model: base_score: %w", gerr)
	}
	base := float32(b64)
	short := class[strings.LastIndexByte(class, '.')+1:]
	wrapper := xgbClasses[short]
	classifier := strings.HasSuffix(short, "Classifier")
	f := &File{Format: FormatName, Version: FormatVersion, Source: "xgboost " + obj, NumFeatures: nFeat}
	m := &f.Model
	m.Kind, m.Split, m.Combine, m.Missing = "trees", "lt32", "sum32", true
	m.Outputs = 1
	// The margin starts at the objective's ProbToMargin(base_score), in
	// float32 with the C library's logf.
	switch obj {
	case "binary:logistic", "reg:logistic":
		if !(base > 0 && base < 1) {
			return nil, fmt.Errorf("xgboost model: base_score %v outside (0, 1) for %s", base, obj)
		}
		base = -libmf.Logf(float32(1)/base - 1)
	case "count:poisson", "reg:gamma", "reg:tweedie", "survival:cox":
		base = libmf.Logf(base)
	}
	switch {
	case classifier && obj == "binary:logistic":
		m.Link = LinkSigmoid32
		m.Classes = []json.RawMessage{json.RawMessage("0"), json.RawMessage("1")}
	case classifier && (obj == "multi:softprob" || obj == "multi:softmax"):
		m.Link = LinkSoftmax32
		m.Outputs = nClass
		for k := range nClass {
			m.Classes = append(m.Classes, json.RawMessage(strconv.Itoa(k)))
		}
	case classifier:
		return nil, notNative("xgboost objective %s in %s", obj, short)
	case obj == "binary:logistic" || obj == "reg:logistic":
		m.Link = LinkLogistic32
	case obj == "count:poisson" || obj == "reg:gamma" || obj == "reg:tweedie" || obj == "survival:cox":
		m.Link = LinkExp32
	case obj == "binary:logitraw" || strings.HasPrefix(obj, "rank:") ||
		obj == "reg:squarederror" || obj == "reg:linear" || obj == "reg:squaredlogerror" ||
		obj == "reg:absoluteerror" || obj == "reg:pseudohubererror" || obj == "reg:quantileerror":
		m.Link = LinkIdentity
	default:
		return nil, notNative("xgboost objective %s as %s", obj, short)
	}
	for range m.Outputs {
		m.BaseScore = append(m.BaseScore, float64(base))
	}
	info := model.key("tree_info").arr()
	trees := model.key("trees").arr()
	if gerr != nil {
		return nil, fmt.Errorf("xgboost model: %w", gerr)
	}
	if len(info) != len(trees) {
		return nil, fmt.Errorf("xgboost model: %d trees but %d tree_info entries", len(trees), len(info))
	}
	attrs := map[string]string{}
	if a := learner.opt("attributes"); a != nil {
		if am, ok := a.v.(map[string]any); ok {
			for k, v := range am {
				attrs[k], _ = v.(string)
			}
		}
	}
	if wrapper {
		// The wrapper's predict uses iteration_range (0, best_iteration+1)
		// when early stopping recorded a best iteration.
		if bi, ok := attrs["best_iteration"]; ok {
			it, err := strconv.Atoi(bi)
			if err != nil || it < 0 {
				return nil, fmt.Errorf("xgboost model: best_iteration %q", bi)
			}
			parallel := 1
			if p := model.opt("gbtree_model_param"); p != nil {
				if np := p.opt("num_parallel_tree"); np != nil {
					parallel = max(1, int(np.num()))
				}
			}
			if n := (it + 1) * parallel * m.Outputs; n < len(trees) {
				trees, info = trees[:n], info[:n]
			}
		}
		// The wrapper builds its DMatrix with its missing parameter:
		// values equal to it are missing as well as NaN.
		if sk := attrs["scikit_learn"]; sk != "" {
			var meta map[string]any
			// Python's json writes NaN, which JSON does not have.
			dec := json.NewDecoder(strings.NewReader(strings.ReplaceAll(sk, "NaN", "null")))
			dec.UseNumber()
			if dec.Decode(&meta) == nil {
				if n, ok := meta["missing"].(json.Number); ok {
					v, err := strconv.ParseFloat(string(n), 64)
					if err == nil && !math.IsInf(v, 0) {
						m.MissingValue = &v
					}
				}
			}
		}
	}
	if gerr != nil {
		return nil, fmt.Errorf("xgboost model: %w", gerr)
	}
	for i, tv := range trees {
		t, err := xgbTree(&genP{v: tv, err: new(error)}, nFeat)
		if err != nil {
			return nil, fmt.Errorf("xgboost tree %d: %w", i, err)
		}
		t.Output = int((&genP{v: info[i], err: &gerr}).num())
		m.Trees = append(m.Trees, t)
	}
	var names []any
	if fn := learner.opt("feature_names"); fn != nil {
		names, _ = fn.v.([]any)
	}
	for _, n := range names {
		s, _ := n.(string)
		f.FeatureNames = append(f.FeatureNames, s)
	}
	if len(f.FeatureNames) != 0 && len(f.FeatureNames) != nFeat {
		f.FeatureNames = nil
	}
	return f, nil
}

// xgbTree converts one tree, keeping only the nodes reachable from the
// root (pruned nodes may stay in the arrays) and renumbering them.
// XGBoost's predictor takes a node's right child to be left+1, so a tree
// whose children are not adjacent is refused.
func xgbTree(g *genP, nFeat int) (Tree, error) {
	left := g.key("left_children").ints()
	right := g.key("right_children").ints()
	feat := g.key("split_indices").ints()
	cond := g.key("split_conditions").floats()
	defLeft := g.key("default_left").ints()
	if *g.err != nil {
		return Tree{}, *g.err
	}
	n := len(left)
	if n == 0 || len(right) != n || len(feat) != n || len(cond) != n || len(defLeft) != n {
		return Tree{}, errors.New("node arrays of different lengths")
	}
	// Categorical splits: split_type 1, with the categories that go right
	// in categories[segments[j] : segments[j]+sizes[j]] for node nodes[j].
	var catRight map[int][]int
	if st := g.opt("split_type"); st != nil {
		stype := st.ints()
		if len(stype) != n {
			return Tree{}, errors.New("split_type has a different length")
		}
		for i, s := range stype {
			switch {
			case s == 0:
			case s == 1 && catRight == nil:
				cr, err := xgbCategories(g, n)
				if err != nil {
					return Tree{}, err
				}
				catRight = cr
			case s != 1:
				return Tree{}, fmt.Errorf("node %d has split_type %d", i, s)
			}
			if s == 1 && left[i] != -1 {
				if _, ok := catRight[i]; !ok {
					return Tree{}, fmt.Errorf("categorical node %d has no categories", i)
				}
			}
		}
	}
	var t Tree
	newID := map[int]int{0: 0}
	order := []int{0}
	for i := 0; i < len(order); i++ {
		old := order[i]
		if left[old] == -1 {
			continue
		}
		if right[old] != left[old]+1 {
			return Tree{}, fmt.Errorf("node %d has children %d and %d: XGBoost needs the right child next to the left one", old, left[old], right[old])
		}
		for _, c := range []int{left[old], right[old]} {
			if c < 0 || c >= n {
				return Tree{}, fmt.Errorf("node %d has child %d outside the tree", old, c)
			}
			if _, seen := newID[c]; seen {
				return Tree{}, fmt.Errorf("node %d is reached twice (a cycle)", c)
			}
			newID[c] = len(order)
			order = append(order, c)
		}
	}
	if catRight != nil {
		t.CatRight = make([][]int, 0, len(order))
	}
	for _, old := range order {
		if left[old] == -1 {
			t.Feature = append(t.Feature, 0)
			t.Threshold = append(t.Threshold, 0)
			t.Left = append(t.Left, -1)
			t.Right = append(t.Right, -1)
			t.MissingLeft = append(t.MissingLeft, false)
			t.Value = append(t.Value, float64(float32(cond[old])))
			if catRight != nil {
				t.CatRight = append(t.CatRight, nil)
			}
			continue
		}
		if feat[old] < 0 || feat[old] >= nFeat {
			return Tree{}, fmt.Errorf("node %d splits on feature %d of %d", old, feat[old], nFeat)
		}
		t.Feature = append(t.Feature, feat[old])
		th := float32(cond[old])
		if catRight != nil {
			cats, isCat := catRight[old]
			t.CatRight = append(t.CatRight, cats)
			if isCat {
				th = 0 // unused; the JSON writes NaN
				if t.CatRight[len(t.CatRight)-1] == nil {
					t.CatRight[len(t.CatRight)-1] = []int{}
				}
			}
		}
		t.Threshold = append(t.Threshold, Number(th))
		t.Left = append(t.Left, newID[left[old]])
		t.Right = append(t.Right, newID[right[old]])
		t.MissingLeft = append(t.MissingLeft, defLeft[old] != 0)
		t.Value = append(t.Value, 0)
	}
	return t, nil
}

// xgbCategories reads a tree's categorical split sets: node -> the
// categories that go right.
func xgbCategories(g *genP, n int) (map[int][]int, error) {
	segs := g.key("categories_segments").ints()
	sizes := g.key("categories_sizes").ints()
	nodes := g.key("categories_nodes").ints()
	cats := g.key("categories").ints()
	if *g.err != nil {
		return nil, *g.err
	}
	if len(segs) != len(nodes) || len(sizes) != len(nodes) {
		return nil, errors.New("categories_nodes, _segments and _sizes have different lengths")
	}
	out := make(map[int][]int, len(nodes))
	for j, nd := range nodes {
		lo, size := segs[j], sizes[j]
		if nd < 0 || nd >= n || lo < 0 || size < 0 || lo+size > len(cats) {
			return nil, fmt.Errorf("categorical split %d (node %d) is outside the arrays", j, nd)
		}
		out[nd] = append([]int{}, cats[lo:lo+size]...)
	}
	return out, nil
}

// jsonNonFinite rewrites the NaN, Infinity and -Infinity that XGBoost
// writes (its categorical nodes' split_conditions are NaN) into JSON:
// null, and numbers too large for a float64 that num reads as infinities.
func jsonNonFinite(b []byte) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	inStr := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out = append(out, c)
			switch c {
			case '\\':
				if i+1 < len(b) {
					i++
					out = append(out, b[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			out = append(out, "null"...)
			i += 2
			continue
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			out = append(out, "1e999"...)
			i += 7
			continue
		}
		out = append(out, c)
	}
	return out
}

// genP walks a decoded JSON/UBJSON document; a structure mismatch
// yields zero values and records the first error in *err.
type genP struct {
	v   any
	err *error
}

func (p *genP) from(v any, k string) *genP {
	m, ok := v.(map[string]any)
	if !ok {
		p.set(fmt.Errorf("want an object holding %q", k))
		return p
	}
	x, ok := m[k]
	if !ok {
		p.set(fmt.Errorf("no %q", k))
		return p
	}
	p.v = x
	return p
}

// opt returns the value under k, or nil when p is not an object holding k.
func (p *genP) opt(k string) *genP {
	m, ok := p.v.(map[string]any)
	if !ok || *p.err != nil {
		return nil
	}
	x, ok := m[k]
	if !ok {
		return nil
	}
	return &genP{v: x, err: p.err}
}

func (p *genP) set(err error) {
	if *p.err == nil {
		*p.err = err
	}
}

func (p *genP) key(k string) *genP {
	if *p.err != nil {
		return p
	}
	q := &genP{err: p.err}
	return q.from(p.v, k)
}

func (p *genP) str() string {
	s, ok := p.v.(string)
	if !ok && *p.err == nil {
		p.set(fmt.Errorf("want a string, got %T", p.v))
	}
	return s
}

func (p *genP) num() float64 {
	switch x := p.v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !math.IsInf(f, 0) { // 1e999: an infinity
			p.set(err)
		}
		return f
	case nil:
		return math.NaN() // NaN in XGBoost's JSON (see jsonNonFinite)
	case float64:
		return x
	case int64:
		return float64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			p.set(fmt.Errorf("want a number, got %q", x))
		}
		return f
	}
	if *p.err == nil {
		p.set(fmt.Errorf("want a number, got %T", p.v))
	}
	return 0
}

func (p *genP) arr() []any {
	if p.v == nil && *p.err != nil {
		return nil
	}
	switch x := p.v.(type) {
	case []any:
		return x
	case []float64:
		out := make([]any, len(x))
		for i, v := range x {
			out[i] = v
		}
		return out
	}
	p.set(fmt.Errorf("want an array, got %T", p.v))
	return nil
}

func (p *genP) floats() []float64 {
	if f, ok := p.v.([]float64); ok {
		return f
	}
	a := p.arr()
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = (&genP{v: v, err: p.err}).num()
	}
	return out
}

func (p *genP) ints() []int {
	f := p.floats()
	out := make([]int, len(f))
	for i, v := range f {
		out[i] = int(v)
	}
	return out
}

// ubjReader decodes UBJSON as XGBoost writes it: objects, arrays
// (optionally typed and counted), integers, float32/float64, strings,
// booleans and null. Typed numeric arrays become []float64.
type ubjReader struct {
	b []byte
	i int
}

const maxUBJDepth = 64

func (u *ubjReader) byte1() (byte, error) {
	if u.i >= len(u.b) {
		return 0, errors.New("unexpected end of UBJSON")
	}
	c := u.b[u.i]
	u.i++
	return c, nil
}

func (u *ubjReader) take(n int) ([]byte, error) {
	if n < 0 || u.i+n > len(u.b) {
		return nil, errors.New("unexpected end of UBJSON")
	}
	s := u.b[u.i : u.i+n]
	u.i += n
	return s, nil
}

func (u *ubjReader) value(depth int) (any, error) {
	c, err := u.byte1()
	if err != nil {
		return nil, err
	}
	return u.typed(c, depth)
}

func (u *ubjReader) typed(c byte, depth int) (any, error) {
	if depth > maxUBJDepth {
		return nil, errors.New("UBJSON nested too deeply")
	}
	switch c {
	case '{':
		return u.object(depth)
	case '[':
		return u.array(depth)
	case 'Z':
		return nil, nil
	case 'T':
		return true, nil
	case 'F':
		return false, nil
	case 'S', 'H':
		n, err := u.length()
		if err != nil {
			return nil, err
		}
		s, err := u.take(n)
		return string(s), err
	case 'C':
		b, err := u.take(1)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	return u.number(c)
}

func (u *ubjReader) number(c byte) (any, error) {
	var n int
	switch c {
	case 'i', 'U':
		n = 1
	case 'I':
		n = 2
	case 'l', 'd':
		n = 4
	case 'L', 'D':
		n = 8
	default:
		return nil, fmt.Errorf("UBJSON type %q at byte %d is not supported", c, u.i-1)
	}
	b, err := u.take(n)
	if err != nil {
		return nil, err
	}
	switch c {
	case 'i':
		return float64(int8(b[0])), nil
	case 'U':
		return float64(b[0]), nil
	case 'I':
		return float64(int16(binary.BigEndian.Uint16(b))), nil
	case 'l':
		return float64(int32(binary.BigEndian.Uint32(b))), nil
	case 'L':
		return float64(int64(binary.BigEndian.Uint64(b))), nil
	case 'd':
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	default:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	}
}

func (u *ubjReader) length() (int, error) {
	c, err := u.byte1()
	if err != nil {
		return 0, err
	}
	v, err := u.number(c)
	if err != nil {
		return 0, err
	}
	f := v.(float64)
	if f < 0 || f > float64(len(u.b)) {
		return 0, fmt.Errorf("UBJSON length %v out of range", f)
	}
	return int(f), nil
}

// header reads an optimized container's $type and #count, if any.
func (u *ubjReader) header() (typ byte, count int, err error) {
	count = -1
	if u.i < len(u.b) && u.b[u.i] == '$' {
		u.i++
		if typ, err = u.byte1(); err != nil {
			return
		}
		if u.i >= len(u.b) || u.b[u.i] != '#' {
			return 0, 0, errors.New("UBJSON typed container without a count")
		}
	}
	if u.i < len(u.b) && u.b[u.i] == '#' {
		u.i++
		count, err = u.length()
	}
	return
}

func (u *ubjReader) array(depth int) (any, error) {
	typ, count, err := u.header()
	if err != nil {
		return nil, err
	}
	if typ != 0 && strings.IndexByte("iUIlLdD", typ) >= 0 {
		out := make([]float64, 0, min(count, len(u.b)))
		for range count {
			v, err := u.number(typ)
			if err != nil {
				return nil, err
			}
			out = append(out, v.(float64))
		}
		return out, nil
	}
	var out []any
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 {
			if u.i < len(u.b) && u.b[u.i] == ']' {
				u.i++
				break
			}
		}
		var v any
		if typ != 0 {
			v, err = u.typed(typ, depth+1)
		} else {
			v, err = u.value(depth + 1)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func (u *ubjReader) object(depth int) (any, error) {
	typ, count, err := u.header()
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for i := 0; count < 0 || i < count; i++ {
		if count < 0 && u.i < len(u.b) && u.b[u.i] == '}' {
			u.i++
			break
		}
		n, err := u.length()
		if err != nil {
			return nil, err
		}
		k, err := u.take(n)
		if err != nil {
			return nil, err
		}
		var v any
		if typ != 0 {
			v, err = u.typed(typ, depth+1)
		} else {
			v, err = u.value(depth + 1)
		}
		if err != nil {
			return nil, err
		}
		out[string(k)] = v
	}
	return out, nil
}
