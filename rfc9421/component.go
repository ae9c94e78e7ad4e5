package rfc9421

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dunglas/httpsfv"
	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/internal/keycache"
)

// component is one parsed component identifier (RFC 9421 §2).
type component struct {
	id    string // serialized identifier, e.g. `"@query-param";name="a"`
	name  string // "@method", "content-type"
	qname string // ;name= of @query-param
	key   string // ;key= of a dictionary field
	isKey bool
	sf    bool
	bs    bool
}

// baseError is a failure while building a signature base: the sentinel and
// its detail, turned into a *signet.Error once the key id is known.
type baseError struct {
	sentinel error
	detail   string
}

func (e *baseError) Error() string { return e.sentinel.Error() + ": " + e.detail }
func (e *baseError) Unwrap() error { return e.sentinel }

func malformedf(detail string) error { return &baseError{signet.ErrMalformed, detail} }

// errRepeatedParam marks a @query-param whose name occurs several times: the
// RFC forbids signing it, http-message-signatures signs every value.
var errRepeatedParam = &baseError{signet.ErrMalformed, "a covered query parameter occurs several times"}

var derived = map[string]bool{
	"@method": true, "@target-uri": true, "@authority": true, "@scheme": true,
	"@request-target": true, "@path": true, "@query": true, "@query-param": true,
}

// parseComponent checks one inner-list item of Signature-Input. id, when
// not "", is the item's serialization taken from the wire.
func parseComponent(it httpsfv.Item, id string) (component, error) {
	name, ok := it.Value.(string)
	if !ok {
		return component{}, malformedf("a component identifier is not a string")
	}
	if id == "" {
		var err error
		if id, err = httpsfv.Marshal(it); err != nil {
			return component{}, malformedf("component identifier cannot be serialized")
		}
	}
	c := component{id: id, name: name}
	if name == "" {
		return c, malformedf("empty component name")
	}
	if name == "@signature-params" {
		return c, malformedf(`"@signature-params" cannot be covered`)
	}
	if name[0] == '@' {
		if !derived[name] {
			return c, malformedf("component " + id + " does not apply to requests")
		}
	} else {
		for i := 0; i < len(name); i++ {
			if ch := name[i]; !isTchar(ch) || ('A' <= ch && ch <= 'Z') {
				return c, malformedf("component name " + quote(name) + " is not a lower-case field name")
			}
		}
	}
	if it.Params == nil {
		return c, nil
	}
	for _, p := range it.Params.Names() {
		v, _ := it.Params.Get(p)
		switch p {
		case "name":
			s, ok := v.(string)
			if !ok || name != "@query-param" {
				return c, malformedf("parameter name applies only to @query-param, as a string")
			}
			c.qname = s
		case "key":
			s, ok := v.(string)
			if !ok || name[0] == '@' {
				return c, malformedf("parameter key applies only to fields, as a string")
			}
			c.key, c.isKey = s, true
		case "sf", "bs":
			if v != true || name[0] == '@' {
				return c, malformedf("parameter " + p + " applies only to fields, as a flag")
			}
			if p == "sf" {
				c.sf = true
			} else {
				c.bs = true
			}
		case "req":
			return c, malformedf("parameter req does not apply to a request")
		case "tr":
			return c, malformedf("trailers are not supported")
		default:
			return c, malformedf("unknown component parameter " + quote(p))
		}
	}
	if name == "@query-param" && c.qname == "" {
		if _, has := it.Params.Get("name"); !has {
			return c, malformedf("@query-param needs a name parameter")
		}
	}
	if c.bs && (c.sf || c.isKey) {
		return c, malformedf("bs cannot be combined with sf or key")
	}
	return c, nil
}

// parseComponentString parses a component given by a caller: a serialized
// identifier (`"@query-param";name="a"`) or a bare name with optional
// parameters (`@method`, `x-dict;key="a"`).
func parseComponentString(s string) (component, error) {
	s = strings.TrimSpace(s)
	if s != "" && s[0] != '"' {
		name, params, _ := strings.Cut(s, ";")
		s = strconv.Quote(strings.ToLower(name))
		if params != "" {
			s += ";" + params
		}
	}
	it, err := httpsfv.UnmarshalItem([]string{s})
	if err != nil {
		return component{}, malformedf("component " + quote(s) + " is not a structured item")
	}
	return parseComponent(it, "")
}

// normalized caches normalizeComponent. What it normalizes is a
// Verifier's RequiredComponents, configuration that every request checks:
// parsing it again each time cost several allocations per component. The
// keys are configured text, never request data.
var normalized keycache.Cache[string, string]

// normalizeComponent returns the serialized identifier of a caller-given
// component, or s itself when it does not parse.
func normalizeComponent(s string) string {
	return normalized.Get(s, parseNormalized)
}

func parseNormalized(s string) string {
	c, err := parseComponentString(s)
	if err != nil {
		return s
	}
	return c.id
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// mode selects how derived components are computed.
type mode uint8

const (
	modeRFC  mode = iota // RFC 9421 as written
	modeNode             // npm http-message-signatures 1.0.6 (COMPAT.md)
)

// message is what the components of a request are derived from.
type message struct {
	r         *http.Request
	scheme    string
	host      string // as sent
	path      string // raw, "/" when empty
	query     string // raw, without "?"
	hasQuery  bool
	queryVals []queryPair // parsed lazily
	parsed    bool
}

type queryPair struct{ name, value string }

func newMessage(r *http.Request, scheme string) *message {
	m := &message{r: r, scheme: scheme}
	m.init()
	return m
}

func (m *message) init() {
	r := m.r
	if m.scheme == "" {
		switch {
		case r.URL != nil && r.URL.Scheme != "":
			m.scheme = strings.ToLower(r.URL.Scheme)
		case r.TLS != nil:
			m.scheme = "https"
		default:
			m.scheme = "http"
		}
	}
	m.host = r.Host
	if m.host == "" && r.URL != nil {
		m.host = r.URL.Host
	}
	if rt := r.RequestURI; rt != "" && rt[0] == '/' {
		m.path, m.query, m.hasQuery = strings.Cut(rt, "?")
	} else if r.URL != nil {
		m.path = r.URL.EscapedPath()
		m.query = r.URL.RawQuery
		m.hasQuery = m.query != "" || r.URL.ForceQuery
	}
	if m.path == "" {
		m.path = "/"
	}
}

// authority is the host in lower case without the scheme's default port
// (RFC 9421 §2.2.3, RFC 9110 §4.2.3).
func (m *message) authority() string {
	h := strings.ToLower(m.host)
	switch {
	case m.scheme == "https" && strings.HasSuffix(h, ":443"):
		h = h[:len(h)-4]
	case m.scheme == "http" && strings.HasSuffix(h, ":80"):
		h = h[:len(h)-3]
	}
	return h
}

// appendLines appends the line(s) of c to dst: `id: value\n`.
func (m *message) appendLines(dst []byte, c *component, md mode) ([]byte, error) {
	line := func(dst []byte, v string) []byte {
		dst = append(dst, c.id...)
		dst = append(dst, ':', ' ')
		dst = append(dst, v...)
		return append(dst, '\n')
	}
	switch c.name {
	case "@method":
		meth := m.r.Method
		if meth == "" {
			meth = http.MethodGet
		}
		// http-message-signatures upper-cases the method, but so do node's
		// HTTP clients on the wire, so the method as sent is what it signed.
		// Upper-casing here would let "post" pass for a signed "POST".
		return line(dst, meth), nil
	case "@target-uri":
		dst = append(dst, c.id...)
		dst = append(dst, ':', ' ')
		dst = append(dst, m.scheme...)
		dst = append(dst, "://"...)
		dst = append(dst, m.host...)
		dst = append(dst, m.path...)
		if m.hasQuery {
			dst = append(dst, '?')
			dst = append(dst, m.query...)
		}
		return append(dst, '\n'), nil
	case "@authority":
		return line(dst, m.authority()), nil
	case "@scheme":
		return line(dst, m.scheme), nil
	case "@request-target":
		dst = append(dst, c.id...)
		dst = append(dst, ':', ' ')
		dst = appendPath(dst, m.path, md)
		if m.hasQuery {
			dst = append(dst, '?')
			dst = appendQuery(dst, m.query, md)
		}
		return append(dst, '\n'), nil
	case "@path":
		dst = append(dst, c.id...)
		dst = append(dst, ':', ' ')
		dst = appendPath(dst, m.path, md)
		return append(dst, '\n'), nil
	case "@query":
		dst = append(dst, c.id...)
		dst = append(dst, ':', ' ', '?')
		dst = appendQuery(dst, m.query, md)
		return append(dst, '\n'), nil
	case "@query-param":
		return m.appendQueryParam(dst, c, md)
	}
	return m.appendField(dst, c)
}

func (m *message) appendQueryParam(dst []byte, c *component, md mode) ([]byte, error) {
	if !m.parsed {
		m.queryVals = parseQuery(m.query, m.queryVals[:0])
		m.parsed = true
	}
	want := formDecode(c.qname)
	n := 0
	for _, p := range m.queryVals {
		if p.name == want {
			n++
		}
	}
	if n == 0 {
		return dst, &baseError{signet.ErrMissingHeader, "covered query parameter " + quote(c.qname) + " is absent"}
	}
	if n > 1 && md == modeRFC {
		return dst, errRepeatedParam
	}
	for _, p := range m.queryVals {
		if p.name != want {
			continue
		}
		dst = append(dst, c.id...)
		dst = append(dst, ':', ' ')
		dst = appendParamEncoded(dst, p.value, md)
		dst = append(dst, '\n')
	}
	return dst, nil
}

// fieldValues returns the field lines of name; Host lives in r.Host.
func (m *message) fieldValues(name string) []string {
	h := m.r.Header
	if vs := h[http.CanonicalHeaderKey(name)]; len(vs) > 0 {
		return vs
	}
	if vs, ok := h[name]; ok && len(vs) > 0 {
		return vs
	}
	switch name {
	case "host":
		if m.host != "" {
			return []string{m.host}
		}
	case "content-length":
		// An outgoing request keeps its length in ContentLength.
		if m.r.ContentLength > 0 {
			return []string{strconv.FormatInt(m.r.ContentLength, 10)}
		}
	}
	return nil
}

func (m *message) appendField(dst []byte, c *component) ([]byte, error) {
	vs := m.fieldValues(c.name)
	if len(vs) == 0 {
		return dst, &baseError{signet.ErrMissingHeader, "covered field " + quote(c.name) + " is absent"}
	}
	dst = append(dst, c.id...)
	dst = append(dst, ':', ' ')
	switch {
	case c.bs:
		for i, v := range vs {
			if i > 0 {
				dst = append(dst, ',', ' ')
			}
			v = trimOWS(v)
			dst = append(dst, ':')
			dst = base64.StdEncoding.AppendEncode(dst, []byte(v))
			dst = append(dst, ':')
		}
	case c.isKey:
		d, err := httpsfv.UnmarshalDictionary(vs)
		if err != nil {
			return dst, malformedf("covered field " + quote(c.name) + " is not a structured dictionary")
		}
		mem, ok := d.Get(c.key)
		if !ok {
			return dst, &baseError{signet.ErrMissingHeader, "covered dictionary member " + c.id + " is absent"}
		}
		s, err := httpsfv.Marshal(mem)
		if err != nil {
			return dst, malformedf("covered field " + quote(c.name) + " cannot be serialized")
		}
		dst = append(dst, s...)
	case c.sf:
		s, err := reserialize(vs)
		if err != nil {
			return dst, malformedf("covered field " + quote(c.name) + " is not a structured field")
		}
		dst = append(dst, s...)
	default:
		for i, v := range vs {
			if i > 0 {
				dst = append(dst, ',', ' ')
			}
			dst = appendFieldValue(dst, v)
		}
	}
	return append(dst, '\n'), nil
}

// reserialize parses a structured field whose type the verifier does not
// know: a dictionary when it parses as one, else a list (an item serializes
// as a one-member list does).
func reserialize(vs []string) (string, error) {
	if d, err := httpsfv.UnmarshalDictionary(vs); err == nil {
		return httpsfv.Marshal(d)
	}
	l, err := httpsfv.UnmarshalList(vs)
	if err != nil {
		return "", err
	}
	return httpsfv.Marshal(l)
}

// appendFieldValue appends one field line, trimmed, with obsolete line
// folding replaced by a space (RFC 9421 §2.1).
func appendFieldValue(dst []byte, v string) []byte {
	v = trimOWS(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// appendPath appends the raw path; http-message-signatures signs the path of
// a WHATWG-parsed URL, which percent-encodes a few more bytes.
func appendPath(dst []byte, p string, md mode) []byte {
	if md == modeRFC {
		return append(dst, p...)
	}
	return appendEncoded(dst, p, whatwgPathEscape)
}

func appendQuery(dst []byte, q string, md mode) []byte {
	if md == modeRFC {
		return append(dst, q...)
	}
	return appendEncoded(dst, q, whatwgQueryEscape)
}

const upperhex = "0123456789ABCDEF"

// whatwgQueryEscape is the WHATWG special-query percent-encode set.
func whatwgQueryEscape(c byte) bool {
	return c <= 0x20 || c >= 0x7f || c == '"' || c == '#' || c == '<' || c == '>' || c == '\''
}

// whatwgPathEscape is the WHATWG path percent-encode set.
func whatwgPathEscape(c byte) bool {
	return c <= 0x20 || c >= 0x7f || c == '"' || c == '#' || c == '<' || c == '>' || c == '?' || c == '`' || c == '{' || c == '}'
}

func appendEncoded(dst []byte, s string, esc func(byte) bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if esc(c) {
			dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// rfcParamKeep is the complement of the application/x-www-form-urlencoded
// percent-encode set: what RFC 9421 §2.2.8 leaves literal.
func rfcParamKeep(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '*' || c == '-' || c == '.' || c == '_'
}

// nodeParamKeep is what encodeURIComponent leaves literal.
func nodeParamKeep(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-_.!~*'()", c) >= 0
}

func appendParamEncoded(dst []byte, v string, md mode) []byte {
	keep := rfcParamKeep
	if md == modeNode {
		keep = nodeParamKeep
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if keep(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperhex[c>>4], upperhex[c&15])
		}
	}
	return dst
}

// parseQuery splits a query as application/x-www-form-urlencoded (WHATWG):
// "+" is a space, invalid percent escapes stay literal, and the bytes are
// read as UTF-8 with U+FFFD for invalid sequences.
func parseQuery(q string, dst []queryPair) []queryPair {
	for q != "" {
		var part string
		part, q, _ = strings.Cut(q, "&")
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		dst = append(dst, queryPair{formDecode(name), formDecode(value)})
	}
	return dst
}

func formDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 && utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		out = utf8.AppendRune(out, r)
		b = b[n:]
	}
	return string(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.Quote(s)
}
