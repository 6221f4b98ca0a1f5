package tabular

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type row struct {
	fields      []string
	short, long bool
}

func rows(t *testing.T, enc, data string) []row {
	t.Helper()
	p := NewParser([]string{"age", "income", "plan"})
	var out []row
	err := p.Rows(enc, []byte(data), func(fields [][]byte, short, long bool) {
		r := row{short: short, long: long}
		for _, f := range fields {
			if f == nil {
				r.fields = append(r.fields, "<nil>")
			} else {
				r.fields = append(r.fields, string(f))
			}
		}
		out = append(out, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPayloadShapes(t *testing.T) {
	cases := []struct {
		name string
		enc  string
		data string
		want []string // rows joined by "|", with short/long flags
	}{
		{"csv one row", "CSV", "30,5000.5,gold", []string{"30|5000.5|gold"}},
		{"csv batch with CRLF", "CSV", "30,1,a\r\n40,2,b\n", []string{"30|1|a", "40|2|b"}},
		{"csv quoted", "CSV", `30,"1,5",gold`, []string{"30|1,5|gold"}},
		{"csv short", "CSV", "30,1", []string{"30|1 short"}},
		{"csv long", "CSV", "30,1,a,x", []string{"30|1|a|x long"}},
		{"dataframe_split", "JSON", `{"dataframe_split": {"columns": ["plan", "age", "income"], "data": [["gold", 30, 1.5]]}}`, []string{"30|1.5|gold"}},
		{"dataframe_records", "JSON", `{"dataframe_records": [{"age": 30, "income": null, "plan": "gold", "extra": 1}]}`, []string{"30|<nil>|gold long"}},
		{"instances lists", "JSON", `{"instances": [[30, 1.5, "gold"], [40, 2.5, "plus"]]}`, []string{"30|1.5|gold", "40|2.5|plus"}},
		{"inputs columnar", "JSON", `{"inputs": {"age": [30, 40], "income": [1, 2], "plan": ["a", "b"]}}`, []string{"30|1|a", "40|2|b"}},
		{"bare list of objects", "JSON", `[{"age": 30, "plan": "gold"}]`, []string{"30|<nil>|gold short"}},
		{"single object", "JSON", `{"age": 30, "income": 1, "plan": true}`, []string{"30|1|true"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := rows(t, tc.enc, tc.data)
			var flat []string
			for _, r := range got {
				s := strings.Join(r.fields, "|")
				if r.short {
					s += " short"
				}
				if r.long {
					s += " long"
				}
				flat = append(flat, s)
			}
			if strings.Join(flat, ";") != strings.Join(tc.want, ";") {
				t.Errorf("got %q, want %q", flat, tc.want)
			}
		})
	}
	p := NewParser([]string{"a"})
	for _, bad := range []struct{ enc, data string }{{"JSON", `{"instances": [`}, {"BASE64", "AAAA"}, {"CSV", `"unterminated`}} {
		if err := p.Rows(bad.enc, []byte(bad.data), func([][]byte, bool, bool) {}); err == nil {
			t.Errorf("%s %q accepted", bad.enc, bad.data)
		}
	}
}

func TestReadDataset(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, file, body string
		cols             string
		rows             int
		malformed        int64
	}{
		{"csv", "d.csv", "\ufeffa,b\n1,2\n3,4\n", "a|b", 2, 0},
		{"csv bad quote", "q.csv", "a,b\n1,2\n\"x,3\n", "a|b", 1, 1},
		{"jsonl", "d.jsonl", `{"a": 1, "b": "x"}` + "\nnot json\n" + `{"b": "y", "a": null}` + "\n", "a|b", 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			os.WriteFile(path, []byte(tc.body), 0o644)
			n := 0
			cols, malformed, err := ReadDataset(path, func(cols []string, row [][]byte) error { n++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(cols, "|") != tc.cols || n != tc.rows || malformed != tc.malformed {
				t.Errorf("cols %v rows %d malformed %d", cols, n, malformed)
			}
		})
	}
	if _, _, err := ReadDataset(filepath.Join(dir, "missing.csv"), nil); err == nil {
		t.Error("missing file accepted")
	}
}
