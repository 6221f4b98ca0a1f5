package capture

import (
	"testing"
	"time"
)

// BenchmarkParseLine parses a typical capture line (CSV in and out, an
// inference id) and a ground-truth line.
func BenchmarkParseLine(b *testing.B) {
	line := AppendLine(nil, &Record{EventID: NewID(), InferenceID: "inf-123456", Time: time.Date(2026, 5, 1, 10, 27, 13, 402e6, time.UTC),
		InputContentType: "text/csv", Input: []byte("45,51234.50,gold"), OutputContentType: "text/csv", Output: []byte("0.8312")})
	jline := AppendLine(nil, &Record{EventID: NewID(), Time: time.Date(2026, 5, 1, 10, 27, 13, 402e6, time.UTC),
		InputContentType: "application/json", Input: []byte(`{"instances":[[45,51234.5,"gold"]]}`), OutputContentType: "application/json", Output: []byte(`{"predictions":[0.8312]}`)})
	gt := AppendGroundTruthLine(nil, &GroundTruth{EventID: "inf-123456", Data: []byte("1")})
	b.Run("capture", func(b *testing.B) {
		var e Event
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := ParseLine(line, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("capture-id-bytes", func(b *testing.B) {
		var e Event
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := ParseLineIDBytes(line, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("capture-json-payload", func(b *testing.B) {
		var e Event
		b.SetBytes(int64(len(jline)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := ParseLineIDBytes(jline, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ground-truth", func(b *testing.B) {
		var g GroundTruth
		b.SetBytes(int64(len(gt)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := ParseGroundTruthLine(gt, &g); err != nil {
				b.Fatal(err)
			}
		}
	})
}
