package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// sameEvent compares two parses field by field.
func sameEvent(a, b *Event) string {
	pl := func(name string, x, y *Payload) string {
		if (x == nil) != (y == nil) {
			return fmt.Sprintf("%s presence %v vs %v", name, x != nil, y != nil)
		}
		if x == nil {
			return ""
		}
		if x.ContentType != y.ContentType || x.Mode != y.Mode || x.Encoding != y.Encoding || !bytes.Equal(x.Data, y.Data) {
			return fmt.Sprintf("%s %+q vs %+q", name, *x, *y)
		}
		return ""
	}
	if d := pl("input", a.Input, b.Input); d != "" {
		return d
	}
	if d := pl("output", a.Output, b.Output); d != "" {
		return d
	}
	if a.EventID != b.EventID || a.InferenceID != b.InferenceID || !bytes.Equal(a.eventID, b.eventID) || !bytes.Equal(a.inferenceID, b.inferenceID) {
		return fmt.Sprintf("ids %q/%q vs %q/%q", a.eventID, a.inferenceID, b.eventID, b.inferenceID)
	}
	if !a.InferenceTime.Equal(b.InferenceTime) || a.InferenceTime.IsZero() != b.InferenceTime.IsZero() {
		return fmt.Sprintf("time %v vs %v", a.InferenceTime, b.InferenceTime)
	}
	return ""
}

// checkAgainstGeneral parses line with the fast parser and with
// encoding/json: when the fast parser takes a line, the general decoder must
// accept it and give the same event; ParseLine must agree with the general
// decoder on every line.
func checkAgainstGeneral(t *testing.T, line []byte) (fast bool) {
	t.Helper()
	var f, g, p Event
	trimmed := bytes.TrimSpace(line)
	gerr := slowParse(trimmed, &g, true)
	if len(trimmed) > 0 && trimmed[0] == '{' && fastLine(trimmed, &f) {
		fast = true
		f.EventID, f.InferenceID = string(f.eventID), string(f.inferenceID)
		if gerr != nil {
			t.Fatalf("fast parser took a line the general decoder refuses (%v): %q", gerr, line)
		}
		if d := sameEvent(&f, &g); d != "" {
			t.Fatalf("fast parser differs from the general decoder: %s\nline %q", d, line)
		}
	}
	perr := ParseLine(line, &p)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if perr == nil {
			t.Fatalf("ParseLine took a line that is not an object: %q", line)
		}
		return fast
	}
	if (perr == nil) != (gerr == nil) {
		t.Fatalf("ParseLine error %v, general decoder %v: %q", perr, gerr, line)
	}
	if perr == nil {
		if d := sameEvent(&p, &g); d != "" {
			t.Fatalf("ParseLine differs from the general decoder: %s\nline %q", d, line)
		}
	}
	return fast
}

var adversarialStrings = []string{
	"", "a", `quote"inside`, `back\slash`, "tab\there", "nl\nx", "\x00\x01\x1f", "<>&", "héllo wörld", "日本語",
	"\u2028\u2029", "😀 emoji", "\xff\xfe invalid", "a\xc3", "\xed\xa0\x80", "\ufffd", "1,2,3\n4,5,6",
	`{"instances":[[1,2],[3,4]]}`, "text/csv; charset=utf-8", "BASE64", "base64", "baſe64", "INPUT",
}

func randString(r *rand.Rand) string {
	if r.Intn(4) == 0 {
		return adversarialStrings[r.Intn(len(adversarialStrings))]
	}
	b := make([]byte, r.Intn(40))
	for i := range b {
		switch r.Intn(60) {
		case 0:
			b[i] = byte(r.Intn(256))
		case 1:
			b[i] = `"\/{}[],:`[r.Intn(9)]
		default:
			b[i] = byte(' ' + r.Intn(95))
		}
	}
	return string(b)
}

func randTime(r *rand.Rand) string {
	switch r.Intn(6) {
	case 0:
		return randString(r)
	case 1:
		return time.Unix(r.Int63n(4e9), r.Int63n(1e9)).UTC().Format(time.RFC3339Nano)
	case 2:
		return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ", r.Intn(10000), r.Intn(14), r.Intn(33), r.Intn(26), r.Intn(62), r.Intn(62),
			[]string{"", ".", ".1", ".123", ".123456789", ".1234567890", ".12345678901", ".x"}[r.Intn(8)])
	case 3:
		return "2026-02-30T10:00:00Z"
	}
	return string(appendInferenceTime(nil, time.Unix(r.Int63n(4e9), r.Int63n(1e9))))
}

// randLine writes a capture line, mostly as the writer does, sometimes
// with another key order, whitespace, odd values or extra keys.
func randLine(r *rand.Rand) []byte {
	// Half the lines are well-formed variations, half also get odd values,
	// keys and bytes.
	chaos := r.Intn(2) == 0
	odd := func(n int) bool { return chaos && r.Intn(n) == 0 }
	str := func(s string) string {
		if r.Intn(4) == 0 {
			// Hand-made escapes encoding/json would not write.
			var b strings.Builder
			b.WriteByte('"')
			for _, c := range []byte(s) {
				switch {
				case c == '"':
					b.WriteString(`\"`)
				case c == '\\':
					b.WriteString(`\\`)
				case c == '/' && r.Intn(2) == 0:
					b.WriteString(`\/`)
				case c < 0x20 || r.Intn(20) == 0:
					fmt.Fprintf(&b, `\u%04X`, c)
				default:
					b.WriteByte(c)
				}
			}
			if odd(10) {
				b.WriteString([]string{`\ud83d\ude00`, `\ud800`, `\x`, `\u12`, `\`}[r.Intn(5)])
			}
			b.WriteByte('"')
			return b.String()
		}
		return string(appendString(nil, s))
	}
	value := func(s string) string {
		if !chaos {
			return str(s)
		}
		switch r.Intn(40) {
		case 0:
			return "null"
		case 1:
			return "12"
		case 2:
			return "{}"
		case 3:
			return "[" + str(s) + "]"
		case 4:
			return "true"
		}
		return str(s)
	}
	sp := func() string {
		if r.Intn(8) == 0 {
			return []string{" ", "\t", "  ", "\r\n"}[r.Intn(4)]
		}
		return ""
	}
	key := func(k string) string {
		if !chaos {
			return sp() + `"` + k + `"` + sp() + ":" + sp()
		}
		switch r.Intn(60) {
		case 0:
			k = strings.ToUpper(k)
		case 1:
			k = strings.ToLower(k)
		case 2:
			k += "x"
		}
		return sp() + `"` + k + `"` + sp() + ":" + sp()
	}
	object := func(members []string) string {
		if r.Intn(5) == 0 {
			r.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		}
		if odd(30) && len(members) > 0 {
			members = append(members, members[r.Intn(len(members))]) // duplicate key
		}
		if odd(30) {
			members = append(members, key("extra")+value(randString(r)))
		}
		return sp() + "{" + strings.Join(members, ","+sp()) + sp() + "}" + sp()
	}
	half := func(name, mode string) string {
		data := randString(r)
		enc := []string{EncodingCSV, EncodingJSON, EncodingBase64, "base64", "baſe64", "CSV "}[r.Intn(6)]
		if strings.EqualFold(enc, EncodingBase64) && r.Intn(4) != 0 {
			data = encodeBase64([]byte(data))
		}
		ms := []string{key("observedContentType") + value(randString(r)), key("mode") + value(mode), key("data") + value(data), key("encoding") + value(enc)}
		if odd(15) {
			ms = ms[:r.Intn(len(ms))]
		}
		return key(name) + object(ms)
	}
	var cd []string
	if r.Intn(8) != 0 {
		cd = append(cd, half("endpointInput", "INPUT"))
	}
	if r.Intn(8) != 0 {
		cd = append(cd, half("endpointOutput", "OUTPUT"))
	}
	md := []string{key("eventId") + value(randString(r))}
	if r.Intn(2) == 0 {
		md = append(md, key("inferenceId")+value(randString(r)))
	}
	md = append(md, key("inferenceTime")+value(randTime(r)))
	top := []string{key("captureData") + object(cd), key("eventMetadata") + object(md), key("eventVersion") + value("0")}
	line := []byte(object(top))
	if !chaos {
		return line
	}
	switch r.Intn(12) {
	case 0:
		line = line[:r.Intn(len(line)+1)]
	case 1:
		line[r.Intn(len(line))] = byte(r.Intn(256))
	case 2:
		line = append(line, []string{"x", "}", " {}", "\n", ","}[r.Intn(5)]...)
	case 3:
		i := r.Intn(len(line) + 1)
		line = append(line[:i:i], append([]byte{byte(r.Intn(256))}, line[i:]...)...)
	}
	return line
}

func encodeBase64(b []byte) string {
	line := AppendLine(nil, &Record{InputContentType: "application/octet-stream", Input: b})
	var e Event
	if err := slowParse(bytes.TrimSpace(line), &e, true); err != nil {
		panic(err)
	}
	i := bytes.Index(line, []byte(`"data":"`)) + len(`"data":"`)
	j := bytes.IndexByte(line[i:], '"')
	return string(line[i : i+j])
}

// TestFastParserMatchesGeneralDecoder is the property test: on writer
// output and on random and adversarial variations of it, the fast capture
// line parser gives exactly what encoding/json gives, or steps aside.
func TestFastParserMatchesGeneralDecoder(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	fast, n := 0, 20000
	for i := 0; i < n; i++ {
		if checkAgainstGeneral(t, randLine(r)) {
			fast++
		}
	}
	// Writer output must stay on the fast path (ids and content types come
	// from HTTP headers and are valid UTF-8; payloads may be anything).
	text := func() string { return strings.ToValidUTF8(randString(r), "?") }
	for i := 0; i < 2000; i++ {
		rec := &Record{EventID: text(), Time: time.Unix(r.Int63n(4e9), r.Int63n(1e9)),
			InputContentType: text(), Input: []byte(randString(r)), OutputContentType: "text/csv", Output: []byte(randString(r))}
		if r.Intn(2) == 0 {
			rec.InferenceID = text()
		}
		line := AppendLine(nil, rec)
		if !checkAgainstGeneral(t, line) {
			t.Fatalf("writer output left the fast path: %q", line)
		}
		var e Event
		if p := (lineParser{b: bytes.TrimSpace(line)}); !p.exact(&e) {
			t.Fatalf("writer output left the exact-layout path: %q", line)
		}
	}
	if fast < n/10 || fast == n {
		t.Fatalf("fast path took %d of %d random lines: the generator does not exercise both paths", fast, n)
	}
	t.Logf("fast path took %d of %d random lines", fast, n)
}

// TestFastParserSageMakerLines checks lines in the layout SageMaker itself
// writes (key order, inferenceTime before inferenceId, JSON payloads with
// escapes) stay on the fast path with the general decoder's result.
func TestFastParserSageMakerLines(t *testing.T) {
	for _, line := range []string{
		`{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"1,2,3","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"0.5","encoding":"CSV"}},"eventMetadata":{"eventId":"3f5c0d63-7c2b-4d77-9a0b-6d1c2b0e9f11","inferenceTime":"2022-10-24T20:34:12Z"},"eventVersion":"0"}`,
		`{"captureData":{"endpointInput":{"observedContentType":"application/json","mode":"INPUT","data":"{\"instances\": [[1.0, 2.0]]}","encoding":"JSON"},"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"{\"predictions\": [0.25]}","encoding":"JSON"}},"eventMetadata":{"eventId":"e1","inferenceId":"i-7","inferenceTime":"2022-10-24T20:34:12.123Z"},"eventVersion":"0"}`,
		`{"captureData":{"endpointInput":{"observedContentType":"application/x-npy","mode":"INPUT","data":"k05VTVBZAQB2AHsn","encoding":"BASE64"}},"eventMetadata":{"eventId":"e2","inferenceTime":"2022-10-24T20:34:12Z"},"eventVersion":"0"}`,
		`{"captureData": {"endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "1", "encoding": "CSV"}}, "eventMetadata": {"inferenceTime": "2022-10-24T20:34:12Z", "eventId": "e3"}, "eventVersion": "0"}`,
	} {
		if !checkAgainstGeneral(t, []byte(line)) {
			t.Errorf("left the fast path: %s", line)
		}
	}
}

// FuzzParseLine: go test -run '^$' -fuzz FuzzParseLine ./internal/capture/
func FuzzParseLine(f *testing.F) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		f.Add(randLine(r))
	}
	f.Fuzz(func(t *testing.T, line []byte) { checkAgainstGeneral(t, line) })
}

// TestExactGroundTruthMatchesGeneralDecoder: the exact-layout ground-truth
// parser gives what encoding/json gives on writer output and variations.
func TestExactGroundTruthMatchesGeneralDecoder(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	taken := 0
	for i := 0; i < 5000; i++ {
		g := GroundTruth{EventID: strings.ToValidUTF8(randString(r), "?"), Data: []byte(randString(r)), Encoding: []string{"", "CSV", "JSON"}[r.Intn(3)]}
		line := AppendGroundTruthLine(nil, &g)
		if r.Intn(2) == 0 {
			line[r.Intn(len(line))] = byte(r.Intn(256))
		}
		line = bytes.TrimSpace(line)
		var w struct {
			GroundTruthData struct {
				Data     string `json:"data"`
				Encoding string `json:"encoding"`
			} `json:"groundTruthData"`
			EventMetadata struct {
				EventID string `json:"eventId"`
			} `json:"eventMetadata"`
		}
		jerr := json.Unmarshal(line, &w)
		var got GroundTruth
		if !exactGroundTruth(line, &got) {
			continue
		}
		taken++
		if jerr != nil {
			t.Fatalf("exact parser took a line encoding/json refuses (%v): %q", jerr, line)
		}
		if got.EventID != w.EventMetadata.EventID || string(got.Data) != w.GroundTruthData.Data || got.Encoding != w.GroundTruthData.Encoding {
			t.Fatalf("exact parser differs: %q %q %q vs %+v\nline %q", got.EventID, got.Data, got.Encoding, w, line)
		}
	}
	if taken < 1000 {
		t.Fatalf("exact parser took only %d lines", taken)
	}
}
