// Package tabular turns the data the monitor reads into rows of byte fields:
// datasets (CSV with a header row, or JSON Lines), and captured request
// payloads (CSV without a header, in the baseline's feature order, or the
// JSON shapes of the scoring protocol: dataframe_split, dataframe_records,
// instances, inputs).
package tabular

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// ReadDataset reads a dataset file: .jsonl/.json lines of objects, anything
// else CSV with a header row. fn receives each row's fields in the order of
// cols. Rows that cannot be parsed are counted in malformed and skipped.
func ReadDataset(path string, fn func(cols []string, row [][]byte) error) (cols []string, malformed int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open dataset: %w", err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".jsonl") || strings.HasSuffix(path, ".json") {
		return readJSONL(f, fn)
	}
	return readCSV(f, fn)
}

func readCSV(r io.Reader, fn func([]string, [][]byte) error) ([]string, int64, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, 0, fmt.Errorf("read CSV header: %w (the dataset needs a header row naming the columns)", err)
	}
	cols := make([]string, len(header))
	for i, h := range header {
		cols[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	var malformed int64
	fields := make([][]byte, len(cols))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return cols, malformed, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			malformed++
			continue
		}
		if err != nil {
			return cols, malformed, fmt.Errorf("read CSV: %w", err)
		}
		fields = fields[:0]
		for _, v := range rec {
			fields = append(fields, []byte(v))
		}
		if err := fn(cols, fields); err != nil {
			return cols, malformed, err
		}
	}
}

func readJSONL(r io.Reader, fn func([]string, [][]byte) error) ([]string, int64, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var cols []string
	index := map[string]int{}
	var malformed int64
	for {
		line, err := br.ReadBytes('\n')
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			var obj map[string]json.RawMessage
			if json.Unmarshal(line, &obj) != nil {
				malformed++
			} else {
				if cols == nil {
					keys, err := orderedKeys(line)
					if err != nil {
						malformed++
						goto next
					}
					cols = keys
					for i, k := range cols {
						index[k] = i
					}
				}
				fields := make([][]byte, len(cols))
				for k, raw := range obj {
					if i, ok := index[k]; ok {
						fields[i] = JSONText(raw)
					}
				}
				if err := fn(cols, fields); err != nil {
					return cols, malformed, err
				}
			}
		}
	next:
		if err == io.EOF {
			return cols, malformed, nil
		}
		if err != nil {
			return cols, malformed, fmt.Errorf("read JSON lines: %w", err)
		}
	}
}

// orderedKeys returns an object's keys in document order.
func orderedKeys(obj []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// JSONText renders a JSON value as a field: strings unquoted, null as
// missing (nil), numbers and booleans as written, anything else as JSON.
func JSONText(raw []byte) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s)
		}
	}
	return raw
}

// Payload encodings of SageMaker's capture format.
const (
	EncodingCSV    = "CSV"
	EncodingJSON   = "JSON"
	EncodingBase64 = "BASE64"
)

// Parser splits captured request payloads into rows in feature order.
// It is not safe for concurrent use (it reuses buffers).
type Parser struct {
	features []string
	index    map[string]int
	fields   [][]byte
	named    [][]byte
}

// NewParser returns a parser for the baseline's features, in order.
func NewParser(features []string) *Parser {
	p := &Parser{features: features, index: map[string]int{}}
	for i, f := range features {
		p.index[f] = i
	}
	p.named = make([][]byte, len(features))
	return p
}

// RowFunc receives one row: fields in feature order (nil: missing); short
// and long report named records lacking baseline columns or carrying others
// (positional rows report these by their length instead).
type RowFunc func(fields [][]byte, short, long bool)

// Rows parses one payload. CSV payloads hold one row per line; JSON payloads
// any of the shapes the package doc lists. The fields passed to fn are only
// valid during the call.
func (p *Parser) Rows(encoding string, data []byte, fn RowFunc) error {
	switch strings.ToUpper(encoding) {
	case EncodingJSON:
		return p.jsonRows(data, fn)
	case EncodingCSV, "":
		return p.csvRows(data, fn)
	}
	return fmt.Errorf("unsupported payload encoding %q: capture CSV or JSON requests to monitor data quality", encoding)
}

func (p *Parser) csvRows(data []byte, fn RowFunc) error {
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if bytes.IndexByte(line, '"') >= 0 {
			rec, err := csv.NewReader(bytes.NewReader(line)).Read()
			if err != nil {
				return fmt.Errorf("parse CSV payload: %w", err)
			}
			p.fields = p.fields[:0]
			for _, v := range rec {
				p.fields = append(p.fields, []byte(v))
			}
		} else {
			p.fields = SplitComma(p.fields[:0], line)
		}
		fn(p.fields, len(p.fields) < len(p.features), len(p.fields) > len(p.features))
	}
	return nil
}

// SplitComma appends line's comma-separated fields to dst.
func SplitComma(dst [][]byte, line []byte) [][]byte {
	for {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			return append(dst, line)
		}
		dst = append(dst, line[:i])
		line = line[i+1:]
	}
}

func (p *Parser) jsonRows(data []byte, fn RowFunc) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("parse JSON payload: %w", err)
	}
	switch t := v.(type) {
	case map[string]any:
		if ds, ok := t["dataframe_split"].(map[string]any); ok {
			return p.split(ds, fn)
		}
		if recs, ok := t["dataframe_records"].([]any); ok {
			return p.list(recs, fn)
		}
		for _, key := range []string{"instances", "inputs"} {
			switch in := t[key].(type) {
			case []any:
				return p.list(in, fn)
			case map[string]any:
				return p.columnar(in, fn)
			}
		}
		if _, ok := t["columns"]; ok {
			if _, ok := t["data"]; ok {
				return p.split(t, fn)
			}
		}
		p.record(t, fn)
		return nil
	case []any:
		return p.list(t, fn)
	}
	return errors.New("parse JSON payload: want an object or a list")
}

func (p *Parser) split(ds map[string]any, fn RowFunc) error {
	rows, _ := ds["data"].([]any)
	colsAny, hasCols := ds["columns"].([]any)
	for _, r := range rows {
		vals, ok := r.([]any)
		if !ok {
			vals = []any{r}
		}
		if !hasCols {
			p.positional(vals, fn)
			continue
		}
		rec := make(map[string]any, len(colsAny))
		for i, c := range colsAny {
			if i < len(vals) {
				rec[fmt.Sprint(c)] = vals[i]
			}
		}
		p.record(rec, fn)
	}
	return nil
}

func (p *Parser) list(items []any, fn RowFunc) error {
	for _, it := range items {
		switch t := it.(type) {
		case []any:
			p.positional(t, fn)
		case map[string]any:
			p.record(t, fn)
		default:
			p.positional([]any{t}, fn)
		}
	}
	return nil
}

func (p *Parser) columnar(cols map[string]any, fn RowFunc) error {
	n := 0
	for _, c := range cols {
		if l, ok := c.([]any); ok && len(l) > n {
			n = len(l)
		}
	}
	names := make([]string, 0, len(cols))
	for k := range cols {
		names = append(names, k)
	}
	sort.Strings(names)
	for i := 0; i < n; i++ {
		rec := map[string]any{}
		for _, k := range names {
			if l, ok := cols[k].([]any); ok && i < len(l) {
				rec[k] = l[i]
			}
		}
		p.record(rec, fn)
	}
	return nil
}

func (p *Parser) positional(vals []any, fn RowFunc) {
	p.fields = p.fields[:0]
	for _, v := range vals {
		p.fields = append(p.fields, text(v))
	}
	fn(p.fields, len(p.fields) < len(p.features), len(p.fields) > len(p.features))
}

func (p *Parser) record(rec map[string]any, fn RowFunc) {
	for i := range p.named {
		p.named[i] = nil
	}
	seen, long := 0, false
	for k, v := range rec {
		i, ok := p.index[k]
		if !ok {
			long = true
			continue
		}
		seen++
		p.named[i] = text(v)
	}
	fn(p.named, seen < len(p.features), long)
}

func text(v any) []byte {
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		return []byte(t)
	case json.Number:
		return []byte(t)
	case bool:
		if t {
			return []byte("true")
		}
		return []byte("false")
	}
	b, _ := json.Marshal(v)
	return b
}
