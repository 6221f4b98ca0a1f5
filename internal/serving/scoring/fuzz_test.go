package scoring

import (
	"encoding/json"
	"testing"
)

// FuzzParseJSON checks that any body either parses into a consistent frame
// or is refused with an *Error, never panics, and that bodies encoding/json
// calls invalid are always refused.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5], [-3e2, 4]], "index": [0, 1]}}`,
		`{"dataframe_records": [{"a": 1, "b": 2}, {"b": 4, "a": 3}]}`,
		`{"instances": [[1, 2], [3, 4]]}`,
		`{"inputs": {"a": [1, 3], "b": [2, 4]}, "params": {"x": [null, true]}}`,
		`{"inputs": [1, "2", true]}`,
		`{"inputs": [[1, 2]`,
		`{"d\u0061ta": 1}`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr Frame
		err := fr.Parse("application/json", b)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		if fr.Width <= 0 || len(fr.Values)%fr.Width != 0 || fr.Rows() == 0 {
			t.Fatalf("inconsistent frame %+v from %q", fr, b)
		}
		if len(fr.Columns) != 0 && len(fr.Columns) != fr.Width {
			t.Fatalf("%d columns for width %d from %q", len(fr.Columns), fr.Width, b)
		}
	})
}

// FuzzParseCSV checks the CSV parser the same way.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{"1,2\n3,4\n", "a,b\r\n1,2", "\"1\",2\n", "1,\n", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr Frame
		if err := fr.Parse("text/csv", b); err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			return
		}
		if fr.Width <= 0 || len(fr.Values)%fr.Width != 0 || fr.Rows() == 0 {
			t.Fatalf("inconsistent frame %+v from %q", fr, b)
		}
	})
}
