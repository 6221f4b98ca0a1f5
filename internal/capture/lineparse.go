package capture

import (
	"encoding/base64"
	"encoding/binary"
	"math/bits"
	"strings"
	"time"
	"unicode/utf8"
)

// lineParser is a parser specialised for SageMaker's capture-line layout:
//
//	{"captureData":{"endpointInput":{"observedContentType":..,"mode":..,"data":..,"encoding":..},
//	 "endpointOutput":{..}},"eventMetadata":{"eventId":..,"inferenceId":..,"inferenceTime":..},
//	 "eventVersion":"0"}
//
// It accepts exactly the keys of that layout (spelt exactly, each at most
// once, in any order, with optional whitespace), string values only, and
// strings that encoding/json would read back unchanged (no raw control
// characters, valid UTF-8, no surrogate escapes). Anything else makes it
// give up, and the caller falls back to encoding/json, so the result of a
// successful fast parse is always the one encoding/json would give.
// Unescaped strings and decoded BASE64 payloads go to the Event's scratch
// buffer, reused from line to line; other values alias the line.
type lineParser struct {
	b       []byte
	i       int
	scratch []byte
}

// fastLine parses line (trimmed, starting with '{') into e, reporting false
// if the line needs the general decoder.
func fastLine(line []byte, e *Event) bool {
	p := lineParser{b: line, scratch: e.scratch[:0]}
	ok := p.exact(e)
	if !ok {
		// Same layout with other key orders or whitespace.
		e.Input, e.Output, e.InferenceTime, e.eventID, e.inferenceID = nil, nil, time.Time{}, nil, nil
		p = lineParser{b: line, scratch: p.scratch[:0]}
		ok = p.top(e)
	}
	e.scratch = p.scratch[:0]
	return ok && (e.Input != nil || e.Output != nil)
}

// lit consumes s if the input continues with it.
func (p *lineParser) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// exact parses the line as AppendLine writes it: keys in its order, no
// whitespace. It is the common case, checked with a few comparisons of
// literal key runs instead of a key lookup per member.
func (p *lineParser) exact(e *Event) bool {
	if !p.lit(`{"captureData":{`) {
		return false
	}
	if p.lit(`"endpointInput":`) {
		e.in = Payload{}
		e.Input = &e.in
		if !p.exactPayload(&e.in) {
			return false
		}
		if !p.lit(`,`) {
			goto meta
		}
	}
	if !p.lit(`"endpointOutput":`) {
		return false
	}
	e.out = Payload{}
	e.Output = &e.out
	if !p.exactPayload(&e.out) {
		return false
	}
meta:
	if !p.lit(`},"eventMetadata":{"eventId":`) {
		return false
	}
	v, ok := p.str()
	if !ok {
		return false
	}
	e.eventID = v
	if p.lit(`,"inferenceId":`) {
		if e.inferenceID, ok = p.str(); !ok {
			return false
		}
	}
	if !p.lit(`,"inferenceTime":`) {
		return false
	}
	if v, ok = p.str(); !ok {
		return false
	}
	e.InferenceTime = parseTimeBytes(v)
	if !p.lit(`},"eventVersion":`) {
		return false
	}
	if _, ok = p.str(); !ok || !p.lit(`}`) {
		return false
	}
	return p.i == len(p.b)
}

func (p *lineParser) exactPayload(pl *Payload) bool {
	if !p.lit(`{"observedContentType":`) {
		return false
	}
	v, ok := p.str()
	if !ok || !p.lit(`,"mode":`) {
		return false
	}
	pl.ContentType = intern(v)
	if v, ok = p.str(); !ok || !p.lit(`,"data":`) {
		return false
	}
	pl.Mode = intern(v)
	raw, ok := p.str()
	if !ok || !p.lit(`,"encoding":`) {
		return false
	}
	if v, ok = p.str(); !ok || !p.lit(`}`) {
		return false
	}
	pl.Encoding = intern(v)
	return p.setData(pl, raw)
}

func (p *lineParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte1 consumes c (after optional whitespace).
func (p *lineParser) byte1(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// members scans an object's members: key gets each key (without escapes)
// with the parser at its value. It reports false on any syntax the fast
// path does not take.
func (p *lineParser) members(key func(k []byte) bool) bool {
	if !p.byte1('{') {
		return false
	}
	if p.byte1('}') {
		return true
	}
	for {
		if !p.byte1('"') {
			return false
		}
		start := p.i
		q := quoteOrBackslash(p.b[start:])
		if q < 0 || p.b[start+q] != '"' {
			return false
		}
		k := p.b[start : start+q]
		p.i = start + q + 1
		if !p.byte1(':') || !key(k) {
			return false
		}
		if p.byte1(',') {
			continue
		}
		return p.byte1('}')
	}
}

func (p *lineParser) top(e *Event) bool {
	var seen uint8
	once := func(bit uint8) bool {
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	}
	if !p.members(func(k []byte) bool {
		switch string(k) {
		case "captureData":
			return once(1) && p.captureData(e)
		case "eventMetadata":
			return once(2) && p.metadata(e)
		case "eventVersion":
			_, ok := p.str()
			return once(4) && ok
		}
		return false
	}) {
		return false
	}
	p.ws()
	return p.i == len(p.b)
}

func (p *lineParser) captureData(e *Event) bool {
	return p.members(func(k []byte) bool {
		switch string(k) {
		case "endpointInput":
			if e.Input != nil {
				return false
			}
			e.in = Payload{}
			e.Input = &e.in
			return p.payload(&e.in)
		case "endpointOutput":
			if e.Output != nil {
				return false
			}
			e.out = Payload{}
			e.Output = &e.out
			return p.payload(&e.out)
		}
		return false
	})
}

func (p *lineParser) payload(pl *Payload) bool {
	var seen uint8
	var raw []byte
	ok := p.members(func(k []byte) bool {
		var bit uint8
		switch string(k) {
		case "observedContentType":
			bit = 1
		case "mode":
			bit = 2
		case "data":
			bit = 4
		case "encoding":
			bit = 8
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		v, ok := p.str()
		if !ok {
			return false
		}
		switch bit {
		case 1:
			pl.ContentType = intern(v)
		case 2:
			pl.Mode = intern(v)
		case 4:
			raw = v
		case 8:
			pl.Encoding = intern(v)
		}
		return true
	})
	if !ok {
		return false
	}
	return p.setData(pl, raw)
}

// setData sets the payload's data from its raw string, decoding BASE64.
func (p *lineParser) setData(pl *Payload, raw []byte) bool {
	if raw == nil {
		raw = p.b[:0:0] // as encoding/json: an absent data is empty, not nil
	}
	if pl.Encoding == EncodingBase64 || strings.EqualFold(pl.Encoding, EncodingBase64) {
		off := len(p.scratch)
		n := base64.StdEncoding.DecodedLen(len(raw))
		p.scratch = grow(p.scratch, n)
		m, err := base64.StdEncoding.Decode(p.scratch[off:off+n], raw)
		if err != nil {
			return false
		}
		p.scratch = p.scratch[:off+m]
		pl.Data = p.scratch[off : off+m : off+m]
		return true
	}
	pl.Data = raw
	return true
}

func (p *lineParser) metadata(e *Event) bool {
	var seen uint8
	return p.members(func(k []byte) bool {
		var bit uint8
		switch string(k) {
		case "eventId":
			bit = 1
		case "inferenceId":
			bit = 2
		case "inferenceTime":
			bit = 4
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		v, ok := p.str()
		if !ok {
			return false
		}
		switch bit {
		case 1:
			e.eventID = v
		case 2:
			e.inferenceID = v
		case 4:
			e.InferenceTime = parseTimeBytes(v)
		}
		return true
	})
}

// str scans a string value; the result aliases the line unless the string
// had escapes (then it is in the scratch buffer).
func (p *lineParser) str() ([]byte, bool) {
	if !p.byte1('"') {
		return nil, false
	}
	start := p.i
	for j := start; ; {
		k := jsonSpecial(p.b[j:])
		if k < 0 {
			return nil, false
		}
		j += k
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return p.b[start:j:j], true
		case c == '\\':
			return p.escaped(start, j)
		case c < 0x20:
			return nil, false
		default:
			r, size := utf8.DecodeRune(p.b[j:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			j += size
		}
	}
}

// escaped unescapes the string that started at start and has its first
// backslash at j into the scratch buffer.
func (p *lineParser) escaped(start, j int) ([]byte, bool) {
	off := len(p.scratch)
	p.scratch = append(p.scratch, p.b[start:j]...)
	b := p.b
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			p.i = j + 1
			return p.scratch[off:len(p.scratch):len(p.scratch)], true
		case c == '\\':
			if j+1 >= len(b) {
				return nil, false
			}
			switch b[j+1] {
			case '"', '\\', '/':
				p.scratch = append(p.scratch, b[j+1])
			case 'b':
				p.scratch = append(p.scratch, '\b')
			case 'f':
				p.scratch = append(p.scratch, '\f')
			case 'n':
				p.scratch = append(p.scratch, '\n')
			case 'r':
				p.scratch = append(p.scratch, '\r')
			case 't':
				p.scratch = append(p.scratch, '\t')
			case 'u':
				if j+6 > len(b) {
					return nil, false
				}
				r := rune(0)
				for _, h := range b[j+2 : j+6] {
					switch {
					case h >= '0' && h <= '9':
						h -= '0'
					case h >= 'a' && h <= 'f':
						h -= 'a' - 10
					case h >= 'A' && h <= 'F':
						h -= 'A' - 10
					default:
						return nil, false
					}
					r = r<<4 | rune(h)
				}
				if r >= 0xd800 && r < 0xe000 {
					return nil, false // surrogates: left to encoding/json
				}
				p.scratch = utf8.AppendRune(p.scratch, r)
				j += 6
				continue
			default:
				return nil, false
			}
			j += 2
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			k := jsonSpecial(b[j:])
			if k < 0 {
				return nil, false
			}
			p.scratch = append(p.scratch, b[j:j+k]...)
			j += k
		default:
			r, size := utf8.DecodeRune(b[j:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			p.scratch = append(p.scratch, b[j:j+size]...)
			j += size
		}
	}
	return nil, false
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), 2*cap(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

// jsonSpecial returns the index of the first byte in b that a JSON string
// scanner must look at ('"', '\\', a control character or a non-ASCII
// byte), or -1. It tests eight bytes per step, as quoteOrBackslash does.
func jsonSpecial(b []byte) int {
	const (
		ones   = 0x0101010101010101
		highs  = 0x8080808080808080
		quote  = 0x2222222222222222
		bslash = 0x5c5c5c5c5c5c5c5c
		space  = 0x2020202020202020
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, s := x^quote, x^bslash
		if m := ((q-ones)&^q | (s-ones)&^s | (x-space)&^x | x) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return i
		}
	}
	return -1
}
