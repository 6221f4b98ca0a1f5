package capture

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestLineRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891000000, time.UTC)
	cases := []struct {
		name    string
		rec     Record
		inEnc   string
		outEnc  string
		inData  string
		outData string
	}{
		{"csv", Record{EventID: "e1", InferenceID: "i1", Time: at, InputContentType: "text/csv", Input: []byte("1,2.5,abc"), OutputContentType: "text/csv; charset=utf-8", Output: []byte("0.93\n")},
			"CSV", "CSV", "1,2.5,abc", "0.93\n"},
		{"json with escapes", Record{EventID: "e2", Time: at, InputContentType: "application/json", Input: []byte(`{"instances": [["a\"b", "<tag>"]]}`), OutputContentType: "application/json", Output: []byte(`{"predictions": [1]}`)},
			"JSON", "JSON", `{"instances": [["a\"b", "<tag>"]]}`, `{"predictions": [1]}`},
		{"binary", Record{EventID: "e3", Time: at, InputContentType: "application/octet-stream", Input: []byte{0, 1, 2, 0xff}, OutputContentType: "text/plain", Output: []byte("ok")},
			"BASE64", "BASE64", "\x00\x01\x02\xff", "ok"},
		{"invalid utf-8 csv", Record{EventID: "e4", Time: at, InputContentType: "text/csv", Input: []byte{'a', 0xc3}, Output: nil},
			"BASE64", "", "a\xc3", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := AppendLine(nil, &tc.rec)
			// The line is valid JSON in SageMaker's shape.
			var wire wireLine
			if err := json.Unmarshal(line, &wire); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, line)
			}
			if wire.EventVersion != "0" || wire.EventMetadata.InferenceTime != "2026-03-04T05:06:07.891Z" || wire.CaptureData.EndpointInput.Mode != "INPUT" {
				t.Errorf("wire %+v", wire)
			}
			var ev Event
			if err := ParseLine(line, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Input.Encoding != tc.inEnc || string(ev.Input.Data) != tc.inData {
				t.Errorf("input %s %q, want %s %q", ev.Input.Encoding, ev.Input.Data, tc.inEnc, tc.inData)
			}
			if tc.outEnc == "" {
				if ev.Output != nil {
					t.Errorf("output %+v, want none", ev.Output)
				}
			} else if ev.Output.Encoding != tc.outEnc || string(ev.Output.Data) != tc.outData {
				t.Errorf("output %s %q, want %s %q", ev.Output.Encoding, ev.Output.Data, tc.outEnc, tc.outData)
			}
			if ev.EventID != tc.rec.EventID || ev.InferenceID != tc.rec.InferenceID || !ev.InferenceTime.Equal(at) {
				t.Errorf("metadata %+v", ev)
			}
		})
	}
}

func TestParseLineShapes(t *testing.T) {
	cases := []struct {
		name  string
		line  string
		ok    bool
		input string
		id    string
	}{
		{"sagemaker sample", `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"132,25,113.2","encoding":"CSV"},"endpointOutput":{"observedContentType":"text/csv; charset=utf-8","mode":"OUTPUT","data":"0.01076381653547287","encoding":"CSV"}},"eventMetadata":{"eventId":"feca1ab1-8025-47e3-8f6a-99e3fdd7b8d9","inferenceTime":"2019-11-20T23:33:12Z"},"eventVersion":"0"}`, true, "132,25,113.2", "feca1ab1-8025-47e3-8f6a-99e3fdd7b8d9"},
		{"keys reordered and extra fields", `{"eventVersion":"0","extra":[1,{"x":null}],"eventMetadata":{"inferenceId":"abc","eventId":"e"},"captureData":{"endpointInput":{"data":"1,2","encoding":"CSV","mode":"INPUT","observedContentType":"text/csv"}}}`, true, "1,2", "abc"},
		{"base64", `{"captureData":{"endpointInput":{"observedContentType":"application/x-npy","mode":"INPUT","data":"aGVsbG8=","encoding":"BASE64"}},"eventMetadata":{"eventId":"e"},"eventVersion":"0"}`, true, "hello", "e"},
		{"escaped unicode", `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"caf\u00e9,1","encoding":"CSV"}},"eventMetadata":{"eventId":"e"},"eventVersion":"0"}`, true, "café,1", "e"},
		{"not json", `hello`, false, "", ""},
		{"truncated", `{"captureData":{"endpointInput":{"data":"1,2"`, false, "", ""},
		{"no capture data", `{"eventMetadata":{"eventId":"e"}}`, false, "", ""},
		{"bad base64", `{"captureData":{"endpointInput":{"data":"!!!","encoding":"BASE64"}},"eventMetadata":{"eventId":"e"}}`, false, "", ""},
		{"empty", ``, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ev Event
			err := ParseLine([]byte(tc.line), &ev)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			if string(ev.Input.Data) != tc.input || ev.ID() != tc.id {
				t.Errorf("input %q id %q, want %q %q", ev.Input.Data, ev.ID(), tc.input, tc.id)
			}
		})
	}
}

func TestGroundTruthRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		line string
		ok   bool
		id   string
		data string
	}{
		{"written", string(AppendGroundTruthLine(nil, &GroundTruth{EventID: "id-1", Data: []byte("1")})), true, "id-1", "1"},
		{"seed form", `{"groundTruthData": {"data": "0", "encoding": "CSV"}, "eventMetadata": {"eventId": "aaaa"}, "eventVersion": "0"}`, true, "aaaa", "0"},
		{"json data", `{"groundTruthData": {"data": {"label": 1}, "encoding": "JSON"}, "eventMetadata": {"eventId": "b"}, "eventVersion": "0"}`, true, "b", `{"label": 1}`},
		{"no id", `{"groundTruthData": {"data": "0", "encoding": "CSV"}}`, false, "", ""},
		{"garbage", `{"groundTruthData": `, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g GroundTruth
			err := ParseGroundTruthLine([]byte(tc.line), &g)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && (g.EventID != tc.id || string(g.Data) != tc.data) {
				t.Errorf("got %q %q, want %q %q", g.EventID, g.Data, tc.id, tc.data)
			}
		})
	}
}

func TestSpecsAndWant(t *testing.T) {
	def := DefaultEndpointConfig()
	over, err := ParseOverrides(def, []string{"brdg-a-Production=0", "brdg-b-Staging=input", "brdg-c-Latest=off", "brdg-d-Latest=50,output"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWriter(WriterConfig{Root: t.TempDir(), Default: def, Endpoints: over})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		endpoint string
		in, out  bool
	}{
		{"brdg-other-Production", true, true},
		{"brdg-a-Production", false, false},
		{"brdg-b-Staging", true, false},
		{"brdg-c-Latest", false, false},
	}
	for _, tc := range cases {
		in, out := w.Want(tc.endpoint)
		if in != tc.in || out != tc.out {
			t.Errorf("Want(%s) = %v,%v, want %v,%v", tc.endpoint, in, out, tc.in, tc.out)
		}
	}
	// 50% sampling of outputs only: about half, never input.
	n := 0
	for i := 0; i < 20000; i++ {
		in, out := w.Want("brdg-d-Latest")
		if in {
			t.Fatal("input captured for an output-only endpoint")
		}
		if out {
			n++
		}
	}
	if n < 9000 || n > 11000 {
		t.Errorf("50%% sampling captured %d of 20000", n)
	}
	for _, bad := range []string{"noequals", "=5", "x=150", "x=sometimes"} {
		if _, err := ParseOverrides(def, []string{bad}); err == nil {
			t.Errorf("override %q accepted", bad)
		}
	}
}

// readAll returns every line under root, by file.
func readAll(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, p)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			out[filepath.ToSlash(rel)] = append(out[filepath.ToSlash(rel)], sc.Text())
		}
		return nil
	})
	return out
}

func TestWriterLayoutAndRotation(t *testing.T) {
	root := t.TempDir()
	reg := prometheus.NewRegistry()
	w, err := NewWriter(WriterConfig{Root: root, Default: DefaultEndpointConfig(), MaxFileBytes: 2000, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	h1 := time.Date(2026, 1, 2, 3, 59, 59, 0, time.UTC)
	h2 := h1.Add(2 * time.Second)
	for i := 0; i < 30; i++ {
		at := h1
		if i >= 20 {
			at = h2
		}
		w.Capture(Record{Endpoint: "brdg-m-Production", Variant: "v3", InferenceID: fmt.Sprint("id-", i), Time: at,
			InputContentType: "text/csv", Input: []byte("1,2,3,4,5,6,7,8,9,10"), OutputContentType: "text/csv", Output: []byte("0.5")})
	}
	w.Capture(Record{Endpoint: "../evil", Time: h1, InputContentType: "text/csv", Input: []byte("1")})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := readAll(t, root)
	var names []string
	perHour := map[string]int{}
	for name, lines := range files {
		names = append(names, name)
		dir := filepath.Dir(name)
		perHour[dir] += len(lines)
		base := filepath.Base(name)
		var mm, ss, ms int
		var id string
		if n, _ := fmt.Sscanf(strings.ReplaceAll(strings.TrimSuffix(base, ".jsonl"), "-", " "), "%d %d %d %s", &mm, &ss, &ms, &id); n != 4 {
			t.Errorf("file name %s is not <mm>-<ss>-<mmm>-<id>.jsonl", base)
		}
		for _, l := range lines {
			var ev Event
			if err := ParseLine([]byte(l), &ev); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	sort.Strings(names)
	if perHour["brdg-m-Production/v3/2026/01/02/03"] != 20 || perHour["brdg-m-Production/v3/2026/01/02/04"] != 10 {
		t.Errorf("records per hour directory %v", perHour)
	}
	if perHour[".._evil/AllTraffic/2026/01/02/03"] != 1 {
		t.Errorf("unsafe endpoint name not contained: %v", names)
	}
	// 2000-byte files hold a handful of ~250-byte lines: hour 3 rotated.
	n3 := 0
	for _, name := range names {
		if strings.HasPrefix(name, "brdg-m-Production/v3/2026/01/02/03/") {
			n3++
		}
	}
	if n3 < 2 {
		t.Errorf("size rotation produced %d files in hour 3: %v", n3, names)
	}
	if got := value(w.captured.WithLabelValues("brdg-m-Production")); got != 30 {
		t.Errorf("bridge_capture_records_total = %g, want 30", got)
	}
}

func TestInferenceTimeFormat(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	cases := []struct {
		name string
		at   time.Time
	}{
		{"epoch", time.Unix(0, 0)},
		{"milliseconds truncated", time.Date(2026, 5, 1, 10, 27, 13, 402999999, time.UTC)},
		{"end of a year", time.Date(9999, 12, 31, 23, 59, 59, 999000000, time.UTC)},
		{"year zero", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"single digits", time.Date(2001, 2, 3, 4, 5, 6, 7000000, time.UTC)},
		{"other zone, day before in UTC", time.Date(2026, 3, 1, 0, 30, 0, 5000000, paris)},
		{"negative year", time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"five-digit year", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"monotonic reading", time.Now()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.at.UTC().AppendFormat([]byte("x"), inferenceTimeLayout)
			if got := appendInferenceTime([]byte("x"), tc.at); string(got) != string(want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestJSONStringEscaping(t *testing.T) {
	var all []byte
	for c := 0; c < 0x80; c++ {
		all = append(all, byte(c))
	}
	cases := []struct {
		name string
		in   string
	}{
		{"every ASCII byte", string(all)},
		{"multibyte", "café, 日本, 😀"},
		{"html", `<a href="x">&amp;</a>`},
		{"empty", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := appendStringBytes(nil, []byte(tc.in))
			var back string
			if err := json.Unmarshal(out, &back); err != nil || back != tc.in {
				t.Fatalf("%s decodes to %q (%v), want %q", out, back, err, tc.in)
			}
			for _, c := range out[1 : len(out)-1] {
				if c < 0x20 || c == '<' || c == '>' || c == '&' {
					t.Errorf("%s holds %q unescaped", out, c)
				}
			}
		})
	}
}

// uuidShape is a version-4 UUID in lowercase hex.
var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestWriterAssignsUniqueEventIDs(t *testing.T) {
	// Two writers in one process, filled concurrently, over several
	// batches of ids; records that carry an id keep it.
	const perWriter = 3*eventIDBatch + 5
	roots := []string{t.TempDir(), t.TempDir()}
	done := make(chan error, len(roots))
	for _, root := range roots {
		go func() {
			w, err := NewWriter(WriterConfig{Root: root, Default: DefaultEndpointConfig(), QueueSize: 2 * perWriter})
			if err != nil {
				done <- err
				return
			}
			for i := range perWriter {
				w.Capture(Record{Endpoint: "e", InferenceID: fmt.Sprint(i), Time: time.Now(), InputContentType: "text/csv", Input: []byte("1,2")})
			}
			w.Capture(Record{Endpoint: "e", EventID: "client-chosen", InferenceID: "kept", Time: time.Now(), InputContentType: "text/csv", Input: []byte("1,2")})
			done <- w.Close(context.Background())
		}()
	}
	for range roots {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, root := range roots {
		n := 0
		for name, lines := range readAll(t, root) {
			for _, l := range lines {
				var ev Event
				if err := ParseLine([]byte(l), &ev); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				n++
				if ev.InferenceID == "kept" {
					if ev.EventID != "client-chosen" {
						t.Errorf("record with an event id written with %q", ev.EventID)
					}
					continue
				}
				if !uuidShape.MatchString(ev.EventID) {
					t.Errorf("event id %q is not UUID-shaped", ev.EventID)
				}
				if seen[ev.EventID] {
					t.Errorf("event id %s assigned twice", ev.EventID)
				}
				seen[ev.EventID] = true
			}
		}
		if n != perWriter+1 {
			t.Errorf("%s: %d records, want %d", root, n, perWriter+1)
		}
	}
}

func TestWriterFlushesWithinASecond(t *testing.T) {
	root := t.TempDir()
	w, err := NewWriter(WriterConfig{Root: root, Default: DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	start := time.Now()
	w.Capture(Record{Endpoint: "e", EventID: "x", Time: time.Now(), InputContentType: "text/csv", Input: []byte("1,2")})
	// The flush interval is 1 s; allow half a second of scheduling delay
	// on a loaded machine.
	deadline := start.Add(5 * time.Second)
	for {
		if files := readAll(t, root); len(files) == 1 {
			for _, lines := range files {
				if len(lines) == 1 {
					if d := time.Since(start); d > 1500*time.Millisecond {
						t.Errorf("record reached the file after %v, want within the 1 s flush interval", d)
					}
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("captured record not on disk 5 s after Capture (flush interval is 1 s)")
		}
		time.Sleep(20 * time.Millisecond) // polling the file system, not waiting for a state
	}
}

func TestBurstBeyondQueueIsCountedNotBlocking(t *testing.T) {
	root := t.TempDir()
	reg := prometheus.NewRegistry()
	w, err := newWriter(WriterConfig{Root: root, Default: DefaultEndpointConfig(), QueueSize: 100, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	// The writer goroutine is not running yet: nothing drains the queue.
	const burst = 100000
	start := time.Now()
	for i := 0; i < burst; i++ {
		w.Capture(Record{Endpoint: "brdg-m-Production", Time: time.Now(), InputContentType: "text/csv", Input: []byte("1")})
	}
	perCall := time.Since(start) / burst
	if perCall > 20*time.Microsecond {
		t.Errorf("Capture took %v per call with a full queue", perCall)
	}
	if got := value(w.dropped.WithLabelValues("brdg-m-Production")); got != burst-100 {
		t.Errorf("bridge_capture_dropped_total = %g, want %d", got, burst-100)
	}
	go w.run()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, lines := range readAll(t, root) {
		n += len(lines)
	}
	if n != 100 {
		t.Errorf("%d records written, want the 100 queued", n)
	}
	// After Close, Capture neither blocks nor panics; it counts a drop.
	w.Capture(Record{Endpoint: "brdg-m-Production", Input: []byte("1")})
	if got := value(w.dropped.WithLabelValues("brdg-m-Production")); got != burst-100+1 {
		t.Errorf("drop after close not counted: %g", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "bridge_capture_dropped_total" {
			found = true
		}
	}
	if !found {
		t.Error("bridge_capture_dropped_total not registered")
	}
}

func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestParseTimeBytes(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-04T05:06:07.891Z", time.Date(2026, 3, 4, 5, 6, 7, 891000000, time.UTC)},
		{"2026-03-04T05:06:07Z", time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)},
		{"2026-03-04T05:06:07.123456789Z", time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)},
		{"2026-03-04T05:06:07+02:00", time.Date(2026, 3, 4, 3, 6, 7, 0, time.UTC)},
		{"2026-13-04T05:06:07Z", time.Time{}},
		{"yesterday", time.Time{}},
	}
	for _, tc := range cases {
		if got := parseTimeBytes([]byte(tc.in)); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.in, got, tc.want)
		}
	}
}

// BenchmarkCapture measures capture's two costs per record: Capture on the
// request path (Want plus a channel send) and the writer goroutine's work
// (formatting the line and buffering it into the hour's file).
//
//	go test -run '^$' -bench Capture ./internal/capture/
func BenchmarkCapture(b *testing.B) {
	rec := Record{Endpoint: "brdg-churn-Production", Variant: "v3", EventID: "5f7e8a6b-1c2d-4e3f-8a9b-0c1d2e3f4a5b", InferenceID: "req-42",
		Time: time.Now(), InputContentType: "text/csv", Input: []byte("45,51234.5,gold,0.25,17"), OutputContentType: "text/csv", Output: []byte("0.8342\n")}
	b.Run("request-path", func(b *testing.B) {
		w, err := newWriter(WriterConfig{Root: b.TempDir(), Default: DefaultEndpointConfig(), QueueSize: 1 << 16})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := benchCPU(b)
		for i := 0; i < b.N; i++ {
			if in, _ := w.Want(rec.Endpoint); in {
				w.Capture(rec)
			}
			if len(w.queue) == cap(w.queue) {
				b.StopTimer()
				for len(w.queue) > 0 {
					<-w.queue
				}
				b.StartTimer()
			}
		}
		b.ReportMetric(float64((benchCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	b.Run("writer", func(b *testing.B) {
		w, err := newWriter(WriterConfig{Root: b.TempDir(), Default: DefaultEndpointConfig()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := benchCPU(b)
		for b.Loop() {
			r := rec
			r.EventID = "" // the writer assigns it, as for the router's records
			w.write(&r)
		}
		w.closeAll()
		// CPU time per record, the final write and fsync included:
		// steadier than ns/op on a shared machine.
		b.ReportMetric(float64((benchCPU(b)-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
}

// benchCPU returns the CPU time (user and system) the process has used.
func benchCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openFiles lists the files this process has open under root.
func openFiles(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	var out []string
	for _, e := range ents {
		if p, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(p, root) {
			out = append(out, p)
		}
	}
	return out
}

func TestWriterClosesFilesOfPastHours(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(WriterConfig{Root: root, Default: DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	now := time.Now()
	w.Capture(Record{Endpoint: "e", Time: now.Add(-2 * time.Hour), InputContentType: "text/csv", Input: []byte("past")})
	w.Capture(Record{Endpoint: "e", Time: now, InputContentType: "text/csv", Input: []byte("now")})
	// After the next flush tick the past hour's file is complete and
	// closed; the current hour's stays open.
	deadline := time.Now().Add(5 * time.Second)
	for {
		open := openFiles(t, root)
		files := readAll(t, root)
		past := filepath.Join(root, "e", DefaultVariant, now.Add(-2*time.Hour).UTC().Format("2006/01/02/15"))
		pastOpen := false
		for _, p := range open {
			if strings.HasPrefix(p, past) {
				pastOpen = true
			}
		}
		lines := 0
		for _, l := range files {
			lines += len(l)
		}
		if !pastOpen && len(open) <= 1 && lines == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("open files %v, %d lines on disk: want only the current hour's file open and both lines written", open, lines)
		}
		time.Sleep(20 * time.Millisecond) // polling the file system
	}
}
