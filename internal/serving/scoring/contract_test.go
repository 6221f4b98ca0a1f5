package scoring

import (
	"errors"
	"net/http"
	"testing"
)

func TestPredictionsToCSV(t *testing.T) {
	tests := []struct {
		in, want string
		status   int // of the error; 0 means none
	}{
		{`{"predictions": [1, 0, 2]}`, "1\n0\n2\n", 0},
		{`{"predictions": [0.5, 1e-05, null]}`, "0.5\n1e-05\n\n", 0},
		{`{"predictions": ["setosa", "a,b", "say \"hi\""]}`, "setosa\n\"a,b\"\n\"say \"\"hi\"\"\"\n", 0},
		{`{"predictions": [[0.1, 0.9], [0.8, 0.2]]}`, "0.1,0.9\n0.8,0.2\n", 0},
		{`{"predictions": []}`, "", 0},
		{`{"predictions": [{"label": 1}]}`, "", http.StatusNotAcceptable},
		{`{"predictions": {"label": [1]}}`, "", http.StatusNotAcceptable},
		{`[1, 2]`, "", http.StatusNotAcceptable},
		{`not json`, "", http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		got, err := PredictionsToCSV([]byte(tt.in))
		var e *Error
		switch {
		case tt.status != 0 && (!errors.As(err, &e) || e.Status != tt.status):
			t.Errorf("PredictionsToCSV(%s) error %v, want status %d", tt.in, err, tt.status)
		case tt.status == 0 && (err != nil || string(got) != tt.want):
			t.Errorf("PredictionsToCSV(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCheckContentTypeAgreesWithParse(t *testing.T) {
	for _, ct := range []string{"", "application/json", "text/csv", "application/json; charset=utf-8", "text/csv; header=present",
		"text/csv; header=maybe", "application/xml", "application/json; charset=latin-1", "text/plain", "application/json; x=1", "bad/;;"} {
		var f Frame
		perr := f.Parse(ct, []byte("1,2\n"))
		if ct == "" || ct == "application/json" || ct == "application/json; charset=utf-8" {
			perr = f.Parse(ct, []byte(`{"inputs": [[1, 2]]}`))
		}
		cerr := CheckContentType(ct)
		var pe, ce *Error
		p415 := errors.As(perr, &pe) && pe.Status == http.StatusUnsupportedMediaType
		c415 := errors.As(cerr, &ce) && ce.Status == http.StatusUnsupportedMediaType
		if p415 != c415 || (cerr != nil && !c415) {
			t.Errorf("Content-Type %q: Parse says %v, CheckContentType says %v", ct, perr, cerr)
		}
	}
}
