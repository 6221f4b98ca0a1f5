// Package scoring parses and answers MLflow's scoring protocol: the body of
// POST /invocations as MLflow's scoring server accepts it (JSON with one of
// dataframe_split, dataframe_records, instances or inputs; or text/csv) and
// the {"predictions": [...]} answer (or CSV when the client asks for it).
//
// It is built for numeric tabular models: input is parsed straight into a
// row-major table of float64 with a hand-written scanner, without reflection
// and, when a Frame is reused, without allocating.
package scoring

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// Error codes in MLflow's error JSON ({"error_code": ..., "message": ...}).
const (
	CodeBadRequest       = "BAD_REQUEST"
	CodeNotFound         = "RESOURCE_DOES_NOT_EXIST"
	CodeInternal         = "INTERNAL_ERROR"
	CodeUnavailable      = "TEMPORARILY_UNAVAILABLE"
	CodeInvalidParameter = "INVALID_PARAMETER_VALUE"
)

// Content types the scoring protocol speaks.
const (
	ContentTypeJSON = "application/json"
	ContentTypeCSV  = "text/csv"
)

// Error is a scoring error with the HTTP status and MLflow error code it is
// answered with.
type Error struct {
	Status  int    // HTTP status, e.g. 400
	Code    string // MLflow error code, e.g. BAD_REQUEST
	Message string
}

func (e *Error) Error() string { return e.Message }

// BadRequest returns a 400 BAD_REQUEST error with a formatted message.
func BadRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: fmt.Sprintf(format, args...)}
}

// WriteError answers err as MLflow does: {"error_code": ..., "message": ...}
// with err's status when it is an *Error, else 500 INTERNAL_ERROR.
func WriteError(w http.ResponseWriter, err error) {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: err.Error()}
	}
	WriteErrorCode(w, e.Status, e.Code, e.Message)
}

// WriteErrorCode answers an MLflow-style error JSON with the given status,
// code and message.
func WriteErrorCode(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}{code, message})
	h := w.Header()
	h.Set("Content-Type", ContentTypeJSON)
	h.Del("Content-Length")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// Frame is a parsed table of numbers: Rows() rows of Width values each,
// stored row-major in Values. Columns names the columns when the input did
// (dataframe_split columns, dataframe_records keys, a CSV header, inputs as
// a dict of columns); it is nil otherwise. A Frame can be reused across
// requests: Parse resets it and keeps its storage.
type Frame struct {
	Columns []string
	Width   int
	Values  []float64

	// Missing, when set before Parse, reads null, an empty CSV cell and
	// the string "NaN" as NaN (a missing value) for models that handle
	// missing values; infinities are refused either way. Parse keeps it.
	Missing bool

	cols    [][]float64 // scratch for column-oriented inputs
	seen    []uint32    // scratch for dataframe_records: row stamp per column
	scratch []float64   // scratch for Select
}

// Rows is the number of rows.
func (f *Frame) Rows() int {
	if f.Width == 0 {
		return 0
	}
	return len(f.Values) / f.Width
}

// Row returns row i (a slice of Values).
func (f *Frame) Row(i int) []float64 { return f.Values[i*f.Width : (i+1)*f.Width] }

// Reset empties the frame, keeping its storage.
func (f *Frame) Reset() {
	f.Columns = f.Columns[:0]
	f.Width = 0
	f.Values = f.Values[:0]
}

// Parse parses an invocation body of the given Content-Type into f. JSON is
// the default when contentType is empty. Errors are *Error: 415 for content
// types other than application/json and text/csv (or a charset other than
// UTF-8), 400 for malformed input.
func (f *Frame) Parse(contentType string, body []byte) error {
	f.Reset()
	mt, params, err := parseContentType(contentType)
	if err != nil {
		return err
	}
	switch mt {
	case ContentTypeJSON:
		for k := range params {
			if k != "charset" {
				return unsupportedParam(k)
			}
		}
		err = f.parseJSON(body)
	case ContentTypeCSV:
		header := csvHeaderAuto
		for k, v := range params {
			switch k {
			case "charset":
			case "header":
				switch strings.ToLower(v) {
				case "present":
					header = csvHeaderPresent
				case "absent":
					header = csvHeaderAbsent
				default:
					return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
						Message: fmt.Sprintf("text/csv parameter header=%q: want present or absent", v)}
				}
			default:
				return unsupportedParam(k)
			}
		}
		err = f.parseCSV(body, header)
	default:
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
			Message: fmt.Sprintf("content type %q is not supported: send Content-Type: application/json or text/csv", contentType)}
	}
	if err != nil {
		f.Reset()
		return err
	}
	if len(f.Values) == 0 {
		f.Reset()
		return BadRequest("the input holds no rows: send at least one row of feature values")
	}
	return nil
}

func unsupportedParam(k string) *Error {
	return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
		Message: fmt.Sprintf("unrecognized content type parameter %q: only charset (utf-8) is supported", k)}
}

// parseContentType returns the lower-cased media type and its parameters;
// the common parameter-free types are answered without allocating.
func parseContentType(ct string) (string, map[string]string, error) {
	switch ct {
	case "", ContentTypeJSON:
		return ContentTypeJSON, nil, nil
	case ContentTypeCSV:
		return ContentTypeCSV, nil, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", nil, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
			Message: fmt.Sprintf("malformed Content-Type %q: %v", ct, err)}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return "", nil, &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
			Message: fmt.Sprintf("charset %q is not supported: the scoring server only supports UTF-8", cs)}
	}
	return mt, params, nil
}

// Select reorders f's columns to names when f has column names: the
// result's column i is the input column named names[i]; input columns not
// in names are dropped (as MLflow's schema enforcement does). A frame
// without column names, or with exactly these names in this order, is left
// as is. A missing column is a 400 error naming what the model expects.
func (f *Frame) Select(names []string) error {
	if len(f.Columns) == 0 || len(names) == 0 || slices.Equal(f.Columns, names) {
		return nil
	}
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = -1
		for j, c := range f.Columns {
			if c == n {
				idx[i] = j
				break
			}
		}
		if idx[i] < 0 {
			return BadRequest("missing column %q: the model expects columns %s, the input has %s",
				n, quoteList(names), quoteList(f.Columns))
		}
	}
	rows := f.Rows()
	out := f.scratch[:0]
	for r := 0; r < rows; r++ {
		row := f.Row(r)
		for _, j := range idx {
			out = append(out, row[j])
		}
	}
	f.scratch, f.Values = f.Values[:0], out
	f.Width = len(names)
	f.Columns = append(f.Columns[:0], names...)
	return nil
}

func quoteList(s []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range s {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", x)
	}
	b.WriteByte(']')
	return b.String()
}
