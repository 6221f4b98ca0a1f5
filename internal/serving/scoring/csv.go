package scoring

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// csvHeader says whether a CSV body's first line names the columns.
type csvHeader uint8

const (
	// csvHeaderAuto takes the first line as a header when any of its
	// cells is not a number (pandas' to_csv writes a header; SageMaker
	// clients send none).
	csvHeaderAuto csvHeader = iota
	csvHeaderPresent
	csvHeaderAbsent
)

// parseCSV parses comma-separated rows of numbers. Blank lines are skipped,
// as pandas does. Bodies without quotes take a fast path that converts
// numbers in place; quoted fields go through encoding/csv.
func (f *Frame) parseCSV(b []byte, header csvHeader) error {
	if bytes.IndexByte(b, '"') >= 0 {
		return f.parseQuotedCSV(b, header)
	}
	line := 0
	for len(b) > 0 {
		var l []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			l, b = b, nil
		}
		line++
		l = bytes.TrimSuffix(l, []byte{'\r'})
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if len(f.Values) == 0 && len(f.Columns) == 0 && header != csvHeaderAbsent {
			if header == csvHeaderPresent || !numericCSVLine(l, f.Missing) {
				for _, c := range bytes.Split(l, []byte{','}) {
					f.Columns = append(f.Columns, strings.TrimSpace(string(c)))
				}
				f.Width = len(f.Columns)
				continue
			}
		}
		start := len(f.Values)
		for col := 0; ; col++ {
			var cell []byte
			i := bytes.IndexByte(l, ',')
			if i >= 0 {
				cell, l = l[:i], l[i+1:]
			} else {
				cell = l
			}
			v, err := csvNumber(bytes.TrimSpace(cell), line, col, f.Missing)
			if err != nil {
				return err
			}
			f.Values = append(f.Values, v)
			if i < 0 {
				break
			}
		}
		if err := f.checkCSVWidth(len(f.Values)-start, line); err != nil {
			return err
		}
	}
	return nil
}

func (f *Frame) parseQuotedCSV(b []byte, header csvHeader) error {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	r.TrimLeadingSpace = true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return BadRequest("malformed CSV on line %d: %v", pe.Line, pe.Err)
			}
			return BadRequest("malformed CSV: %v", err)
		}
		line, _ := r.FieldPos(0)
		if len(f.Values) == 0 && len(f.Columns) == 0 && header != csvHeaderAbsent {
			numeric := true
			for _, c := range rec {
				if c = strings.TrimSpace(c); f.Missing && (c == "" || strings.EqualFold(c, "nan")) {
					continue
				}
				if _, err := parseCSVFloat(c); err != nil {
					numeric = false
					break
				}
			}
			if header == csvHeaderPresent || !numeric {
				for _, c := range rec {
					f.Columns = append(f.Columns, strings.TrimSpace(c))
				}
				f.Width = len(f.Columns)
				continue
			}
		}
		start := len(f.Values)
		for col, c := range rec {
			v, err := csvNumber([]byte(strings.TrimSpace(c)), line, col, f.Missing)
			if err != nil {
				return err
			}
			f.Values = append(f.Values, v)
		}
		if err := f.checkCSVWidth(len(f.Values)-start, line); err != nil {
			return err
		}
	}
}

func (f *Frame) checkCSVWidth(w, line int) error {
	if f.Width == 0 {
		f.Width = w
		return nil
	}
	if w != f.Width {
		what := "the first row has"
		if len(f.Columns) > 0 {
			what = "the header names"
		}
		return BadRequest("CSV line %d has %d values but %s %d: every row needs the same number of values", line, w, what, f.Width)
	}
	return nil
}

func numericCSVLine(l []byte, missing bool) bool {
	for len(l) > 0 {
		var cell []byte
		if i := bytes.IndexByte(l, ','); i >= 0 {
			cell, l = l[:i], l[i+1:]
		} else {
			cell, l = l, nil
		}
		cell = bytes.TrimSpace(cell)
		if missing && (len(cell) == 0 || strings.EqualFold(string(cell), "nan")) {
			continue // a missing value, not a column name
		}
		if len(cell) == 0 {
			return false
		}
		if _, err := parseCSVFloat(unsafe.String(&cell[0], len(cell))); err != nil {
			return false
		}
	}
	return true
}

func csvNumber(cell []byte, line, col int, missing bool) (float64, error) {
	if missing && (len(cell) == 0 || strings.EqualFold(string(cell), "nan")) {
		return math.NaN(), nil
	}
	if len(cell) == 0 {
		return 0, BadRequest("CSV line %d, column %d is empty: this model needs a number for every feature (fill in missing values before scoring)", line, col+1)
	}
	v, err := parseCSVFloat(unsafe.String(&cell[0], len(cell)))
	if err != nil {
		return 0, BadRequest("CSV line %d, column %d: %q is not a finite number: this model takes numeric features", line, col+1, string(cell))
	}
	return v, nil
}

func parseCSVFloat(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, strconv.ErrSyntax
	}
	return v, nil
}
