package modelquality

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/bridgeops/bridge/internal/monitor/tabular"
)

// Attributes say where predictions sit in a captured response: an index
// into each CSV row or JSON list, or a key of each JSON object. Empty
// Inference means the first field (CSV), the element itself (JSON scalar)
// or one of the keys "predicted_label", "label", "prediction" (JSON object);
// empty Probability means none, or "probability"/"score" in JSON objects.
type Attributes struct {
	Inference   string
	Probability string
}

// Outputs appends the predictions and probabilities of one response (one
// per row: batch responses hold several) to preds and probs.
func (a Attributes) Outputs(encoding string, data []byte, preds, probs []string) ([]string, []string, error) {
	if strings.EqualFold(encoding, tabular.EncodingJSON) {
		return a.jsonOutputs(data, preds, probs)
	}
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var fields [4][]byte
		fs := tabular.SplitComma(fields[:0], line)
		pred, prob := "", ""
		if a.Probability != "" {
			i, err := strconv.Atoi(a.Probability)
			if err != nil || i < 0 || i >= len(fs) {
				return preds, probs, fmt.Errorf("probability attribute %q: not a column of the CSV response (%d columns)", a.Probability, len(fs))
			}
			prob = string(bytes.TrimSpace(fs[i]))
		}
		switch {
		case a.Inference != "":
			i, err := strconv.Atoi(a.Inference)
			if err != nil || i < 0 || i >= len(fs) {
				return preds, probs, fmt.Errorf("inference attribute %q: not a column of the CSV response (%d columns)", a.Inference, len(fs))
			}
			pred = string(bytes.TrimSpace(fs[i]))
		case a.Probability == "":
			pred = string(bytes.TrimSpace(fs[0]))
		}
		preds = append(preds, pred)
		probs = append(probs, prob)
	}
	return preds, probs, nil
}

func (a Attributes) jsonOutputs(data []byte, preds, probs []string) ([]string, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return preds, probs, fmt.Errorf("parse JSON response: %w", err)
	}
	var items []any
	switch t := v.(type) {
	case []any:
		items = t
	case map[string]any:
		found := false
		for _, k := range []string{"predictions", "outputs", "scores"} {
			if l, ok := t[k].([]any); ok {
				items, found = l, true
				break
			}
		}
		if !found {
			items = []any{t}
		}
	default:
		items = []any{t}
	}
	for _, it := range items {
		pred, prob := "", ""
		switch t := it.(type) {
		case map[string]any:
			pred = pick(t, a.Inference, "predicted_label", "label", "prediction")
			prob = pick(t, a.Probability, "probability", "score")
			if a.Probability == "" && a.Inference == "" && pred == "" {
				prob = ""
			}
		case []any:
			pred = index(t, a.Inference, a.Probability == "")
			if a.Probability != "" {
				prob = index(t, a.Probability, false)
			}
		default:
			if a.Probability != "" && a.Inference == "" {
				prob = scalar(t)
			} else {
				pred = scalar(t)
			}
		}
		preds = append(preds, pred)
		probs = append(probs, prob)
	}
	return preds, probs, nil
}

func pick(m map[string]any, attr string, defaults ...string) string {
	if attr != "" {
		return scalar(m[attr])
	}
	for _, k := range defaults {
		if v, ok := m[k]; ok {
			return scalar(v)
		}
	}
	return ""
}

func index(l []any, attr string, firstByDefault bool) string {
	if attr == "" {
		if firstByDefault && len(l) > 0 {
			return scalar(l[0])
		}
		return ""
	}
	i, err := strconv.Atoi(attr)
	if err != nil || i < 0 || i >= len(l) {
		return ""
	}
	return scalar(l[i])
}

func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case []any:
		if len(t) == 1 {
			return scalar(t[0])
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Labels splits ground-truth data into one label per row (CSV: one per
// line; JSON: a list or a scalar).
func Labels(encoding string, data []byte, out []string) []string {
	if strings.EqualFold(encoding, tabular.EncodingJSON) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			if l, ok := v.([]any); ok {
				for _, x := range l {
					out = append(out, scalar(x))
				}
				return out
			}
			return append(out, scalar(v))
		}
	}
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		if l := bytes.TrimSpace(line); len(l) > 0 {
			out = append(out, string(l))
		}
	}
	return out
}
