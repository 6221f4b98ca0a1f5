package scoring

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		ct     string
		body   string
		cols   []string
		width  int
		values []float64
	}{
		{"split with columns", "application/json",
			`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5], [-3e2, 4]]}}`,
			[]string{"a", "b"}, 2, []float64{1, 2.5, -300, 4}},
		{"split with index, data before columns", "application/json; charset=UTF-8",
			`{"dataframe_split": {"index": [7, 8], "data": [[1, 2], [3, 4]], "columns": ["x", "y"]}}`,
			[]string{"x", "y"}, 2, []float64{1, 2, 3, 4}},
		{"split without columns", "",
			`{"dataframe_split": {"data": [[1, 2, 3]]}}`,
			nil, 3, []float64{1, 2, 3}},
		{"records", "application/json",
			`{"dataframe_records": [{"a": 1, "b": 2}, {"b": 4, "a": 3}]}`,
			[]string{"a", "b"}, 2, []float64{1, 2, 3, 4}},
		{"instances rows", "application/json",
			` { "instances" : [ [ 1 , 2 ] , [ 3 , 4 ] ] } `,
			nil, 2, []float64{1, 2, 3, 4}},
		{"instances records", "application/json",
			`{"instances": [{"a": 1, "b": 2}]}`,
			[]string{"a", "b"}, 2, []float64{1, 2}},
		{"inputs rows with params", "application/json",
			`{"params": {"k": [1, {"z": null}]}, "inputs": [[0.5, 1e-3]]}`,
			nil, 2, []float64{0.5, 0.001}},
		{"inputs columns", "application/json",
			`{"inputs": {"a": [1, 3], "b": [2, 4]}}`,
			[]string{"a", "b"}, 2, []float64{1, 2, 3, 4}},
		{"inputs scalar columns", "application/json",
			`{"inputs": {"a": 1, "b": 2}}`,
			[]string{"a", "b"}, 2, []float64{1, 2}},
		{"inputs flat list is one column", "application/json",
			`{"inputs": [1, 2, 3]}`,
			nil, 1, []float64{1, 2, 3}},
		{"numeric strings and booleans", "application/json",
			`{"inputs": [["1.5", true, false]]}`,
			nil, 3, []float64{1.5, 1, 0}},
		{"escaped keys", "application/json",
			`{"dataframe_records": [{"a\u00e9": 1, "b\"q": 2}]}`,
			[]string{"aé", `b"q`}, 2, []float64{1, 2}},
		{"csv without header", "text/csv",
			"1,2\n3,4\n",
			nil, 2, []float64{1, 2, 3, 4}},
		{"csv with header, CRLF and blank lines", "text/csv; charset=utf-8",
			"a,b\r\n\r\n1, 2\r\n3,4",
			[]string{"a", "b"}, 2, []float64{1, 2, 3, 4}},
		{"csv quoted", "text/csv",
			"\"a\",\"b\"\n\"1\",2\n",
			[]string{"a", "b"}, 2, []float64{1, 2}},
		{"csv header=present with numeric names", "text/csv; header=present",
			"1,2\n3,4\n",
			[]string{"1", "2"}, 2, []float64{3, 4}},
		{"csv header=absent", "text/csv;header=absent",
			"5,6\n",
			nil, 2, []float64{5, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if err := f.Parse(tt.ct, []byte(tt.body)); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(tt.cols) == 0 && len(f.Columns) != 0 || len(tt.cols) > 0 && !reflect.DeepEqual(f.Columns, tt.cols) {
				t.Errorf("columns = %q, want %q", f.Columns, tt.cols)
			}
			if f.Width != tt.width {
				t.Errorf("width = %d, want %d", f.Width, tt.width)
			}
			if !reflect.DeepEqual(f.Values, tt.values) {
				t.Errorf("values = %v, want %v", f.Values, tt.values)
			}
			if f.Rows() != len(tt.values)/tt.width {
				t.Errorf("rows = %d", f.Rows())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		ct     string
		body   string
		status int
		msg    string
	}{
		{"empty body", "application/json", "", 400, "request body is empty"},
		{"list", "application/json", `[[1, 2]]`, 400, "received a list"},
		{"scalar", "application/json", `42`, 400, "received a JSON scalar"},
		{"no known field", "application/json", `{"data": [[1]]}`, 400, `received an object with the fields ["data"]`},
		{"two fields", "application/json", `{"inputs": [[1]], "instances": [[1]]}`, 400, `received both "inputs" and "instances"`},
		{"truncated", "application/json", `{"inputs": [[1, 2]`, 400, "end of the input"},
		{"trailing garbage", "application/json", `{"inputs": [[1]]} x`, 400, "unexpected data after"},
		{"bad number", "application/json", `{"inputs": [[1.]]}`, 400, "invalid number"},
		{"null value", "application/json", `{"inputs": [[1, null]]}`, 400, "inputs[0][1]: value is null"},
		{"string value", "application/json", `{"inputs": [["abc"]]}`, 400, `value "abc" is not a finite number`},
		{"nested too deep", "application/json", `{"inputs": [[[1]]]}`, 400, "got a list where a number was expected"},
		{"ragged rows", "application/json", `{"instances": [[1, 2], [3]]}`, 400, "instances[1] has 1 values but instances[0] has 2"},
		{"empty rows", "application/json", `{"inputs": []}`, 400, "holds no rows"},
		{"records missing column", "application/json", `{"dataframe_records": [{"a": 1, "b": 2}, {"a": 3}]}`, 400, `lacks the columns ["b"]`},
		{"records extra column", "application/json", `{"dataframe_records": [{"a": 1}, {"a": 3, "c": 1}]}`, 400, `has column "c" that dataframe_records[0] does not have`},
		{"records not a list", "application/json", `{"dataframe_records": {"a": 1}}`, 400, "must be a list of records"},
		{"split without data", "application/json", `{"dataframe_split": {"columns": ["a"]}}`, 400, `has no "data"`},
		{"split columns mismatch", "application/json", `{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}`, 400, "names 1 columns but its rows have 2 values"},
		{"columns uneven", "application/json", `{"inputs": {"a": [1, 2], "b": [3]}}`, 400, "the length of values for each column must be the same"},
		{"out of range", "application/json", `{"inputs": [[1e999]]}`, 400, "out of range"},
		{"control char", "application/json", "{\"in\tputs\": 1}", 400, "control character"},
		{"unsupported type", "application/x-www-form-urlencoded", `inputs=1`, 415, "send Content-Type: application/json or text/csv"},
		{"bad charset", "application/json; charset=latin1", `{}`, 415, "only supports UTF-8"},
		{"unknown parameter", "application/json; format=pandas-split", `{}`, 415, `"format"`},
		{"csv ragged", "text/csv", "1,2\n3\n", 400, "CSV line 2 has 1 values but the first row has 2"},
		{"csv empty cell", "text/csv", "1,\n", 400, "CSV line 1, column 2 is empty"},
		{"csv text cell after header", "text/csv", "a,b\n1,x\n", 400, `"x" is not a finite number`},
		{"csv header only", "text/csv", "a,b\n", 400, "holds no rows"},
		{"csv NaN", "text/csv; header=absent", "nan,1\n", 400, "not a finite number"},
		{"csv bad quotes", "text/csv", "\"1,2\n", 400, "malformed CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			err := f.Parse(tt.ct, []byte(tt.body))
			if err == nil {
				t.Fatalf("Parse succeeded with %v, want an error", f.Values)
			}
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if e.Status != tt.status || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error = %d %q, want %d containing %q", e.Status, e.Message, tt.status, tt.msg)
			}
			if f.Rows() != 0 {
				t.Errorf("frame keeps %d rows after an error", f.Rows())
			}
		})
	}
}

func TestFrameReuse(t *testing.T) {
	var f Frame
	if err := f.Parse("", []byte(`{"dataframe_records": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}`)); err != nil {
		t.Fatal(err)
	}
	if err := f.Parse("", []byte(`{"inputs": [[9]]}`)); err != nil {
		t.Fatal(err)
	}
	if len(f.Columns) != 0 || f.Width != 1 || !reflect.DeepEqual(f.Values, []float64{9}) {
		t.Fatalf("reused frame = %+v", f)
	}
	if err := f.Parse("", []byte(`{"dataframe_records": [{"x": 5}, {"x": 6}]}`)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Values, []float64{5, 6}) {
		t.Fatalf("values %v", f.Values)
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		names  []string
		values []float64
		err    string
	}{
		{"reorders", `{"dataframe_split": {"columns": ["b", "a"], "data": [[2, 1], [4, 3]]}}`, []string{"a", "b"}, []float64{1, 2, 3, 4}, ""},
		{"drops extra", `{"dataframe_records": [{"c": 9, "a": 1, "b": 2}]}`, []string{"a", "b"}, []float64{1, 2}, ""},
		{"same order untouched", `{"inputs": {"a": [1], "b": [2]}}`, []string{"a", "b"}, []float64{1, 2}, ""},
		{"no names in input", `{"inputs": [[5, 6]]}`, []string{"a", "b"}, []float64{5, 6}, ""},
		{"missing", `{"dataframe_records": [{"a": 1}]}`, []string{"a", "b"}, nil, `missing column "b": the model expects columns ["a", "b"], the input has ["a"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Frame
			if err := f.Parse("", []byte(tt.body)); err != nil {
				t.Fatal(err)
			}
			err := f.Select(tt.names)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(f.Values, tt.values) {
				t.Fatalf("values = %v, want %v", f.Values, tt.values)
			}
		})
	}
}

func TestAppendPyFloat(t *testing.T) {
	// Python 3: [repr(x) for x in ...]
	tests := []struct {
		x    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-2, "-2.0"}, {0.1, "0.1"},
		{1.5, "1.5"}, {1e-4, "0.0001"}, {1e-5, "1e-05"}, {123456789.125, "123456789.125"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.5e17, "1.5e+17"}, {1.0 / 3, "0.3333333333333333"},
	}
	for _, tt := range tests {
		if got := string(AppendPyFloat(nil, tt.x)); got != tt.want {
			t.Errorf("AppendPyFloat(%v) = %s, want %s", tt.x, got, tt.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   Format
	}{
		{"", FormatJSON},
		{"*/*", FormatJSON},
		{"text/csv", FormatCSV},
		{"text/csv; charset=utf-8", FormatCSV},
		{"application/json, text/csv", FormatJSON},
		{"text/html, text/csv;q=0.9, application/json;q=0.5", FormatCSV},
		{"text/csv;q=0, application/json", FormatJSON},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.accept); got != tt.want {
			t.Errorf("Negotiate(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

func TestWrite(t *testing.T) {
	labels := make([]Label, 0, 3)
	for _, raw := range []string{`"setosa"`, `2`, `"a,b"`} {
		l, err := NewLabel(json.RawMessage(raw))
		if err != nil {
			t.Fatal(err)
		}
		labels = append(labels, l)
	}
	if _, err := NewLabel(json.RawMessage(`{"a": 1}`)); err == nil {
		t.Error("NewLabel accepted an object")
	}
	tests := []struct {
		name  string
		write func(w http.ResponseWriter)
		ct    string
		body  string
	}{
		{"floats json", func(w http.ResponseWriter) { WriteFloats(w, FormatJSON, []float64{1, 0.5, math.NaN()}) },
			"application/json", "{\"predictions\": [1.0, 0.5, null]}\n"},
		{"floats csv", func(w http.ResponseWriter) { WriteFloats(w, FormatCSV, []float64{1, 0.25}) },
			"text/csv", "1.0\n0.25\n"},
		{"labels json", func(w http.ResponseWriter) { WriteLabels(w, FormatJSON, labels, []int{0, 1, 2}) },
			"application/json", "{\"predictions\": [\"setosa\", 2, \"a,b\"]}\n"},
		{"labels csv", func(w http.ResponseWriter) { WriteLabels(w, FormatCSV, labels, []int{1, 0, 2}) },
			"text/csv", "2\nsetosa\n\"a,b\"\n"},
		{"error", func(w http.ResponseWriter) { WriteError(w, BadRequest("bad %s", "input")) },
			"application/json", "{\"error_code\":\"BAD_REQUEST\",\"message\":\"bad input\"}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.write(rec)
			if got := rec.Header().Get("Content-Type"); got != tt.ct {
				t.Errorf("Content-Type = %q, want %q", got, tt.ct)
			}
			if rec.Body.String() != tt.body {
				t.Errorf("body = %q, want %q", rec.Body.String(), tt.body)
			}
		})
	}
}

func BenchmarkParseSplit(b *testing.B) {
	body := []byte(`{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]}}`)
	var f Frame
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := f.Parse("application/json", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseJSON parses each orientation of the JSON protocol into a
// reused frame.
func BenchmarkParseJSON(b *testing.B) {
	bodies := []struct{ name, body string }{
		{"split", `{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]}}`},
		{"records", `{"dataframe_records": [{"a": 5.1, "b": 3.5, "c": 1.4, "d": 0.2}, {"a": 6.2, "b": 2.9, "c": 4.3, "d": 1.3}, {"a": 7.7, "b": 3.0, "c": 6.1, "d": 2.3}]}`},
		{"rows", `{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]}`},
		{"flat", `{"instances": [5.1, 3.5, 1.4, 0.2, 6.2, 2.9, 4.3, 1.3, 7.7, 3.0, 6.1, 2.3]}`},
		{"columns", `{"inputs": {"a": [5.1, 6.2, 7.7], "b": [3.5, 2.9, 3.0], "c": [1.4, 4.3, 6.1], "d": [0.2, 1.3, 2.3]}}`},
		{"params", `{"inputs": [[5.1, 3.5, 1.4, 0.2]], "params": {"k": [1, {"x": null, "y": "z"}, true]}}`},
	}
	for _, tt := range bodies {
		b.Run(tt.name, func(b *testing.B) {
			body := []byte(tt.body)
			var f Frame
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := f.Parse("application/json", body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
