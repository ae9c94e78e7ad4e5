package config

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Large key lists take a lighter path than the YAML library. yaml.v3 builds
// a node tree of the whole document (about 3.5 KB per key) and Parse then
// re-encodes and decodes it again: a million keys took minutes and several
// GB. When the top-level "keys:" block is a plain block sequence of at least
// fastKeysMinBytes, Parse cuts it out of the document (keeping the line
// count, so other errors keep their line numbers), decodes the rest as
// before, and reads each item with readKeyFast, which understands only the
// common shapes (plain and quoted scalars, flow lists, flow mappings with an
// origin). Any item outside that subset goes through the YAML library on its
// own, so the result is the same either way; only the cost differs.
const fastKeysMinBytes = 256 << 10

// keysBlock is the top-level "keys:" block sequence of a document.
type keysBlock struct {
	data   []byte // the lines after "keys:"
	line   int    // the line number of data's first line
	indent int    // of the items' "-"
	count  int    // items
	// chunks start every chunkItems items (offset into data, line), so
	// that parseKeys can read them in parallel.
	chunks []chunkStart
}

type chunkStart struct{ off, line int }

var chunkItems = 1 << 14 // a variable for tests

// splitKeysBlock finds the top-level "keys:" block sequence. It returns the
// document without it (lines blanked) and the block, or false when the
// document does not have that simple shape (the caller then decodes it
// whole).
func splitKeysBlock(data []byte) (rest []byte, kb keysBlock, ok bool) {
	if bytes.Contains(data, []byte("\n---")) || bytes.HasPrefix(data, []byte("---")) || bytes.HasPrefix(data, []byte("%")) {
		return nil, kb, false
	}
	keysAt, keysLine := -1, 0
	line := 0
	for off := 0; off < len(data); {
		line++
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		l := data[off:end]
		if bytes.HasPrefix(l, []byte("keys:")) {
			if keysAt >= 0 || len(bytes.TrimRight(l[5:], " \r")) != 0 {
				return nil, kb, false // twice, or a value on the line (flow, alias)
			}
			keysAt, keysLine = off, line
		}
		off = end + 1
	}
	if keysAt < 0 {
		return nil, kb, false
	}
	// The block: the lines after "keys:" up to the first line that starts
	// at column 0 with anything but "-", "#" or nothing.
	start := keysAt + bytes.IndexByte(data[keysAt:], '\n') + 1
	if start <= keysAt {
		return nil, kb, false
	}
	kb.indent, kb.line = -1, keysLine+1
	off := start
	line = keysLine
scan:
	for off < len(data) {
		line++
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		l := bytes.TrimRight(data[off:end], "\r")
		n := 0
		for n < len(l) && l[n] == ' ' {
			n++
		}
		switch {
		case n == len(l) || l[n] == '#':
			// Blank or comment-only line.
		case n == 0 && l[0] != '-':
			break scan
		case l[n] == '\t':
			return nil, kb, false
		case kb.indent < 0 && l[n] != '-':
			return nil, kb, false
		case kb.indent < 0 || n == kb.indent:
			if l[n] != '-' || (len(l) > n+1 && l[n+1] != ' ') {
				return nil, kb, false
			}
			kb.indent = n
			if kb.count%chunkItems == 0 {
				kb.chunks = append(kb.chunks, chunkStart{off - start, line})
			}
			kb.count++
		case n < kb.indent:
			return nil, kb, false
		}
		off = end + 1
	}
	off = min(off, len(data))
	kb.data = data[start:off]
	if bytes.ContainsAny(kb.data, "&*") {
		// Anchors and aliases may reach across items or into the rest.
		return nil, kb, false
	}
	nl := bytes.Count(data[keysAt:off], []byte("\n"))
	rest = make([]byte, 0, len(data)-(off-keysAt)+nl)
	rest = append(rest, data[:keysAt]...)
	for range nl {
		rest = append(rest, '\n')
	}
	rest = append(rest, data[off:]...)
	return rest, kb, true
}

// each calls fn with the text of each item of data (a run of whole items
// from the block, starting on line first) and the line it starts on.
func (kb *keysBlock) each(data []byte, first int, fn func(item []byte, line int) error) error {
	itemStart, itemLine, line := -1, 0, first-1
	for off := 0; off < len(data); {
		line++
		end := bytes.IndexByte(data[off:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += off
		}
		l := data[off:end]
		if len(l) > kb.indent && l[kb.indent] == '-' && (kb.indent == 0 || l[kb.indent-1] == ' ') && isSpaces(l[:kb.indent]) {
			if itemStart >= 0 {
				if err := fn(data[itemStart:off], itemLine); err != nil {
					return err
				}
			}
			itemStart, itemLine = off, line
		}
		off = end + 1
	}
	if itemStart >= 0 {
		return fn(data[itemStart:], itemLine)
	}
	return nil
}

func isSpaces(b []byte) bool {
	for _, c := range b {
		if c != ' ' {
			return false
		}
	}
	return true
}

// parseKeys decodes the items of a keys block: readKeyFast when it can,
// the YAML library (with ${VAR} expansion) for an item it cannot. Chunks
// of items are read in parallel, each into its own part of the result.
func parseKeys(kb *keysBlock, getenv func(string) string) ([]Key, error) {
	keys := make([]Key, kb.count)
	errs := make([]error, len(kb.chunks))
	work := make(chan int, len(kb.chunks))
	for c := range kb.chunks {
		work <- c
	}
	close(work)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(kb.chunks)) {
		wg.Go(func() {
			in := newInterner()
			for c := range work {
				end := len(kb.data)
				if c+1 < len(kb.chunks) {
					end = kb.chunks[c+1].off
				}
				errs[c] = parseChunk(kb, kb.data[kb.chunks[c].off:end], kb.chunks[c].line, keys[c*chunkItems:min((c+1)*chunkItems, len(keys))], c*chunkItems, getenv, in)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func parseChunk(kb *keysBlock, data []byte, line int, keys []Key, first int, getenv func(string) string, in *interner) error {
	i := 0
	return kb.each(data, line, func(item []byte, line int) error {
		if i >= len(keys) {
			return fmt.Errorf("line %d: more keys than counted", line)
		}
		ok, err := readKeyFast(item, line, getenv, &keys[i], in)
		if err != nil {
			return err
		}
		if !ok {
			var one []Key
			if err := decodeExpanded(item, getenv, &one); err != nil {
				return fmt.Errorf("keys[%d] (the item starting on line %d): %w", first+i, line, err)
			}
			if len(one) != 1 {
				return fmt.Errorf("keys[%d] (line %d): not one key", first+i, line)
			}
			keys[i] = one[0]
		}
		i++
		return nil
	})
}

// interner shares what many keys repeat: scheme names, origins, and whole
// lists of them (a million keys often have the same schemes and upstreams).
// Shared lists have len == cap, so an append copies; their elements must
// not be changed in place (a parsed Config is read-only).
type interner struct {
	strs  map[string]string
	lists map[string][]string
	ups   map[string][]Upstream
}

const internMax = 4096

func newInterner() *interner {
	return &interner{strs: map[string]string{}, lists: map[string][]string{}, ups: map[string][]Upstream{}}
}

func (in *interner) get(b []byte) string {
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.strs) < internMax {
		in.strs[s] = s
	}
	return s
}

func (in *interner) list(raw []byte, l []string) []string {
	if s, ok := in.lists[string(raw)]; ok {
		return s
	}
	if len(in.lists) < internMax {
		in.lists[string(raw)] = l
	}
	return l
}

func (in *interner) upstreams(raw []byte, u []Upstream) []Upstream {
	if s, ok := in.ups[string(raw)]; ok {
		return s
	}
	if len(in.ups) < internMax {
		in.ups[string(raw)] = u
	}
	return u
}

// readKeyFast decodes one "- key: value" item of the common shapes into k.
// It reports false, leaving k to the caller, for anything else: nested
// blocks, comments after values, escapes, null-like or typed values,
// unknown or repeated fields, headers, public keys, rate limits.
func readKeyFast(item []byte, line int, getenv func(string) string, k *Key, in *interner) (bool, error) {
	*k = Key{}
	for i, c := range item {
		if c >= 0x7f || c < 0x20 && c != '\n' && (c != '\r' || i+1 == len(item) || item[i+1] != '\n') {
			return false, nil // YAML's rules for the rest of Unicode and line breaks
		}
	}
	var seen uint16
	col := -1
	first := true
	for len(item) > 0 {
		var l []byte
		if i := bytes.IndexByte(item, '\n'); i >= 0 {
			l, item = item[:i], item[i+1:]
		} else {
			l, item = item, nil
		}
		l = bytes.TrimRight(l, " \r")
		n := 0
		for n < len(l) && l[n] == ' ' {
			n++
		}
		if first {
			// "- " then the first field; its column is every field's.
			if n+1 >= len(l) || l[n] != '-' || l[n+1] != ' ' {
				return false, nil
			}
			n++
			for n < len(l) && l[n] == ' ' {
				n++
			}
			first = false
			col = n
		} else {
			if n == len(l) {
				line++
				continue
			}
			if n != col {
				return false, nil // nested block, or a comment line
			}
		}
		l = l[n:]
		colon := bytes.Index(l, []byte(": "))
		if colon <= 0 {
			return false, nil
		}
		name, val := l[:colon], bytes.TrimLeft(l[colon+2:], " ")
		f := fieldBit(name)
		if f == 0 || seen&f != 0 {
			return false, nil
		}
		seen |= f
		var err error
		ok := true
		switch f {
		case fID:
			k.ID, ok, err = scalarFast(val, line, getenv, nil)
		case fTenant:
			k.Tenant, ok, err = scalarFast(val, line, getenv, nil)
		case fSecrets:
			k.Secrets, ok, err = listFast(val, line, getenv, nil)
		case fSchemes:
			k.Schemes, ok, err = sharedListFast(val, line, getenv, in)
		case fAlgorithms:
			k.Algorithms, ok, err = sharedListFast(val, line, getenv, in)
		case fUpstreams:
			if u, hit := in.ups[string(val)]; hit {
				k.Upstreams = u
				break
			}
			if k.Upstreams, ok, err = upstreamsFast(val, line, getenv, in); ok && err == nil {
				k.Upstreams = in.upstreams(val, k.Upstreams)
			}
		case fSingleUse:
			k.SingleUse, ok = boolFast(val)
		case fFailOpen:
			k.FailOpen, ok = boolFast(val)
		case fMaxExpires:
			var s string
			if s, ok, err = scalarFast(val, line, getenv, nil); ok && err == nil {
				if s == "0" {
					k.MaxExpires = 0
				} else if d, perr := time.ParseDuration(s); perr == nil {
					k.MaxExpires = Duration(d)
				} else {
					ok = false // the library's message
				}
			}
		}
		if err != nil || !ok {
			return false, err
		}
		line++
	}
	return !first, nil
}

const (
	fID uint16 = 1 << iota
	fTenant
	fSecrets
	fSchemes
	fAlgorithms
	fUpstreams
	fSingleUse
	fFailOpen
	fMaxExpires
)

func fieldBit(name []byte) uint16 {
	switch string(name) {
	case "id":
		return fID
	case "tenant":
		return fTenant
	case "secrets":
		return fSecrets
	case "schemes":
		return fSchemes
	case "algorithms":
		return fAlgorithms
	case "upstreams":
		return fUpstreams
	case "single_use":
		return fSingleUse
	case "fail_open":
		return fFailOpen
	case "max_expires":
		return fMaxExpires
	}
	return 0
}

func boolFast(v []byte) (bool, bool) {
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// scalarFast reads a whole value: "double quoted" without escapes, 'single
// quoted' without ”, or a plain scalar that YAML reads as the same string.
func scalarFast(v []byte, line int, getenv func(string) string, in *interner) (string, bool, error) {
	var raw []byte
	switch {
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		raw = v[1 : len(v)-1]
		if bytes.ContainsAny(raw, "\"\\") {
			return "", false, nil
		}
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		raw = v[1 : len(v)-1]
		if bytes.IndexByte(raw, '\'') >= 0 {
			return "", false, nil
		}
	default:
		if !plainOK(v, false) {
			return "", false, nil
		}
		raw = v
	}
	return expandFast(raw, line, getenv, in)
}

// plainOK accepts the plain scalars that surely mean their text: letters,
// digits and a few safe punctuation characters (in a block value also
// spaces and the braces of ${VAR}), no indicator at the start, no ": " or
// " #", not null-like. Anything else is left to the YAML library.
func plainOK(v []byte, flow bool) bool {
	if len(v) == 0 || v[len(v)-1] == ':' {
		return false
	}
	if c := v[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '/' || c == '$') {
		return false
	}
	for i, c := range v {
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
		case strings.IndexByte("-_./+=@~^$", c) >= 0:
		case c == ':':
			if i+1 < len(v) && (v[i+1] == ' ' || v[i+1] == ',') {
				return false
			}
		case !flow && (c == '{' || c == '}'):
		case !flow && c == ' ':
			if i+1 < len(v) && v[i+1] == '#' {
				return false
			}
		default:
			return false
		}
	}
	switch string(v) {
	case "null", "Null", "NULL":
		return false
	}
	return true
}

func expandFast(raw []byte, line int, getenv func(string) string, in *interner) (string, bool, error) {
	if bytes.IndexByte(raw, '$') >= 0 {
		s, err := Expand(string(raw), getenv)
		if err != nil {
			return "", false, fmt.Errorf("line %d: %w", line, err)
		}
		return s, true, nil
	}
	if in != nil {
		return in.get(raw), true, nil
	}
	return string(raw), true, nil
}

// flowItems returns the trimmed items of "[a, b]" (or "{a: b}") one by
// one; false when it is not one, or holds nested collections or empty
// items. n is the number of items.
func flowItems(v []byte, open, close byte) (body []byte, n int, ok bool) {
	if len(v) < 2 || v[0] != open || v[len(v)-1] != close {
		return nil, 0, false
	}
	body = bytes.TrimSpace(v[1 : len(v)-1])
	if len(body) == 0 {
		return body, 0, true
	}
	if bytes.ContainsAny(body, "[]{}") {
		return nil, 0, false
	}
	return body, bytes.Count(body, []byte(",")) + 1, true
}

// nextItem cuts the next comma-separated item off body.
func nextItem(body []byte) (item, rest []byte, ok bool) {
	item, rest, _ = bytes.Cut(body, []byte(","))
	item = bytes.TrimSpace(item)
	return item, rest, len(item) > 0
}

func flowScalar(v []byte, line int, getenv func(string) string, in *interner) (string, bool, error) {
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		return scalarFast(v, line, getenv, in)
	}
	if !plainOK(v, true) {
		return "", false, nil
	}
	return expandFast(v, line, getenv, in)
}

func listFast(v []byte, line int, getenv func(string) string, in *interner) ([]string, bool, error) {
	body, n, ok := flowItems(v, '[', ']')
	if !ok {
		return nil, false, nil
	}
	out := make([]string, n)
	for i := range out {
		var item []byte
		if item, body, ok = nextItem(body); !ok {
			return nil, false, nil
		}
		s, ok, err := flowScalar(item, line, getenv, in)
		if !ok || err != nil {
			return nil, false, err
		}
		out[i] = s
	}
	return out, true, nil
}

// sharedListFast is listFast for lists many keys repeat (schemes,
// algorithms): identical lists share one backing array.
func sharedListFast(v []byte, line int, getenv func(string) string, in *interner) ([]string, bool, error) {
	if l, hit := in.lists[string(v)]; hit {
		return l, true, nil
	}
	l, ok, err := listFast(v, line, getenv, in)
	if ok && err == nil {
		l = in.list(v, l)
	}
	return l, ok, err
}

// upstreamsFast reads "[{origin: X}, ...]": one field per mapping.
func upstreamsFast(v []byte, line int, getenv func(string) string, in *interner) ([]Upstream, bool, error) {
	if len(v) < 2 || v[0] != '[' || v[len(v)-1] != ']' {
		return nil, false, nil
	}
	body := bytes.TrimSpace(v[1 : len(v)-1])
	if len(body) == 0 {
		return []Upstream{}, true, nil
	}
	out := make([]Upstream, 0, bytes.Count(body, []byte("{")))
	for len(body) > 0 {
		if body[0] != '{' {
			return nil, false, nil
		}
		end := bytes.IndexByte(body, '}')
		if end < 0 {
			return nil, false, nil
		}
		field, n, ok := flowItems(body[:end+1], '{', '}')
		if !ok || n != 1 {
			return nil, false, nil
		}
		name, val, found := bytes.Cut(field, []byte(":"))
		if !found || string(bytes.TrimSpace(name)) != "origin" || len(val) == 0 || val[0] != ' ' {
			return nil, false, nil
		}
		o, ok, err := flowScalar(bytes.TrimSpace(val), line, getenv, in)
		if !ok || err != nil {
			return nil, false, err
		}
		out = append(out, Upstream{Origin: o})
		body = bytes.TrimSpace(body[end+1:])
		if len(body) > 0 {
			if body[0] != ',' {
				return nil, false, nil
			}
			body = bytes.TrimSpace(body[1:])
			if len(body) == 0 {
				return nil, false, nil
			}
		}
	}
	return out, true, nil
}
