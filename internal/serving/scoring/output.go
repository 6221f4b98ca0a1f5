package scoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Format is a response encoding.
type Format uint8

// Response encodings.
const (
	FormatJSON Format = iota // {"predictions": [...]}
	FormatCSV                // one prediction per line, no header
)

// Negotiate picks the response format from an Accept header: CSV when the
// first of application/json and text/csv the client lists is text/csv, JSON
// otherwise (including when Accept is empty or names neither).
func Negotiate(accept string) Format {
	if accept == "" || !strings.Contains(accept, "text/csv") {
		return FormatJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, _ := strings.Cut(part, ";")
		mt = strings.TrimSpace(mt)
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(strings.TrimSpace(q), 64); err == nil && v == 0 {
				continue
			}
		}
		switch strings.ToLower(mt) {
		case ContentTypeCSV:
			return FormatCSV
		case ContentTypeJSON:
			return FormatJSON
		}
	}
	return FormatJSON
}

// Label is a class label encoded once for both response formats. Labels
// keep their JSON type: 1 stays a number, "setosa" stays a string.
type Label struct {
	json []byte
	csv  []byte
}

// NewLabel builds a label from its JSON value, which must be a string,
// number or boolean.
func NewLabel(raw json.RawMessage) (Label, error) {
	raw = bytes.TrimSpace(raw)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return Label{}, fmt.Errorf("class label %s: %w", raw, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return Label{}, fmt.Errorf("class label %s: %w", raw, err)
	}
	switch x := v.(type) {
	case string:
		return Label{json: buf.Bytes(), csv: csvField(x)}, nil
	case float64, bool:
		return Label{json: buf.Bytes(), csv: buf.Bytes()}, nil
	default:
		return Label{}, fmt.Errorf("class label %s: want a string, number or boolean", raw)
	}
}

// String is the label's JSON text.
func (l Label) String() string { return string(l.json) }

func csvField(s string) []byte {
	if strings.ContainsAny(s, ",\"\r\n") || s != strings.TrimSpace(s) {
		return []byte(`"` + strings.ReplaceAll(s, `"`, `""`) + `"`)
	}
	return []byte(s)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// WriteFloats answers numeric predictions in format f.
func WriteFloats(w http.ResponseWriter, f Format, v []float64) {
	bp := bufPool.Get().(*[]byte)
	b := AppendFloats((*bp)[:0], f, v)
	write(w, f, b)
	*bp = b
	bufPool.Put(bp)
}

// WriteLabels answers class predictions in format f: row i's prediction is
// labels[picks[i]].
func WriteLabels(w http.ResponseWriter, f Format, labels []Label, picks []int) {
	bp := bufPool.Get().(*[]byte)
	b := AppendLabels((*bp)[:0], f, labels, picks)
	write(w, f, b)
	*bp = b
	bufPool.Put(bp)
}

var (
	hdrJSON = []string{ContentTypeJSON}
	hdrCSV  = []string{ContentTypeCSV}
)

func write(w http.ResponseWriter, f Format, b []byte) {
	h := w.Header()
	if f == FormatCSV {
		h["Content-Type"] = hdrCSV
	} else {
		h["Content-Type"] = hdrJSON
	}
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// AppendFloats appends numeric predictions in format f to dst. Numbers are
// written as Python's json module writes floats (2.0, 0.1, 1e-05), so
// clients see the same text MLflow's server sends; NaN and infinities,
// which JSON cannot carry, are written as null (an empty CSV field).
func AppendFloats(dst []byte, f Format, v []float64) []byte {
	if f == FormatCSV {
		for _, x := range v {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				dst = AppendPyFloat(dst, x)
			}
			dst = append(dst, '\n')
		}
		return dst
	}
	dst = append(dst, `{"predictions": [`...)
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			dst = append(dst, "null"...)
		} else {
			dst = AppendPyFloat(dst, x)
		}
	}
	return append(dst, "]}\n"...)
}

// AppendLabels appends class predictions in format f to dst.
func AppendLabels(dst []byte, f Format, labels []Label, picks []int) []byte {
	if f == FormatCSV {
		for _, k := range picks {
			dst = append(dst, labels[k].csv...)
			dst = append(dst, '\n')
		}
		return dst
	}
	dst = append(dst, `{"predictions": [`...)
	for i, k := range picks {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = append(dst, labels[k].json...)
	}
	return append(dst, "]}\n"...)
}

// AppendPyFloat appends x as Python's repr(float) writes it: the shortest
// text that reads back as x, fixed notation with at least one decimal for
// exponents -4..15, scientific otherwise (1e-05, 1.5e+16).
func AppendPyFloat(dst []byte, x float64) []byte {
	if x == 0 {
		if math.Signbit(x) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	ax := math.Abs(x)
	if ax >= 1e-4 && ax < 1e16 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, x, 'f', -1, 64)
		if bytes.IndexByte(dst[start:], '.') < 0 {
			dst = append(dst, ".0"...)
		}
		return dst
	}
	return strconv.AppendFloat(dst, x, 'e', -1, 64)
}
