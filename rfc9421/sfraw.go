package rfc9421

// The signature-params line and the component identifiers are, per RFC 9421
// §2.3 and §2.1, the *serialized* Signature-Input member and items. httpsfv
// parses the field (it stays the parser of record); re-serializing what it
// parsed costs a third of a verification's allocations. Real signers send
// the serialized form already, so the wire text is taken verbatim when a
// scan proves that it is in serialized form: a small grammar in which every
// accepted text is its own RFC 8941 serialization. Anything outside it
// (extra spaces, decimals, byte sequences, "=?1", leading zeros, repeated
// keys, members split across field lines) makes the caller re-serialize
// with httpsfv as before. The scan runs only on fields httpsfv accepted.

// maxRawParams bounds the parameters of one item or inner list the scan
// checks for repeats (a repeated key is overwritten by the parser, so its
// text is not the serialization); more fall back to httpsfv.Marshal.
const maxRawParams = 16

// rawScan scans s from off.
type rawScan struct {
	s   string
	off int
}

func (p *rawScan) eof() bool { return p.off >= len(p.s) }

func (p *rawScan) peek() byte {
	if p.off < len(p.s) {
		return p.s[p.off]
	}
	return 0
}

// key scans an RFC 8941 key.
func (p *rawScan) key() (string, bool) {
	start := p.off
	if c := p.peek(); !('a' <= c && c <= 'z' || c == '*') {
		return "", false
	}
	p.off++
	for !p.eof() {
		c := p.s[p.off]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.off++
	}
	return p.s[start:p.off], true
}

// bare scans a bare item whose text is its serialization: a string, a
// token, an integer without leading zeros, or ?0.
func (p *rawScan) bare() bool {
	c := p.peek()
	switch {
	case c == '"':
		p.off++
		for !p.eof() {
			c := p.s[p.off]
			p.off++
			switch {
			case c == '"':
				return true
			case c == '\\':
				if p.eof() || (p.s[p.off] != '"' && p.s[p.off] != '\\') {
					return false
				}
				p.off++
			case c < 0x20 || c > 0x7e:
				return false
			}
		}
		return false
	case c == '-' || '0' <= c && c <= '9':
		start := p.off
		if c == '-' {
			p.off++
		}
		digits := p.off
		for !p.eof() && '0' <= p.s[p.off] && p.s[p.off] <= '9' {
			p.off++
		}
		n := p.off - digits
		if n == 0 || n > 15 || (p.s[digits] == '0' && (n > 1 || digits > start)) {
			return false // empty, too long, a leading zero or -0
		}
		return p.peek() != '.' // a decimal: not taken verbatim
	case c == '?':
		if p.off+1 < len(p.s) && p.s[p.off+1] == '0' {
			p.off += 2
			return true
		}
		return false // ?1 serializes as the bare key
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '*':
		p.off++
		for !p.eof() && isTokenChar(p.s[p.off]) {
			p.off++
		}
		return true
	}
	return false // byte sequence, date, display string, or not an item
}

func isTokenChar(c byte) bool { return isTchar(c) || c == ':' || c == '/' }

// params scans parameters: ";" key ["=" bare], each key once.
func (p *rawScan) params() bool {
	var seen [maxRawParams]string
	n := 0
	for p.peek() == ';' {
		p.off++
		k, ok := p.key()
		if !ok || n == len(seen) {
			return false
		}
		for _, s := range seen[:n] {
			if s == k {
				return false
			}
		}
		seen[n] = k
		n++
		if p.peek() == '=' {
			p.off++
			if !p.bare() {
				return false
			}
		}
	}
	return true
}

// innerList scans "(" items separated by one space ")" params, and calls
// item with the text of each item.
func (p *rawScan) innerList(item func(string) bool) bool {
	if p.peek() != '(' {
		return false
	}
	p.off++
	for i := 0; ; i++ {
		if p.peek() == ')' {
			p.off++
			return p.params()
		}
		if i > 0 {
			if p.peek() != ' ' {
				return false
			}
			p.off++
		}
		start := p.off
		if !p.bare() || !p.params() {
			return false
		}
		if item != nil && !item(p.s[start:p.off]) {
			return false
		}
	}
}

func (p *rawScan) ows() {
	for !p.eof() && (p.s[p.off] == ' ' || p.s[p.off] == '\t') {
		p.off++
	}
}

// rawMember returns the text of the Signature-Input member label (its last
// occurrence, the one the parser keeps) when the whole field is in the
// scannable form and the member is in serialized form.
func rawMember(lines []string, label string) (string, bool) {
	var found string
	ok := false
	for _, line := range lines {
		p := rawScan{s: line}
		p.ows()
		for !p.eof() {
			k, isKey := p.key()
			if !isKey || p.peek() != '=' {
				return "", false
			}
			p.off++
			start := p.off
			if !p.innerList(nil) {
				return "", false
			}
			if k == label {
				found, ok = line[start:p.off], true
			}
			p.ows()
			if p.eof() {
				break
			}
			if p.peek() != ',' {
				return "", false
			}
			p.off++
			p.ows()
			if p.eof() {
				return "", false
			}
		}
	}
	return found, ok
}

// rawItems calls item with the text of each item of the serialized inner
// list s (from rawMember).
func rawItems(s string, item func(string) bool) bool {
	p := rawScan{s: s}
	return p.innerList(item) && p.eof()
}
