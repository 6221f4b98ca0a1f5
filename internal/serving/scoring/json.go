package scoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Input fields of the JSON scoring protocol.
const (
	fieldSplit     = "dataframe_split"
	fieldRecords   = "dataframe_records"
	fieldInstances = "instances"
	fieldInputs    = "inputs"
)

const requiredInputFormat = `the input must be a JSON object with exactly one of the input fields "dataframe_split", "dataframe_records", "instances" or "inputs"`

// maxDepth bounds the nesting of values the parser skips over.
const maxDepth = 256

// jparser is a scanner over one JSON document that writes numbers straight
// into a Frame.
type jparser struct {
	b []byte
	i int
	f *Frame
}

func (f *Frame) parseJSON(b []byte) error {
	p := jparser{b: b, f: f}
	p.ws()
	if p.i >= len(b) {
		return BadRequest(`the request body is empty: send a JSON object such as {"inputs": [[1.0, 2.0]]}`)
	}
	switch b[p.i] {
	case '{':
	case '[':
		return BadRequest("%s; received a list", requiredInputFormat)
	default:
		if err := p.skip(0); err != nil {
			return err
		}
		return BadRequest("%s; received a JSON scalar", requiredInputFormat)
	}
	p.i++
	var found string
	var keys []string
	for first := true; ; first = false {
		p.ws()
		if p.peek() == '}' && first {
			p.i++
			break
		}
		key, err := p.key()
		if err != nil {
			return err
		}
		if err := p.colon(); err != nil {
			return err
		}
		switch key {
		case fieldSplit, fieldRecords, fieldInstances, fieldInputs:
			if found != "" {
				return BadRequest("%s; received both %q and %q", requiredInputFormat, found, key)
			}
			found = key
			err = p.format(key)
		default:
			// "params" and any other field: MLflow passes params to models
			// that take them and ignores the rest; a linear model takes none.
			keys = append(keys, key)
			err = p.skip(0)
		}
		if err != nil {
			return err
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
			continue
		case '}':
			p.i++
		default:
			return p.syntax("expected ',' or '}' after a field of the top-level object")
		}
		break
	}
	p.ws()
	if p.i != len(b) {
		return p.syntax("unexpected data after the top-level JSON object")
	}
	if found == "" {
		return BadRequest("%s; received an object with the fields %s", requiredInputFormat, quoteList(keys))
	}
	return nil
}

// format parses the value of one input field into the frame.
func (p *jparser) format(field string) error {
	p.ws()
	switch field {
	case fieldSplit:
		return p.split()
	case fieldRecords:
		if p.peek() != '[' {
			return p.typeErr(field, "a list of records such as [{\"a\": 1, \"b\": 2}]")
		}
		return p.rows(field)
	default: // instances, inputs
		switch p.peek() {
		case '[':
			return p.rows(field)
		case '{':
			return p.columns(field)
		default:
			return p.typeErr(field, "a list of rows such as [[1, 2], [3, 4]] or an object of columns such as {\"a\": [1, 3], \"b\": [2, 4]}")
		}
	}
}

// split parses pandas' split orientation: {"columns": [...], "data": [[...]], "index": [...]}.
func (p *jparser) split() error {
	if p.peek() != '{' {
		return p.typeErr(fieldSplit, `an object such as {"columns": ["a", "b"], "data": [[1, 2]]}`)
	}
	p.i++
	haveData, haveCols := false, false
	for first := true; ; first = false {
		p.ws()
		if first && p.peek() == '}' {
			p.i++
			break
		}
		key, err := p.key()
		if err != nil {
			return err
		}
		if err := p.colon(); err != nil {
			return err
		}
		p.ws()
		switch key {
		case "data":
			if p.peek() != '[' {
				return p.typeErr(fieldSplit+".data", "a list of rows")
			}
			if err := p.rows(fieldSplit + ".data"); err != nil {
				return err
			}
			haveData = true
		case "columns":
			if err := p.columnNames(); err != nil {
				return err
			}
			haveCols = true
		default: // index, dtypes and the like carry nothing a numeric model uses
			if err := p.skip(0); err != nil {
				return err
			}
		}
		p.ws()
		switch p.peek() {
		case ',':
			p.i++
			continue
		case '}':
			p.i++
		default:
			return p.syntax("expected ',' or '}' in dataframe_split")
		}
		break
	}
	if !haveData {
		return BadRequest(`dataframe_split has no "data": send {"columns": [...], "data": [[...], ...]}`)
	}
	f := p.f
	if haveCols && f.Width != len(f.Columns) && len(f.Values) > 0 {
		return BadRequest("dataframe_split names %d columns but its rows have %d values", len(f.Columns), f.Width)
	}
	if !haveCols {
		f.Columns = f.Columns[:0]
	}
	return nil
}

// columnNames parses a list of column names into f.Columns.
func (p *jparser) columnNames() error {
	if p.peek() != '[' {
		return p.typeErr(fieldSplit+".columns", "a list of column names")
	}
	p.i++
	f := p.f
	f.Columns = f.Columns[:0]
	for first := true; ; first = false {
		p.ws()
		if first && p.eat(']') {
			return nil
		}
		var name string
		if p.peek() == '"' {
			s, err := p.strReuse(f.prevColumn(len(f.Columns)))
			if err != nil {
				return err
			}
			name = s
		} else {
			// pandas allows numeric column labels; keep their JSON text.
			start := p.i
			if err := p.skip(0); err != nil {
				return err
			}
			name = string(p.b[start:p.i])
		}
		f.Columns = append(f.Columns, name)
		if more, ok := p.more(']'); !ok {
			return p.syntax("expected ',' or ']' in dataframe_split.columns")
		} else if !more {
			return nil
		}
	}
}

// rows parses a list whose items are rows (lists of values), records
// (objects of column -> value) or single values (one column).
func (p *jparser) rows(path string) error {
	p.i++ // '['
	f := p.f
	p.ws()
	if p.peek() == ']' {
		p.i++
		return nil
	}
	switch p.peek() {
	case '{':
		return p.records(path)
	case '[':
		// The loops over rows and their values stay written out: they are
		// the parser's hot path (BenchmarkParseJSON).
		for n := 0; ; n++ {
			p.ws()
			if p.peek() != '[' {
				return p.typeErr(fmt.Sprintf("%s[%d]", path, n), "a row (a list of values) like the rows before it")
			}
			p.i++
			start := len(f.Values)
			for col := 0; ; col++ {
				p.ws()
				if col == 0 && p.peek() == ']' {
					p.i++
					break
				}
				v, err := p.value(path, n, col)
				if err != nil {
					return err
				}
				f.Values = append(f.Values, v)
				p.ws()
				c := p.peek()
				if c == ',' {
					p.i++
					continue
				}
				if c == ']' {
					p.i++
					break
				}
				return p.syntax(fmt.Sprintf("expected ',' or ']' in %s[%d]", path, n))
			}
			w := len(f.Values) - start
			if n == 0 {
				if w == 0 {
					return BadRequest("%s[0] is an empty row: each row needs the model's feature values", path)
				}
				f.Width = w
			} else if w != f.Width {
				return BadRequest("%s[%d] has %d values but %s[0] has %d: every row needs the same number of values", path, n, w, path, f.Width)
			}
			p.ws()
			c := p.peek()
			if c == ',' {
				p.i++
				continue
			}
			if c == ']' {
				p.i++
				return nil
			}
			return p.syntax("expected ',' or ']' in " + path)
		}
	default:
		// A flat list of values: one column, one value per row.
		f.Width = 1
		var err error
		f.Values, err = p.values(f.Values, path)
		return err
	}
}

// values parses the rest of a list of values, after its '[', appending them
// to dst: a column of path, each value in its own row.
func (p *jparser) values(dst []float64, path string) ([]float64, error) {
	for row := 0; ; row++ {
		p.ws()
		if row == 0 && p.eat(']') {
			return dst, nil
		}
		v, err := p.value(path, row, -1)
		if err != nil {
			return dst, err
		}
		dst = append(dst, v)
		if more, ok := p.more(']'); !ok {
			return dst, p.syntax("expected ',' or ']' in " + path)
		} else if !more {
			return dst, nil
		}
	}
}

// records parses a list of objects mapping column name to value; the first
// record's keys name the columns, in order.
func (p *jparser) records(path string) error {
	f := p.f
	f.Columns = f.Columns[:0]
	for n := 0; ; n++ {
		p.ws()
		if p.peek() != '{' {
			return p.typeErr(fmt.Sprintf("%s[%d]", path, n), "a record (an object of column: value) like the records before it")
		}
		p.i++
		start := len(f.Values)
		if n > 0 {
			for range f.Width {
				f.Values = append(f.Values, 0)
			}
			for len(f.seen) < f.Width {
				f.seen = append(f.seen, 0)
			}
		}
		stamp := uint32(n + 1)
		got := 0
		for first := true; ; first = false {
			p.ws()
			if first && p.eat('}') {
				break
			}
			prev := ""
			if n == 0 {
				prev = f.prevColumn(len(f.Columns))
			}
			key, err := p.strReuse(prev)
			if err != nil {
				return err
			}
			if err := p.colon(); err != nil {
				return err
			}
			p.ws()
			col := slices.Index(f.Columns, key)
			if col < 0 {
				if n > 0 {
					return BadRequest("%s[%d] has column %q that %s[0] does not have: every record needs the same columns %s",
						path, n, key, path, quoteList(f.Columns))
				}
				col = len(f.Columns) // a new column of the first record
			}
			v, err := p.value(path, n, col)
			if err != nil {
				return withColumn(err, key)
			}
			if col == len(f.Columns) {
				f.Columns = append(f.Columns, key)
				f.Values = append(f.Values, v)
			} else {
				f.Values[start+col] = v // in the first record, a repeated key: the last value wins, as in Python
				if n > 0 && f.seen[col] != stamp {
					f.seen[col] = stamp
					got++
				}
			}
			if more, ok := p.more('}'); !ok {
				return p.syntax(fmt.Sprintf("expected ',' or '}' in %s[%d]", path, n))
			} else if !more {
				break
			}
		}
		if n == 0 {
			if len(f.Columns) == 0 {
				return BadRequest("%s[0] is an empty record: each record needs the model's feature values", path)
			}
			f.Width = len(f.Columns)
			for i := range f.seen {
				f.seen[i] = 0
			}
		} else if got != f.Width {
			var missing []string
			for j, c := range f.Columns {
				if f.seen[j] != stamp {
					missing = append(missing, c)
				}
			}
			return BadRequest("%s[%d] lacks the columns %s: every record needs the same columns %s",
				path, n, quoteList(missing), quoteList(f.Columns))
		}
		if more, ok := p.more(']'); !ok {
			return p.syntax("expected ',' or ']' in " + path)
		} else if !more {
			return nil
		}
	}
}

// withColumn names the column in a value error.
func withColumn(err error, col string) error {
	if e, ok := err.(*Error); ok {
		return &Error{Status: e.Status, Code: e.Code, Message: fmt.Sprintf("%s (column %q)", e.Message, col)}
	}
	return err
}

// columns parses an object of column name -> list of values (or a single
// value, for a one-row input).
func (p *jparser) columns(path string) error {
	p.i++ // '{'
	f := p.f
	f.Columns = f.Columns[:0]
	f.cols = f.cols[:0]
	scalars := -1 // 1: every column holds one scalar; 0: every column holds a list
	for first := true; ; first = false {
		p.ws()
		if first && p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if err := p.colon(); err != nil {
			return err
		}
		if slices.Contains(f.Columns, key) {
			return BadRequest("%s names column %q twice", path, key)
		}
		col := len(f.Columns)
		f.Columns = append(f.Columns, key)
		if col < cap(f.cols) {
			f.cols = f.cols[:col+1]
			f.cols[col] = f.cols[col][:0]
		} else {
			f.cols = append(f.cols, nil)
		}
		p.ws()
		isList := p.peek() == '['
		if scalars < 0 {
			scalars = 1
			if isList {
				scalars = 0
			}
		} else if isList != (scalars == 0) {
			return BadRequest("%s mixes lists and single values: give every column a list of values of the same length", path)
		}
		colPath := path + "." + key
		if !isList {
			v, err := p.value(colPath, -1, -1)
			if err != nil {
				return err
			}
			f.cols[col] = append(f.cols[col], v)
		} else {
			p.i++
			if f.cols[col], err = p.values(f.cols[col], colPath); err != nil {
				return err
			}
			if len(f.cols[col]) != len(f.cols[0]) {
				return BadRequest("%s: column %q has %d values but column %q has %d: the length of values for each column must be the same",
					path, key, len(f.cols[col]), f.Columns[0], len(f.cols[0]))
			}
		}
		if more, ok := p.more('}'); !ok {
			return p.syntax("expected ',' or '}' in " + path)
		} else if !more {
			break
		}
	}
	if len(f.Columns) == 0 {
		return nil
	}
	f.Width = len(f.Columns)
	rows := len(f.cols[0])
	for r := 0; r < rows; r++ {
		for c := range f.Width {
			f.Values = append(f.Values, f.cols[c][r])
		}
	}
	return nil
}

// value parses one feature value: a number, a string holding a number, or
// a boolean (1 or 0, as numpy converts it). row and col locate it for error
// messages (-1 when not applicable).
func (p *jparser) value(path string, row, col int) (float64, error) {
	if p.i >= len(p.b) {
		return 0, p.syntax("unexpected end of input")
	}
	c := p.b[p.i]
	switch {
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(path, row, col)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if p.f.Missing && err == nil && math.IsNaN(v) {
			return v, nil
		}
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, BadRequest("%s: value %q is not a finite number: this model takes numeric features", where(path, row, col), s)
		}
		return v, nil
	case c == 't' && p.lit("true"):
		return 1, nil
	case c == 'f' && p.lit("false"):
		return 0, nil
	case c == 'n' && p.lit("null"):
		if p.f.Missing {
			return math.NaN(), nil
		}
		return 0, BadRequest("%s: value is null: this model needs a number for every feature (fill in missing values before scoring)", where(path, row, col))
	case c == '[' || c == '{':
		kind := "a list"
		if c == '{' {
			kind = "an object"
		}
		return 0, BadRequest("%s: got %s where a number was expected: this model takes a table of numbers", where(path, row, col), kind)
	default:
		return 0, p.syntax("invalid value")
	}
}

func where(path string, row, col int) string {
	switch {
	case row >= 0 && col >= 0:
		return fmt.Sprintf("%s[%d][%d]", path, row, col)
	case row >= 0:
		return fmt.Sprintf("%s[%d]", path, row)
	default:
		return path
	}
}

// number scans a JSON number and converts it.
func (p *jparser) number(path string, row, col int) (float64, error) {
	start := p.i
	if err := p.scanNumber(); err != nil {
		return 0, err
	}
	s := unsafe.String(&p.b[start], p.i-start)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, BadRequest("%s: number %s is out of range for a 64-bit float", where(path, row, col), s)
	}
	return v, nil
}

// scanNumber moves past a JSON number, checking its syntax.
func (p *jparser) scanNumber() error {
	b := p.b
	i := p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == digits {
		p.i = i
		return p.syntax("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return p.syntax("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return p.syntax("invalid number")
		}
	}
	p.i = i
	return nil
}

// str scans a JSON string and returns its value. Strings without escapes
// are returned without decoding work.
func (p *jparser) str() (string, error) { return p.strReuse("") }

// key scans an object key; the protocol's own keys come back as constants,
// without allocating.
func (p *jparser) key() (string, error) {
	b := p.b
	if p.i < len(b) && b[p.i] == '"' {
		if j := bytes.IndexByte(b[p.i+1:], '"'); j >= 0 {
			if k, ok := knownKey(b[p.i+1 : p.i+1+j]); ok {
				p.i += j + 2
				return k, nil
			}
		}
	}
	return p.str()
}

// knownKey returns the constant equal to k, if k is one of the protocol's
// keys.
func knownKey(k []byte) (string, bool) {
	switch string(k) {
	case fieldSplit:
		return fieldSplit, true
	case fieldRecords:
		return fieldRecords, true
	case fieldInstances:
		return fieldInstances, true
	case fieldInputs:
		return fieldInputs, true
	case "params":
		return "params", true
	case "columns":
		return "columns", true
	case "data":
		return "data", true
	case "index":
		return "index", true
	}
	return "", false
}

// strReuse is str, returning prev itself (no allocation) when the string
// equals it: column names repeat from one request to the next.
func (p *jparser) strReuse(prev string) (string, error) {
	b := p.b
	if p.i >= len(b) || b[p.i] != '"' {
		return "", p.syntax("expected a string")
	}
	start := p.i + 1
	escaped := false
	for i := start; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			p.i = i + 1
			if !escaped {
				raw := b[start:i]
				if string(raw) == prev {
					return prev, nil
				}
				if !utf8.Valid(raw) {
					return "", p.syntax("invalid UTF-8 in a string")
				}
				return string(raw), nil
			}
			var s string
			if err := json.Unmarshal(b[start-1:i+1], &s); err != nil {
				return "", BadRequest("malformed JSON string at byte %d: %v", start-1, err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			i++ // skip the escaped byte; \uXXXX is checked by json.Unmarshal
		case c < 0x20:
			p.i = i
			return "", p.syntax("control character in a string")
		}
	}
	p.i = len(b)
	return "", p.syntax("unterminated string")
}

// prevColumn is the name column i had in the frame's previous parse, or "".
func (f *Frame) prevColumn(i int) string {
	if i < cap(f.Columns) {
		return f.Columns[:i+1][i]
	}
	return ""
}

// skip scans over any JSON value, checking its syntax.
func (p *jparser) skip(depth int) error {
	if depth > maxDepth {
		return BadRequest("JSON nested deeper than %d levels", maxDepth)
	}
	p.ws()
	if p.i >= len(p.b) {
		return p.syntax("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.scanNumber()
	case c == 't' && p.lit("true"), c == 'f' && p.lit("false"), c == 'n' && p.lit("null"):
		return nil
	case c == '[' || c == '{':
		close := byte(']')
		if c == '{' {
			close = '}'
		}
		p.i++
		for first := true; ; first = false {
			p.ws()
			if first && p.eat(close) {
				return nil
			}
			if c == '{' {
				if _, err := p.str(); err != nil {
					return err
				}
				if err := p.colon(); err != nil {
					return err
				}
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if more, ok := p.more(close); !ok {
				return p.syntax(fmt.Sprintf("expected ',' or '%c'", close))
			} else if !more {
				return nil
			}
		}
	default:
		return p.syntax("invalid value")
	}
}

func (p *jparser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// more moves past what follows an element of a list or an object: true
// after a ',', false after close; ok is false when neither comes next.
func (p *jparser) more(close byte) (more, ok bool) {
	p.ws()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case ',':
			p.i++
			return true, true
		case close:
			p.i++
			return false, true
		}
	}
	return false, false
}

// eat moves past c if it comes next.
func (p *jparser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *jparser) colon() error {
	p.ws()
	if p.peek() != ':' {
		return p.syntax("expected ':' after an object key")
	}
	p.i++
	return nil
}

func (p *jparser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *jparser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) syntax(msg string) *Error {
	if p.i >= len(p.b) {
		return BadRequest("malformed JSON: %s at the end of the input (is the body complete?)", msg)
	}
	return BadRequest("malformed JSON: %s at byte %d", msg, p.i)
}

func (p *jparser) typeErr(path, want string) *Error {
	got := "a number"
	switch p.peek() {
	case '[':
		got = "a list"
	case '{':
		got = "an object"
	case '"':
		got = "a string"
	case 't', 'f':
		got = "a boolean"
	case 'n':
		got = "null"
	case 0:
		return p.syntax("unexpected end of input")
	}
	return BadRequest("%s must be %s, got %s", path, want, got)
}
