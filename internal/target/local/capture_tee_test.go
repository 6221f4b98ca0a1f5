package local

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCaptureAnswerPastRoom: the captured body and answer share one
// allocation up to answerRoom; answers longer than that, and bodies the
// model reads in several pieces, are still captured whole and apart.
func TestCaptureAnswerPastRoom(t *testing.T) {
	for _, rows := range []int{1, 3, 200} {
		s := &sink{want: map[string][2]bool{"brdg-houses-Production": {true, true}}}
		e := newEnv(t, s)
		e.f.add(t, "linear", "bridge_linear", linearJSON)
		e.deploy(t, prod, map[int]string{3: "linear"})
		in := `{"inputs": [` + strings.TrimSuffix(strings.Repeat(`[1, 2, 3],`, rows), ",") + `]}`
		a := e.post(t, "/houses/Production/invocations", "application/json", "", in)
		recs := s.all()
		if len(recs) != 1 {
			t.Fatalf("rows=%d: %d records", rows, len(recs))
		}
		var out struct{ Predictions []float64 }
		if err := json.Unmarshal(recs[0].Output, &out); err != nil || len(out.Predictions) != rows {
			t.Fatalf("rows=%d: captured answer %q: %v", rows, recs[0].Output, err)
		}
		if string(recs[0].Input) != in || string(recs[0].Output) != a.body {
			t.Errorf("rows=%d: captured %q / %q, sent %q, answered %q", rows, recs[0].Input, recs[0].Output, in, a.body)
		}
		if rows == 200 && len(recs[0].Output) <= answerRoom {
			t.Fatalf("answer of %d bytes does not pass the room of %d", len(recs[0].Output), answerRoom)
		}
	}
}
