package trees

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// loadLightGBM reads an MLflow lightgbm flavor's model file in LightGBM's
// text format (a Booster saved with save_model) and converts it. Its
// pyfunc answers are Booster.predict's: numbers for regression, the
// positive class probability for binary models, rows of probabilities for
// multi-class ones.
//
// LightGBM's arithmetic is kept: float64 comparisons (left when
// x <= threshold), each split's missing-value type (None: a NaN is taken
// as 0; Zero: 0 and NaN go the default direction; NaN: NaN goes the
// default direction), leaves summed in tree order.
func loadLightGBM(dir string, conf, pyfunc map[string]any) (*Ensemble, error) {
	data, _ := conf["data"].(string)
	if data == "" {
		data = "model.lgb"
	}
	if !filepath.IsLocal(data) {
		return nil, notNative("lightgbm data %q is not inside the model directory", data)
	}
	if class, _ := conf["model_class"].(string); class != "" && !strings.HasSuffix(class, ".Booster") {
		return nil, notNative("lightgbm model_class %s (only Booster text models are converted)", class)
	}
	b, err := os.ReadFile(filepath.Join(dir, data))
	if err != nil {
		return nil, notNative("read lightgbm model: %v", err)
	}
	f, err := parseLightGBM(b)
	if err != nil {
		return nil, err
	}
	return Compile(f)
}

// parseLightGBM converts LightGBM's text model format.
func parseLightGBM(b []byte) (*File, error) {
	if !bytes.HasPrefix(b, []byte("tree\n")) && !bytes.HasPrefix(b, []byte("tree\r\n")) {
		return nil, notNative("not a LightGBM text model (it does not start with \"tree\")")
	}
	header := map[string]string{}
	var trees []map[string]string
	cur := header
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "end of trees" {
			break
		}
		if strings.HasPrefix(line, "Tree=") {
			cur = map[string]string{}
			trees = append(trees, cur)
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			cur[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("lightgbm model: %w", err)
	}
	atoi := func(m map[string]string, k string) (int, error) {
		n, err := strconv.Atoi(m[k])
		if err != nil {
			return 0, fmt.Errorf("lightgbm model: %s=%q: want an integer", k, m[k])
		}
		return n, nil
	}
	nClass, err := atoi(header, "num_class")
	if err != nil {
		return nil, err
	}
	perIter, err := atoi(header, "num_tree_per_iteration")
	if err != nil {
		return nil, err
	}
	maxFeat, err := atoi(header, "max_feature_idx")
	if err != nil {
		return nil, err
	}
	if _, ok := header["average_output"]; ok {
		return nil, notNative("lightgbm random forest mode (average_output)")
	}
	f := &File{Format: FormatName, Version: FormatVersion, NumFeatures: maxFeat + 1}
	if names := strings.Fields(header["feature_names"]); len(names) == maxFeat+1 {
		f.FeatureNames = names
	}
	m := &f.Model
	m.Kind, m.Split, m.Combine, m.Missing, m.Outputs = "trees", "le", "sum", true, perIter
	obj := strings.Fields(header["objective"])
	if len(obj) == 0 {
		return nil, notNative("lightgbm model without an objective")
	}
	f.Source = "lightgbm " + obj[0]
	params := map[string]string{}
	for _, p := range obj[1:] {
		k, v, _ := strings.Cut(p, ":")
		params[k] = v
	}
	switch obj[0] {
	case "regression", "regression_l2", "regression_l1", "huber", "fair", "quantile", "mape", "l2", "l1", "mse", "mae":
		m.Link = LinkIdentity
	case "poisson", "gamma", "tweedie":
		m.Link = LinkExp
	case "binary", "cross_entropy", "xentropy":
		if s, ok := params["sigmoid"]; ok && s != "1" {
			return nil, notNative("lightgbm binary objective with sigmoid:%s", s)
		}
		m.Link = LinkLogistic
	case "multiclass", "softmax":
		m.Link = LinkSoftmax
		f.Output = "predict_proba"
		for k := range nClass {
			m.Classes = append(m.Classes, json.RawMessage(strconv.Itoa(k)))
		}
	default:
		return nil, notNative("lightgbm objective %s", obj[0])
	}
	if m.Link != LinkSoftmax && perIter != 1 {
		return nil, notNative("lightgbm %s with %d trees per iteration", obj[0], perIter)
	}
	if len(trees) == 0 {
		return nil, fmt.Errorf("lightgbm model has no trees")
	}
	for i, t := range trees {
		ct, err := lgbTree(t)
		if err != nil {
			return nil, fmt.Errorf("lightgbm tree %d: %w", i, err)
		}
		ct.Output = i % perIter
		m.Trees = append(m.Trees, ct)
	}
	return f, nil
}

// lgbTree converts one LightGBM tree: internal nodes 0..num_leaves-2, then
// the leaves (LightGBM numbers a leaf l as child ^l).
func lgbTree(t map[string]string) (Tree, error) {
	nLeaves, err := strconv.Atoi(t["num_leaves"])
	if err != nil || nLeaves < 1 {
		return Tree{}, fmt.Errorf("num_leaves=%q", t["num_leaves"])
	}
	if t["num_cat"] != "" && t["num_cat"] != "0" {
		return Tree{}, notNative("lightgbm categorical splits")
	}
	if t["is_linear"] == "1" {
		return Tree{}, notNative("lightgbm linear trees")
	}
	leafVal, err := floatList(t["leaf_value"], nLeaves)
	if err != nil {
		return Tree{}, fmt.Errorf("leaf_value: %w", err)
	}
	var tr Tree
	if nLeaves == 1 {
		tr.Feature, tr.Threshold, tr.Left, tr.Right = []int{0}, []Number{0}, []int{-1}, []int{-1}
		tr.MissingLeft, tr.ZeroMissing = []bool{false}, []bool{false}
		tr.Value = leafVal
		return tr, nil
	}
	nIn := nLeaves - 1
	feat, err := floatList(t["split_feature"], nIn)
	if err != nil {
		return Tree{}, fmt.Errorf("split_feature: %w", err)
	}
	thr, err := floatList(t["threshold"], nIn)
	if err != nil {
		return Tree{}, fmt.Errorf("threshold: %w", err)
	}
	dt, err := floatList(t["decision_type"], nIn)
	if err != nil {
		return Tree{}, fmt.Errorf("decision_type: %w", err)
	}
	left, err := floatList(t["left_child"], nIn)
	if err != nil {
		return Tree{}, fmt.Errorf("left_child: %w", err)
	}
	right, err := floatList(t["right_child"], nIn)
	if err != nil {
		return Tree{}, fmt.Errorf("right_child: %w", err)
	}
	child := func(c float64) int {
		if c < 0 {
			return nIn + int(-c) - 1 // leaf ^c
		}
		return int(c)
	}
	n := nIn + nLeaves
	tr.Feature = make([]int, n)
	tr.Threshold = make([]Number, n)
	tr.Left = make([]int, n)
	tr.Right = make([]int, n)
	tr.MissingLeft = make([]bool, n)
	tr.ZeroMissing = make([]bool, n)
	tr.Value = make([]float64, n)
	for i := range nIn {
		d := int(dt[i])
		if d&1 != 0 {
			return Tree{}, notNative("lightgbm categorical splits")
		}
		defLeft := d&2 != 0
		tr.Feature[i], tr.Threshold[i] = int(feat[i]), Number(thr[i])
		tr.Left[i], tr.Right[i] = child(left[i]), child(right[i])
		switch (d >> 2) & 3 {
		case 0: // None: a NaN is taken as 0.
			tr.MissingLeft[i] = 0 <= thr[i]
		case 1: // Zero: 0 (and NaN, taken as 0) go the default way.
			tr.MissingLeft[i], tr.ZeroMissing[i] = defLeft, true
		default: // NaN
			tr.MissingLeft[i] = defLeft
		}
	}
	for l := range nLeaves {
		tr.Left[nIn+l], tr.Right[nIn+l] = -1, -1
		tr.Value[nIn+l] = leafVal[l]
	}
	return tr, nil
}

func floatList(s string, n int) ([]float64, error) {
	fs := strings.Fields(s)
	if len(fs) != n {
		return nil, fmt.Errorf("%d values, want %d", len(fs), n)
	}
	out := make([]float64, n)
	for i, x := range fs {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
