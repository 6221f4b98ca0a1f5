package store

import (
	"fmt"
	"strings"
	"unicode"
)

// Cond is one condition of a search filter: Attr Op Values. For tag
// conditions Attr is "tags" and Key the tag key.
type Cond struct {
	Attr   string   // name, run_id, version_number, tags
	Key    string   // tag key when Attr == "tags"
	Op     string   // =, !=, LIKE, ILIKE, IN, NOT IN
	Values []string // one value, or several for IN / NOT IN
}

// ParseFilter parses an MLflow search filter: conditions joined by AND, each
// `attribute operator value`, with string values in single or double quotes,
// e.g. "name = 'iris' AND tags.team LIKE 'ml%'" or "run_id IN ('a', 'b')".
// An empty filter yields no conditions.
func ParseFilter(s string) ([]Cond, error) {
	toks, err := lexFilter(s)
	if err != nil {
		return nil, invalidf("Invalid filter '%s': %v", s, err)
	}
	var out []Cond
	for i := 0; i < len(toks); {
		if len(out) > 0 {
			if toks[i].kind != tokWord || !strings.EqualFold(toks[i].text, "AND") {
				return nil, invalidf("Invalid filter '%s': expected AND before %q (only AND is supported)", s, toks[i].text)
			}
			i++
		}
		c, n, err := parseCond(toks[i:])
		if err != nil {
			return nil, invalidf("Invalid filter '%s': %v", s, err)
		}
		out = append(out, c)
		i += n
	}
	return out, nil
}

func parseCond(toks []token) (Cond, int, error) {
	if len(toks) < 3 {
		return Cond{}, 0, fmt.Errorf("incomplete condition")
	}
	var c Cond
	if toks[0].kind != tokWord {
		return c, 0, fmt.Errorf("expected an attribute, got %q", toks[0].text)
	}
	attr := toks[0].text
	attr = strings.TrimPrefix(attr, "attributes.")
	attr = strings.TrimPrefix(attr, "attribute.")
	if k, ok := cutPrefixFold(attr, "tags."); ok {
		c.Attr, c.Key = "tags", strings.Trim(k, "`\"")
		if c.Key == "" {
			return c, 0, fmt.Errorf("empty tag key")
		}
	} else if k, ok := cutPrefixFold(attr, "tag."); ok {
		c.Attr, c.Key = "tags", strings.Trim(k, "`\"")
	} else {
		c.Attr = strings.ToLower(strings.Trim(attr, "`"))
	}
	i := 1
	op := toks[i]
	switch {
	case op.kind == tokOp:
		c.Op = op.text
		i++
	case op.kind == tokWord && strings.EqualFold(op.text, "NOT") && len(toks) > 2 && strings.EqualFold(toks[2].text, "IN"):
		c.Op = "NOT IN"
		i += 2
	case op.kind == tokWord && (strings.EqualFold(op.text, "LIKE") || strings.EqualFold(op.text, "ILIKE") || strings.EqualFold(op.text, "IN")):
		c.Op = strings.ToUpper(op.text)
		i++
	default:
		return c, 0, fmt.Errorf("unsupported operator %q", op.text)
	}
	if i >= len(toks) {
		return c, 0, fmt.Errorf("missing value after %s", c.Op)
	}
	if c.Op == "IN" || c.Op == "NOT IN" {
		if toks[i].kind != tokLParen {
			return c, 0, fmt.Errorf("%s needs a parenthesised list of values", c.Op)
		}
		i++
		for {
			if i >= len(toks) || (toks[i].kind != tokString && toks[i].kind != tokNumber) {
				return c, 0, fmt.Errorf("expected a value in the %s list", c.Op)
			}
			c.Values = append(c.Values, toks[i].text)
			i++
			if i < len(toks) && toks[i].kind == tokComma {
				i++
				continue
			}
			if i < len(toks) && toks[i].kind == tokRParen {
				i++
				break
			}
			return c, 0, fmt.Errorf("unterminated %s list", c.Op)
		}
		return c, i, nil
	}
	if toks[i].kind != tokString && toks[i].kind != tokNumber {
		return c, 0, fmt.Errorf("expected a quoted value after %s, got %q", c.Op, toks[i].text)
	}
	c.Values = []string{toks[i].text}
	return c, i + 1, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

type tokKind int

const (
	tokWord tokKind = iota
	tokString
	tokNumber
	tokOp
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokKind
	text string
}

func lexFilter(s string) ([]token, error) {
	var toks []token
	r := []rune(s)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "("})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")"})
			i++
		case c == ',':
			toks = append(toks, token{tokComma, ","})
			i++
		case c == '\'' || c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(r); j++ {
				if r[j] == c {
					if j+1 < len(r) && r[j+1] == c { // doubled quote escapes itself
						b.WriteRune(c)
						j++
						continue
					}
					break
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("unterminated string starting at %d", i)
			}
			toks = append(toks, token{tokString, b.String()})
			i = j + 1
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(r) && r[j] == '=' {
				j++
			}
			op := string(r[i:j])
			if op == "!" {
				return nil, fmt.Errorf("unexpected '!' at %d", i)
			}
			if op == "==" {
				op = "="
			}
			toks = append(toks, token{tokOp, op})
			i = j
		case c >= '0' && c <= '9' || c == '-':
			j := i + 1
			for j < len(r) && (r[j] >= '0' && r[j] <= '9' || r[j] == '.') {
				j++
			}
			toks = append(toks, token{tokNumber, string(r[i:j])})
			i = j
		default:
			j := i
			for j < len(r) {
				if r[j] == '`' { // backquoted part of an identifier: tags.`my key`
					k := j + 1
					for k < len(r) && r[k] != '`' {
						k++
					}
					if k >= len(r) {
						return nil, fmt.Errorf("unterminated backquote at %d", j)
					}
					j = k + 1
					continue
				}
				if unicode.IsSpace(r[j]) || strings.ContainsRune("()=!<>,'\"", r[j]) {
					break
				}
				j++
			}
			toks = append(toks, token{tokWord, string(r[i:j])})
			i = j
		}
	}
	return toks, nil
}

// Order is one column of an order_by clause.
type Order struct {
	Column string // name, version_number, creation_timestamp, last_updated_timestamp
	Desc   bool
}

// ParseOrderBy parses MLflow order_by entries ("name", "last_updated_timestamp
// DESC"), accepting only the given columns. "timestamp" means
// last_updated_timestamp, as in MLflow.
func ParseOrderBy(entries []string, allowed ...string) ([]Order, error) {
	var out []Order
	for _, e := range entries {
		f := strings.Fields(e)
		if len(f) == 0 || len(f) > 2 {
			return nil, invalidf("Invalid order_by clause '%s'. Use 'column [ASC|DESC]'.", e)
		}
		col := strings.ToLower(strings.Trim(f[0], "`"))
		col = strings.TrimPrefix(col, "attributes.")
		if col == "timestamp" {
			col = "last_updated_timestamp"
		}
		o := Order{Column: col}
		if len(f) == 2 {
			switch strings.ToUpper(f[1]) {
			case "ASC":
			case "DESC":
				o.Desc = true
			default:
				return nil, invalidf("Invalid order_by clause '%s'. Use 'column [ASC|DESC]'.", e)
			}
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == col
		}
		if !ok {
			return nil, invalidf("Invalid order by key '%s' specified. Valid keys are %s.", f[0], strings.Join(allowed, ", "))
		}
		out = append(out, o)
	}
	return out, nil
}
