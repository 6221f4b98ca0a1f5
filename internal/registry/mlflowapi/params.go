package mlflowapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// params are a request's parameters: the query string of GET requests, the
// JSON body of the others (or the query string when a DELETE has no body),
// read with MLflow's validation messages.
type params struct {
	body  map[string]json.RawMessage
	query url.Values
}

// readParams reads the parameters of r; bodies over limit bytes are refused.
func readParams(w http.ResponseWriter, r *http.Request, limit int64) (params, error) {
	if r.Method == http.MethodGet {
		return params{query: r.URL.Query()}, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return params{}, &apiError{status: http.StatusRequestEntityTooLarge, code: mlflowerr.Invalid,
				msg: fmt.Sprintf("Request body exceeds the limit of %d bytes.", limit)}
		}
		return params{}, &apiError{status: http.StatusBadRequest, code: mlflowerr.Invalid, msg: "Could not read the request body: " + err.Error()}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return params{query: r.URL.Query(), body: map[string]json.RawMessage{}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		msg := "Malformed request: the body must be a JSON object"
		if err != nil {
			msg += ": " + err.Error()
		}
		return params{}, &apiError{status: http.StatusBadRequest, code: "MALFORMED_REQUEST", msg: msg}
	}
	return params{body: m}, nil
}

func (p params) has(key string) bool {
	if p.body != nil {
		if v, ok := p.body[key]; ok && string(v) != "null" {
			return true
		}
	}
	return p.query != nil && p.query.Has(key)
}

func invalidValue(key string, raw []byte, why string) error {
	return invalid(fmt.Sprintf("Invalid value %s for parameter '%s' supplied: %s", raw, key, why))
}

func invalid(msg string) error { return &store.Error{Code: mlflowerr.Invalid, Message: msg} }

func missing(key string) error {
	return invalid(fmt.Sprintf("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", key))
}

// str returns an optional string parameter.
func (p params) str(key string) (string, error) {
	if v, ok := p.body[key]; ok && string(v) != "null" {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", invalidValue(key, v, "Value must be a string.")
		}
		return s, nil
	}
	if p.query != nil {
		return p.query.Get(key), nil
	}
	return "", nil
}

// required returns a string parameter that must be present and non-empty.
func (p params) required(key string) (string, error) {
	if !p.has(key) {
		return "", missing(key)
	}
	s, err := p.str(key)
	if err == nil && s == "" {
		return "", missing(key)
	}
	return s, err
}

// version returns a required model version: "3" (MLflow sends strings) or 3.
func (p params) version(key string) (int, error) {
	var s string
	if v, ok := p.body[key]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &s); err != nil {
			var n json.Number
			if json.Unmarshal(v, &n) != nil {
				return 0, invalidValue(key, v, "Value must be a string.")
			}
			s = n.String()
		}
	} else if p.query != nil && p.query.Has(key) {
		s = p.query.Get(key)
	} else {
		return 0, missing(key)
	}
	if s == "" {
		return 0, missing(key)
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, invalid(fmt.Sprintf("Parameter '%s' must be an integer, got '%s'.", key, s))
	}
	return n, nil
}

// boolean returns a boolean parameter and whether it was given.
func (p params) boolean(key string) (val, ok bool, err error) {
	if v, found := p.body[key]; found && string(v) != "null" {
		if err := json.Unmarshal(v, &val); err != nil {
			var s string
			if json.Unmarshal(v, &s) == nil {
				if b, err := strconv.ParseBool(s); err == nil {
					return b, true, nil
				}
			}
			return false, false, invalidValue(key, v, "Value must be a boolean.")
		}
		return val, true, nil
	}
	if p.query != nil && p.query.Has(key) {
		b, err := strconv.ParseBool(p.query.Get(key))
		if err != nil {
			return false, false, invalid(fmt.Sprintf("Invalid value '%s' for parameter '%s' supplied: Value must be a boolean.", p.query.Get(key), key))
		}
		return b, true, nil
	}
	return false, false, nil
}

// int64 returns an integer parameter (number or numeric string) and
// whether it was given.
func (p params) int64(key string) (int64, bool, error) {
	var s string
	if v, found := p.body[key]; found && string(v) != "null" {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			if json.Unmarshal(v, &s) != nil {
				return 0, false, invalidValue(key, v, "Value must be an integer.")
			}
		} else {
			s = n.String()
		}
	} else if p.query != nil && p.query.Has(key) {
		s = p.query.Get(key)
	} else {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, invalid(fmt.Sprintf("Invalid value '%s' for parameter '%s' supplied: Value must be an integer.", s, key))
	}
	return n, true, nil
}

// list returns a repeated string parameter: a JSON array (or a single
// string) in a body, repeated keys in a query string.
func (p params) list(key string) ([]string, error) {
	if v, ok := p.body[key]; ok && string(v) != "null" {
		var out []string
		if err := json.Unmarshal(v, &out); err != nil {
			var one string
			if json.Unmarshal(v, &one) != nil {
				return nil, invalidValue(key, v, "Value must be a list of strings.")
			}
			out = []string{one}
		}
		return out, nil
	}
	if p.query != nil {
		return p.query[key], nil
	}
	return nil, nil
}

// tags returns a list of {"key", "value"} objects as a map.
func (p params) tags(key string) (map[string]string, error) {
	v, ok := p.body[key]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	var list []struct {
		Key   *string `json:"key"`
		Value *string `json:"value"`
	}
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, invalidValue(key, v, `Value must be a list of {"key": ..., "value": ...} objects.`)
	}
	out := make(map[string]string, len(list))
	for i, t := range list {
		if t.Key == nil {
			return nil, missing(fmt.Sprintf("%s[%d].key", key, i))
		}
		val := ""
		if t.Value != nil {
			val = *t.Value
		}
		out[*t.Key] = val
	}
	return out, nil
}

// reader reads a handler's parameters in turn and keeps the first error:
// once one parameter is refused, the ones after it read as zero values, so
// a handler checks err once, after reading them all.
type reader struct {
	p   params
	err error
}

// read reads one parameter with get unless an earlier one was refused.
func read[T any](in *reader, get func(params, string) (T, error), key string) T {
	if in.err != nil {
		var zero T
		return zero
	}
	v, err := get(in.p, key)
	in.err = err
	return v
}

func (in *reader) required(key string) string        { return read(in, params.required, key) }
func (in *reader) str(key string) string             { return read(in, params.str, key) }
func (in *reader) list(key string) []string          { return read(in, params.list, key) }
func (in *reader) tags(key string) map[string]string { return read(in, params.tags, key) }
func (in *reader) version() int                      { return read(in, params.version, "version") }

// tag reads a tag's "key" and its "value", which must be present but may be
// empty.
func (in *reader) tag() (key, value string) {
	key = in.required("key")
	if in.err == nil && !in.p.has("value") {
		in.err = missing("value")
	}
	return key, in.str("value")
}

// flag reads a boolean parameter that must be present.
func (in *reader) flag(key string) bool {
	if in.err != nil {
		return false
	}
	v, ok, err := in.p.boolean(key)
	if err == nil && !ok {
		err = missing(key)
	}
	in.err = err
	return v
}
