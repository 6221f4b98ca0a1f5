package scoring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// CheckContentType applies Parse's rules for the request's Content-Type
// without parsing a body: nil for application/json and text/csv (with an
// optional UTF-8 charset, and header=present|absent for CSV), else a 415
// *Error. Runtimes that hand the body to another server (Python) check
// requests with it, so every runtime answers the same contract.
func CheckContentType(contentType string) error {
	mt, params, err := parseContentType(contentType)
	if err != nil {
		return err
	}
	switch mt {
	case ContentTypeJSON:
		for k := range params {
			if k != "charset" {
				return unsupportedParam(k)
			}
		}
	case ContentTypeCSV:
		for k, v := range params {
			switch k {
			case "charset":
			case "header":
				if l := strings.ToLower(v); l != "present" && l != "absent" {
					return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
						Message: fmt.Sprintf("text/csv parameter header=%q: want present or absent", v)}
				}
			default:
				return unsupportedParam(k)
			}
		}
	default:
		return &Error{Status: http.StatusUnsupportedMediaType, Code: CodeBadRequest,
			Message: fmt.Sprintf("content type %q is not supported: send Content-Type: application/json or text/csv", contentType)}
	}
	return nil
}

// PredictionsToCSV turns a JSON answer {"predictions": [...]} into the CSV
// answer native runtimes give for Accept: text/csv: one line per
// prediction; a prediction that is a list becomes one field per element.
// Numbers keep their JSON text, strings are quoted when CSV needs it, null
// is an empty field. Predictions that are objects (or a top-level object)
// have no such form: the error is a 406 *Error.
func PredictionsToCSV(body []byte) ([]byte, error) {
	var doc struct {
		Predictions json.RawMessage `json:"predictions"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Predictions) == 0 {
		return nil, notAcceptable("the model's answer is not {\"predictions\": [...]}")
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(doc.Predictions, &rows); err != nil {
		return nil, notAcceptable("the model's predictions are not a list")
	}
	var out bytes.Buffer
	for _, row := range rows {
		var cells []json.RawMessage
		if len(row) > 0 && row[0] == '[' {
			if err := json.Unmarshal(row, &cells); err != nil {
				return nil, notAcceptable("malformed prediction")
			}
		} else {
			cells = []json.RawMessage{row}
		}
		for i, c := range cells {
			if i > 0 {
				out.WriteByte(',')
			}
			f, err := csvCell(c)
			if err != nil {
				return nil, err
			}
			out.Write(f)
		}
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

func csvCell(c json.RawMessage) ([]byte, error) {
	c = bytes.TrimSpace(c)
	switch {
	case len(c) == 0 || string(c) == "null":
		return nil, nil
	case c[0] == '"':
		var s string
		if err := json.Unmarshal(c, &s); err != nil {
			return nil, notAcceptable("malformed prediction")
		}
		return csvField(s), nil
	case c[0] == '{' || c[0] == '[':
		return nil, notAcceptable("the model's predictions are objects or nested lists")
	}
	return c, nil // a number or a boolean, as the model wrote it
}

func notAcceptable(why string) *Error {
	return &Error{Status: http.StatusNotAcceptable, Code: CodeBadRequest,
		Message: why + ": no text/csv form; ask for Accept: application/json"}
}
