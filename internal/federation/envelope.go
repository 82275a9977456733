package federation

import (
	"bytes"
	"errors"
)

// envelope is the part of a TAXII envelope a pull reads.
type envelope struct {
	More    bool
	Next    string
	Objects [][]byte // each object's bytes, as served: stix.Parse checks them
}

var errEnvelope = errors.New("malformed TAXII envelope")

// parseEnvelope splits a TAXII envelope into its objects without decoding
// them: each is then parsed, strictly, by stix.Parse. It checks the JSON
// structure of everything it skips (strings, numbers, literals, nesting)
// but not the content of strings beyond their escapes, and it is bounded
// by the input: no recursion deeper than maxDepth. pprof of a catch-up
// pull showed encoding/json validating and copying every object once more
// before stix.Parse did it again.
func parseEnvelope(b []byte) (envelope, error) {
	p := &scan{b: b}
	var env envelope
	p.space()
	if !p.eat('{') {
		return envelope{}, errEnvelope
	}
	p.space()
	if p.eat('}') {
		return env, p.end()
	}
	seen := map[string]bool{}
	for {
		p.space()
		key, ok := p.str()
		if !ok || seen[string(key)] || bytes.IndexByte(key, '\\') >= 0 {
			// A member twice is ambiguous; so is an escaped name, which
			// could spell one of ours another way.
			return envelope{}, errEnvelope
		}
		seen[string(key)] = true
		p.space()
		if !p.eat(':') {
			return envelope{}, errEnvelope
		}
		p.space()
		switch string(key) {
		case `"objects"`:
			if !p.eat('[') {
				return envelope{}, errEnvelope
			}
			p.space()
			if !p.eat(']') {
				for {
					p.space()
					start := p.i
					if p.i >= len(p.b) || p.b[p.i] != '{' || !p.value(0) {
						return envelope{}, errEnvelope
					}
					env.Objects = append(env.Objects, p.b[start:p.i])
					p.space()
					if p.eat(']') {
						break
					}
					if !p.eat(',') {
						return envelope{}, errEnvelope
					}
				}
			}
		case `"more"`:
			switch {
			case p.lit("true"):
				env.More = true
			case p.lit("false"):
			default:
				return envelope{}, errEnvelope
			}
		case `"next"`:
			s, ok := p.str()
			if !ok || len(s) < 2 {
				return envelope{}, errEnvelope
			}
			for _, c := range s[1 : len(s)-1] {
				if c == '\\' {
					return envelope{}, errEnvelope // tokens are plain ASCII
				}
			}
			env.Next = string(s[1 : len(s)-1])
		default:
			if !p.value(0) {
				return envelope{}, errEnvelope
			}
		}
		p.space()
		if p.eat('}') {
			return env, p.end()
		}
		if !p.eat(',') {
			return envelope{}, errEnvelope
		}
	}
}

// maxDepth bounds nesting in skipped values.
const maxDepth = 64

type scan struct {
	b []byte
	i int
}

func (p *scan) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *scan) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *scan) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *scan) end() error {
	p.space()
	if p.i != len(p.b) {
		return errEnvelope
	}
	return nil
}

// str reads a JSON string and returns it with its quotes.
func (p *scan) str() ([]byte, bool) {
	start := p.i
	if !p.eat('"') {
		return nil, false
	}
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return p.b[start:p.i], true
		case c == '\\':
			if p.i+1 >= len(p.b) {
				return nil, false
			}
			if p.b[p.i+1] == 'u' {
				if p.i+6 > len(p.b) {
					return nil, false
				}
				for _, h := range p.b[p.i+2 : p.i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return nil, false
					}
				}
				p.i += 6
				continue
			}
			switch p.b[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
				continue
			}
			return nil, false
		case c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// value skips one JSON value, checking its structure.
func (p *scan) value(depth int) bool {
	if depth > maxDepth || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{' || c == '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		p.i++
		p.space()
		if p.eat(close) {
			return true
		}
		for {
			p.space()
			if c == '{' {
				if _, ok := p.str(); !ok {
					return false
				}
				p.space()
				if !p.eat(':') {
					return false
				}
				p.space()
			}
			if !p.value(depth + 1) {
				return false
			}
			p.space()
			if p.eat(close) {
				return true
			}
			if !p.eat(',') {
				return false
			}
		}
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	}
	return false
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *scan) number() bool {
	digits := func() int {
		n := 0
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	p.eat('-')
	if p.eat('0') {
		// no more integer digits
	} else if digits() == 0 {
		return false
	}
	if p.eat('.') && digits() == 0 {
		return false
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
