package trees

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
		dec := json.NewDecoder(strings.NewReader(string(b)))
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

// xgbFile converts a decoded XGBoost model document.
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
	if t := int(param.key("num_target").num()); t > 1 {
		return nil, notNative("xgboost multi-target models")
	}
	base := float32(param.key("base_score").num())
	if gerr != nil {
		return nil, fmt.Errorf("xgboost model: %w", gerr)
	}
	f := &File{Format: FormatName, Version: FormatVersion, Source: "xgboost " + obj, NumFeatures: nFeat}
	m := &f.Model
	m.Kind, m.Split, m.Combine, m.Missing = "trees", "lt32", "sum32", true
	m.Outputs = 1
	classifier := strings.HasSuffix(class, "XGBClassifier")
	switch obj {
	case "binary:logistic":
		if !classifier {
			return nil, notNative("xgboost %s as %s (only XGBClassifier is converted)", obj, class)
		}
		m.Link = LinkSigmoid32
		m.Classes = []json.RawMessage{json.RawMessage("0"), json.RawMessage("1")}
		// XGBoost's ProbToMargin, in float32.
		base = -float32(math.Log(float64(float32(1)/base - 1)))
	case "multi:softprob", "multi:softmax":
		if !classifier {
			return nil, notNative("xgboost %s as %s (only XGBClassifier is converted)", obj, class)
		}
		m.Link = LinkSoftmax32
		m.Outputs = nClass
		for k := range nClass {
			m.Classes = append(m.Classes, json.RawMessage(strconv.Itoa(k)))
		}
	case "reg:squarederror", "reg:linear", "reg:absoluteerror", "reg:pseudohubererror", "reg:quantileerror":
		m.Link = LinkIdentity
	default:
		return nil, notNative("xgboost objective %s", obj)
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
	for i, tv := range trees {
		t, err := xgbTree(&genP{v: tv, err: new(error)})
		if err != nil {
			return nil, fmt.Errorf("xgboost tree %d: %w", i, err)
		}
		t.Output = int((&genP{v: info[i], err: &gerr}).num())
		m.Trees = append(m.Trees, t)
	}
	var names []any
	if lm, ok := learner.v.(map[string]any); ok {
		names, _ = lm["feature_names"].([]any)
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
func xgbTree(g *genP) (Tree, error) {
	left := g.key("left_children").ints()
	right := g.key("right_children").ints()
	feat := g.key("split_indices").ints()
	cond := g.key("split_conditions").floats()
	defLeft := g.key("default_left").ints()
	stype := g.key("split_type").ints()
	if *g.err != nil {
		return Tree{}, *g.err
	}
	n := len(left)
	if n == 0 || len(right) != n || len(feat) != n || len(cond) != n || len(defLeft) != n {
		return Tree{}, errors.New("node arrays of different lengths")
	}
	for _, s := range stype {
		if s != 0 {
			return Tree{}, notNative("xgboost categorical splits")
		}
	}
	var t Tree
	newID := map[int]int{0: 0}
	order := []int{0}
	for i := 0; i < len(order); i++ {
		old := order[i]
		for _, c := range []int{left[old], right[old]} {
			if c == -1 {
				continue
			}
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
	for _, old := range order {
		if left[old] == -1 {
			t.Feature = append(t.Feature, 0)
			t.Threshold = append(t.Threshold, 0)
			t.Left = append(t.Left, -1)
			t.Right = append(t.Right, -1)
			t.MissingLeft = append(t.MissingLeft, false)
			t.Value = append(t.Value, float64(float32(cond[old])))
			continue
		}
		t.Feature = append(t.Feature, feat[old])
		t.Threshold = append(t.Threshold, Number(float32(cond[old])))
		if right[old] == -1 {
			return Tree{}, fmt.Errorf("node %d has one child", old)
		}
		t.Left = append(t.Left, newID[left[old]])
		t.Right = append(t.Right, newID[right[old]])
		t.MissingLeft = append(t.MissingLeft, defLeft[old] != 0)
		t.Value = append(t.Value, 0)
	}
	return t, nil
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
		f, err := x.Float64()
		if err != nil {
			p.set(err)
		}
		return f
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
