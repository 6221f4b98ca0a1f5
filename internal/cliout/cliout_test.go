package cliout

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		o    string
		fail bool
	}{{"table", false}, {"json", false}, {"yaml", true}, {"", true}, {"JSON", true}} {
		if err := Check(tt.o); (err != nil) != tt.fail {
			t.Errorf("Check(%q) = %v, want failure %v", tt.o, err, tt.fail)
		}
	}
}

func TestJSONAndList(t *testing.T) {
	for _, tt := range []struct {
		name string
		emit func(*bytes.Buffer) error
		want string
	}{
		{"object", func(b *bytes.Buffer) error { return JSON(b, map[string]any{"a": 1, "b": []int{2}}) }, "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n"},
		{"nil list", func(b *bytes.Buffer) error { return List[string](b, nil) }, "[]\n"},
		{"list", func(b *bytes.Buffer) error { return List(b, []string{"x"}) }, "[\n  \"x\"\n]\n"},
		{"html is escaped like encoding/json", func(b *bytes.Buffer) error { return JSON(b, "<a>") }, "\"\\u003ca\\u003e\"\n"},
	} {
		var b bytes.Buffer
		if err := tt.emit(&b); err != nil || b.String() != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, b.String(), err, tt.want)
		}
	}
}

func TestPrint(t *testing.T) {
	table := func(w io.Writer, v []string) error { _, err := fmt.Fprintf(w, "%d rows\n", len(v)); return err }
	for _, tt := range []struct {
		name string
		emit func(*bytes.Buffer) error
		want string
	}{
		{"table", func(b *bytes.Buffer) error { return Print(b, false, []string{"a"}, table) }, "1 rows\n"},
		{"json", func(b *bytes.Buffer) error { return Print(b, true, []string{"a"}, table) }, "[\n  \"a\"\n]\n"},
		{"json of a nil value", func(b *bytes.Buffer) error { return Print[[]string](b, true, nil, table) }, "null\n"},
		{"list table", func(b *bytes.Buffer) error { return PrintList(b, false, nil, table) }, "0 rows\n"},
		{"list json of nil", func(b *bytes.Buffer) error { return PrintList[string](b, true, nil, table) }, "[]\n"},
	} {
		var b bytes.Buffer
		if err := tt.emit(&b); err != nil || b.String() != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, b.String(), err, tt.want)
		}
	}
}
