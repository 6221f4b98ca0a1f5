package capture

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Encodings of captured payloads, as SageMaker writes them.
const (
	EncodingCSV    = "CSV"
	EncodingJSON   = "JSON"
	EncodingBase64 = "BASE64"
)

// EventVersion is the capture format's eventVersion.
const EventVersion = "0"

// EncodingFor picks the encoding SageMaker uses for a content type: CSV for
// text/csv, JSON for JSON types, BASE64 for anything else (or for text that
// is not valid UTF-8).
func EncodingFor(contentType string, data []byte) string {
	// Fast path for the common types, without parsing parameters.
	base := contentType
	if i := strings.IndexByte(base, ';'); i >= 0 {
		base = base[:i]
	}
	base = strings.TrimSpace(base)
	switch {
	case strings.EqualFold(base, "text/csv"):
		if utf8.Valid(data) {
			return EncodingCSV
		}
		return EncodingBase64
	case strings.EqualFold(base, "application/json"):
		if utf8.Valid(data) {
			return EncodingJSON
		}
		return EncodingBase64
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case !utf8.Valid(data):
		return EncodingBase64
	case mt == "text/csv" || mt == "application/csv":
		return EncodingCSV
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/jsonlines" || mt == "application/x-ndjson":
		return EncodingJSON
	}
	return EncodingBase64
}

// AppendLine appends r as one line of SageMaker's capture format (JSON
// object plus '\n') to dst. Halves with a nil payload are left out (capture
// of input or output only).
func AppendLine(dst []byte, r *Record) []byte {
	dst = append(dst, `{"captureData":{`...)
	first := true
	half := func(key, mode, ct string, data []byte) {
		if data == nil {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		enc := EncodingFor(ct, data)
		dst = append(dst, '"')
		dst = append(dst, key...)
		dst = append(dst, `":{"observedContentType":`...)
		dst = appendString(dst, ct)
		dst = append(dst, `,"mode":"`...)
		dst = append(dst, mode...)
		dst = append(dst, `","data":`...)
		if enc == EncodingBase64 {
			dst = append(dst, '"')
			n := base64.StdEncoding.EncodedLen(len(data))
			dst = append(dst, make([]byte, n)...)
			base64.StdEncoding.Encode(dst[len(dst)-n:], data)
			dst = append(dst, '"')
		} else {
			dst = appendStringBytes(dst, data)
		}
		dst = append(dst, `,"encoding":"`...)
		dst = append(dst, enc...)
		dst = append(dst, `"}`...)
	}
	half("endpointInput", "INPUT", r.InputContentType, r.Input)
	half("endpointOutput", "OUTPUT", r.OutputContentType, r.Output)
	dst = append(dst, `},"eventMetadata":{"eventId":`...)
	dst = appendString(dst, r.EventID)
	if r.InferenceID != "" {
		dst = append(dst, `,"inferenceId":`...)
		dst = appendString(dst, r.InferenceID)
	}
	dst = append(dst, `,"inferenceTime":"`...)
	dst = appendInferenceTime(dst, r.Time)
	dst = append(dst, `"},"eventVersion":"0"}`...)
	return append(dst, '\n')
}

const hexDigits = "0123456789abcdef"

// inferenceTimeLayout is the layout of eventMetadata.inferenceTime.
const inferenceTimeLayout = "2006-01-02T15:04:05.000Z"

// appendInferenceTime appends t in UTC in inferenceTimeLayout, as
// t.UTC().AppendFormat would, without interpreting the layout for every
// record (it showed in the capture writer's profile).
func appendInferenceTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, inferenceTimeLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	two := func(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }
	dst = two(dst, year/100)
	dst = two(dst, year%100)
	dst = two(append(dst, '-'), int(month))
	dst = two(append(dst, '-'), day)
	dst = two(append(dst, 'T'), hour)
	dst = two(append(dst, ':'), minute)
	dst = two(append(dst, ':'), sec)
	return append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// jsonPlain marks the bytes appendStringBytes copies unescaped.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

func appendString(dst []byte, s string) []byte {
	return appendStringBytes(dst, []byte(s))
}

// appendStringBytes appends b as a JSON string (b is valid UTF-8).
func appendStringBytes(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if jsonPlain[c] {
			continue
		}
		dst = append(dst, b[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, b[start:]...)
	return append(dst, '"')
}

// Payload is one half of a captured invocation as read back.
type Payload struct {
	ContentType string
	Mode        string
	Encoding    string
	Data        []byte // decoded: BASE64 payloads are decoded
}

// Event is one captured invocation as read back from a capture file.
// ParseLine reuses an Event's storage: Input and Output point into it, so
// copy the payloads, not the Event, to keep them.
type Event struct {
	Input, Output *Payload
	EventID       string
	InferenceID   string
	InferenceTime time.Time // zero when absent or unparseable

	in, out Payload
	// The ids' bytes, aliasing the line (or the strings) until the next
	// parse; ParseLineIDBytes leaves the strings empty and sets only these.
	eventID, inferenceID []byte
	// scratch holds unescaped strings and decoded payloads of the last
	// fast parse.
	scratch []byte
}

// EventIDBytes is the event id as bytes, valid until e is parsed again.
func (e *Event) EventIDBytes() []byte { return e.eventID }

// InferenceIDBytes is the inference id as bytes, valid until e is parsed
// again.
func (e *Event) InferenceIDBytes() []byte { return e.inferenceID }

// IDBytes is ID as bytes, valid until e is parsed again.
func (e *Event) IDBytes() []byte {
	if len(e.inferenceID) > 0 {
		return e.inferenceID
	}
	return e.eventID
}

// ID is the key ground truth is matched on: the inference id when the
// client sent one, else the event id.
func (e *Event) ID() string {
	if e.InferenceID != "" {
		return e.InferenceID
	}
	return e.EventID
}

// ErrMalformed marks a line that is not a capture record.
var ErrMalformed = errors.New("malformed capture line")

type wireLine struct {
	CaptureData struct {
		EndpointInput  *wirePayload `json:"endpointInput"`
		EndpointOutput *wirePayload `json:"endpointOutput"`
	} `json:"captureData"`
	EventMetadata struct {
		EventID       string `json:"eventId"`
		InferenceID   string `json:"inferenceId"`
		InferenceTime string `json:"inferenceTime"`
	} `json:"eventMetadata"`
	EventVersion string `json:"eventVersion"`
}

type wirePayload struct {
	ObservedContentType string `json:"observedContentType"`
	Mode                string `json:"mode"`
	Data                string `json:"data"`
	Encoding            string `json:"encoding"`
}

// ParseLine parses one capture line (SageMaker's format) into e; e's
// payload data may alias line, so use it before reusing line. It uses a
// fast scanner for the common shape and falls back to encoding/json; any
// line that is not a JSON object with captureData yields ErrMalformed.
func ParseLine(line []byte, e *Event) error {
	return parseLine(line, e, true)
}

// ParseLineIDBytes is ParseLine without copying the ids into strings: the
// EventID and InferenceID fields stay empty and EventIDBytes,
// InferenceIDBytes and IDBytes give them, aliasing line. For readers that
// only look the ids up.
func ParseLineIDBytes(line []byte, e *Event) error {
	return parseLine(line, e, false)
}

func parseLine(line []byte, e *Event, idStrings bool) error {
	e.Input, e.Output, e.EventID, e.InferenceID, e.InferenceTime = nil, nil, "", "", time.Time{}
	e.eventID, e.inferenceID = nil, nil
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return ErrMalformed
	}
	if fastLine(line, e) {
		if idStrings {
			e.EventID, e.InferenceID = string(e.eventID), string(e.inferenceID)
		}
		return nil
	}
	return slowParse(line, e, idStrings)
}

// slowParse is parseLine with encoding/json, for lines the fast parser
// does not take.
func slowParse(line []byte, e *Event, idStrings bool) error {
	e.Input, e.Output, e.EventID, e.InferenceID, e.InferenceTime = nil, nil, "", "", time.Time{}
	e.eventID, e.inferenceID = nil, nil
	var w wireLine
	if err := json.Unmarshal(line, &w); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if w.CaptureData.EndpointInput == nil && w.CaptureData.EndpointOutput == nil {
		return fmt.Errorf("%w: no captureData", ErrMalformed)
	}
	conv := func(p *wirePayload) (*Payload, error) {
		if p == nil {
			return nil, nil
		}
		out := &Payload{ContentType: p.ObservedContentType, Mode: p.Mode, Encoding: p.Encoding, Data: []byte(p.Data)}
		if strings.EqualFold(p.Encoding, EncodingBase64) {
			d, err := base64.StdEncoding.DecodeString(p.Data)
			if err != nil {
				return nil, fmt.Errorf("%w: base64 data: %v", ErrMalformed, err)
			}
			out.Data = d
		}
		return out, nil
	}
	var err error
	if e.Input, err = conv(w.CaptureData.EndpointInput); err != nil {
		return err
	}
	if e.Output, err = conv(w.CaptureData.EndpointOutput); err != nil {
		return err
	}
	e.eventID, e.inferenceID = []byte(w.EventMetadata.EventID), []byte(w.EventMetadata.InferenceID)
	if idStrings {
		e.EventID, e.InferenceID = w.EventMetadata.EventID, w.EventMetadata.InferenceID
	}
	e.InferenceTime = parseTime(w.EventMetadata.InferenceTime)
	return nil
}

// intern returns common short values without allocating.
func intern(v []byte) string {
	switch string(v) {
	case "INPUT":
		return "INPUT"
	case "OUTPUT":
		return "OUTPUT"
	case EncodingCSV:
		return EncodingCSV
	case EncodingJSON:
		return EncodingJSON
	case EncodingBase64:
		return EncodingBase64
	case "text/csv":
		return "text/csv"
	case "text/csv; charset=utf-8":
		return "text/csv; charset=utf-8"
	case "application/json":
		return "application/json"
	}
	return string(v)
}

// parseTimeBytes parses the capture format's UTC times
// (2006-01-02T15:04:05[.fff...]Z) without allocating, else falls back to
// RFC 3339.
func parseTimeBytes(b []byte) time.Time {
	if len(b) >= 20 && b[4] == '-' && b[7] == '-' && b[10] == 'T' && b[13] == ':' && b[16] == ':' && b[len(b)-1] == 'Z' {
		num := func(s []byte) (int, bool) {
			n := 0
			for _, c := range s {
				if c < '0' || c > '9' {
					return 0, false
				}
				n = n*10 + int(c-'0')
			}
			return n, true
		}
		y, ok1 := num(b[0:4])
		mo, ok2 := num(b[5:7])
		d, ok3 := num(b[8:10])
		h, ok4 := num(b[11:13])
		mi, ok5 := num(b[14:16])
		sec, ok6 := num(b[17:19])
		ns := 0
		ok7 := true
		if frac := b[19 : len(b)-1]; len(frac) > 0 {
			if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
				ok7 = false
			} else {
				var f int
				f, ok7 = num(frac[1:])
				for i := len(frac) - 1; i < 9; i++ {
					f *= 10
				}
				ns = f
			}
		}
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(mo, y) && h < 24 && mi < 60 && sec < 60 {
			return time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC)
		}
	}
	return parseTime(string(b))
}

// daysIn is the number of days of month mo of year y, as time.Parse checks
// it.
func daysIn(mo, y int) int {
	switch mo {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// errSlow sends a line to the encoding/json path.
var errSlow = errors.New("slow path")

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// object scans an object, calling member for each key with the scanner
// positioned at the value; done (optional) runs after the closing brace.
func (s *scanner) object(member func(key []byte) error, done ...func() error) error {
	err := s.elements('{', '}', func() error {
		k, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errSlow
		}
		s.i++
		s.ws()
		return member(k)
	})
	if err != nil {
		return err
	}
	for _, d := range done {
		if err := d(); err != nil {
			return err
		}
	}
	return nil
}

// elements scans an object or an array, between open and close, calling
// elem for each of its comma-separated elements.
func (s *scanner) elements(open, close byte, elem func() error) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != open {
		return errSlow
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == close {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errSlow
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case close:
			s.i++
			return nil
		default:
			return errSlow
		}
	}
}

// str scans a string; the result aliases the line unless it had escapes.
func (s *scanner) str() ([]byte, error) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, errSlow
	}
	start := s.i + 1
	// Fast path: the closing quote with no backslash before it.
	if q := quoteOrBackslash(s.b[start:]); q >= 0 && s.b[start+q] == '"' {
		s.i = start + q + 1
		return s.b[start : start+q], nil
	}
	escaped := false
	for j := start; j < len(s.b); j++ {
		switch s.b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			s.i = j + 1
			if !escaped {
				return s.b[start:j], nil
			}
			var out string
			if err := json.Unmarshal(s.b[start-1:j+1], &out); err != nil {
				return nil, errSlow
			}
			return []byte(out), nil
		}
	}
	return nil, errSlow
}

// skip skips any value.
func (s *scanner) skip() error {
	s.ws()
	if s.i >= len(s.b) {
		return errSlow
	}
	switch s.b[s.i] {
	case '"':
		_, err := s.str()
		return err
	case '{':
		return s.object(func([]byte) error { return s.skip() })
	case '[':
		return s.elements('[', ']', s.skip)
	default:
		j := s.i
		for j < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[j])) {
			j++
		}
		if j == s.i {
			return errSlow
		}
		if _, err := strconv.ParseFloat(string(s.b[s.i:j]), 64); err != nil {
			switch string(s.b[s.i:j]) {
			case "true", "false", "null":
			default:
				return errSlow
			}
		}
		s.i = j
		return nil
	}
}
