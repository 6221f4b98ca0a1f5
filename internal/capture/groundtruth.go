package capture

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// GroundTruth is one ground-truth record in SageMaker Model Monitor's
// format: {"groundTruthData": {"data": "1", "encoding": "CSV"},
// "eventMetadata": {"eventId": "<inference id or event id>"},
// "eventVersion": "0"}.
type GroundTruth struct {
	EventID  string
	Data     []byte
	Encoding string
}

// AppendGroundTruthLine appends g as one JSON line to dst.
func AppendGroundTruthLine(dst []byte, g *GroundTruth) []byte {
	enc := g.Encoding
	if enc == "" {
		enc = EncodingCSV
	}
	dst = append(dst, `{"groundTruthData":{"data":`...)
	dst = appendStringBytes(dst, g.Data)
	dst = append(dst, `,"encoding":`...)
	dst = appendString(dst, enc)
	dst = append(dst, `},"eventMetadata":{"eventId":`...)
	dst = appendString(dst, g.EventID)
	dst = append(dst, `},"eventVersion":"0"}`...)
	return append(dst, '\n')
}

// ParseGroundTruthLine parses one ground-truth line into g; g.Data may
// alias line. Lines without an event id yield ErrMalformed.
func ParseGroundTruthLine(line []byte, g *GroundTruth) error {
	*g = GroundTruth{}
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return ErrMalformed
	}
	if exactGroundTruth(line, g) {
		return nil
	}
	*g = GroundTruth{}
	s := scanner{b: line}
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "groundTruthData":
			return s.object(func(k []byte) error {
				switch string(k) {
				case "data":
					s.ws()
					if s.i < len(s.b) && s.b[s.i] != '"' {
						// a JSON value rather than a string
						start := s.i
						if err := s.skip(); err != nil {
							return err
						}
						g.Data = s.b[start:s.i]
						if g.Encoding == "" {
							g.Encoding = EncodingJSON
						}
						return nil
					}
					v, err := s.str()
					g.Data = v
					return err
				case "encoding":
					v, err := s.str()
					g.Encoding = intern(v)
					return err
				}
				return s.skip()
			})
		case "eventMetadata":
			return s.object(func(k []byte) error {
				if string(k) == "eventId" {
					v, err := s.str()
					g.EventID = string(v)
					return err
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		*g = GroundTruth{}
		var w struct {
			GroundTruthData struct {
				Data     json.RawMessage `json:"data"`
				Encoding string          `json:"encoding"`
			} `json:"groundTruthData"`
			EventMetadata struct {
				EventID string `json:"eventId"`
			} `json:"eventMetadata"`
		}
		if err := json.Unmarshal(line, &w); err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		g.EventID, g.Encoding = w.EventMetadata.EventID, w.GroundTruthData.Encoding
		var str string
		if json.Unmarshal(w.GroundTruthData.Data, &str) == nil {
			g.Data = []byte(str)
		} else {
			g.Data = w.GroundTruthData.Data
		}
	}
	if g.EventID == "" {
		return fmt.Errorf("%w: ground truth without eventMetadata.eventId", ErrMalformed)
	}
	return nil
}

// exactGroundTruth parses a ground-truth line as AppendGroundTruthLine
// writes it (keys in its order, string values, no whitespace), reporting
// false for anything else.
func exactGroundTruth(line []byte, g *GroundTruth) bool {
	p := lineParser{b: line}
	if !p.lit(`{"groundTruthData":{"data":`) {
		return false
	}
	data, ok := p.str()
	if !ok || !p.lit(`,"encoding":`) {
		return false
	}
	enc, ok := p.str()
	if !ok || !p.lit(`},"eventMetadata":{"eventId":`) {
		return false
	}
	id, ok := p.str()
	if !ok || len(id) == 0 || !p.lit(`},"eventVersion":`) {
		return false
	}
	if _, ok = p.str(); !ok || !p.lit(`}`) || p.i != len(p.b) {
		return false
	}
	g.Data, g.Encoding, g.EventID = data, intern(enc), string(id)
	return true
}
