package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Large key lists take a lighter path than the YAML library. yaml.v3 builds
// a node tree of the whole document (about 3.5 KB per key) and Parse then
// re-encodes and decodes it again: a million keys took minutes and several
// GB. When the top-level "keys:" block is a plain block sequence of a
// document of at least fastKeysMinBytes, the document is read twice:
//
//   - scanKeysBlock reads it front to back, line by line, and keeps only
//     the rest of the document (the block's lines blanked, so other errors
//     keep their line numbers), the block's extent and where every
//     chunkItems-th item starts;
//   - parseKeys reads the block's chunks again by offset, in parallel, and
//     decodes each item with readKeyFast, which understands only the common
//     shapes (plain and quoted scalars, flow lists, flow mappings with an
//     origin). Any item outside that subset goes through the YAML library on
//     its own, so the result is the same either way; only the cost differs.
//
// A file is thus never held whole (Load reads its chunks with ReadAt), and
// the strings of a chunk's keys share one allocation (keyStrings).
const fastKeysMinBytes = 256 << 10

// keysBlock is the top-level "keys:" block sequence of a document.
type keysBlock struct {
	end    int64 // the offset of the line after it
	indent int   // of the items' "-"
	count  int   // items
	// chunks start every chunkItems items, so that parseKeys can read
	// them in parallel.
	chunks []chunkStart
	seed   maphash.Seed // of the chunks' sums
}

type chunkStart struct {
	off  int64 // in the document
	line int
	// sum is the hash of the chunk's text as scanKeysBlock read it:
	// parseKeys reads it again, and a file may change in between.
	sum uint64
}

var chunkItems = 1 << 14 // a variable for tests

// errNotSimple sends a document the fast path cannot take whole to the
// YAML library.
var errNotSimple = errors.New("config: not a simple keys block")

// errChanged is a file that changed between the reads of the fast path.
var errChanged = errors.New("the file changed while it was read")

// keysSource is a document the fast path reads twice: in memory, or a
// file read with ReadAt (safe from several goroutines).
type keysSource struct {
	data []byte
	r    io.ReaderAt
	size int64
}

func (s keysSource) reader() io.Reader {
	if s.r == nil {
		return bytes.NewReader(s.data)
	}
	return io.NewSectionReader(s.r, 0, s.size)
}

// chunk returns the n bytes at off, in buf when they must be read.
func (s keysSource) chunk(off int64, n int, buf []byte) ([]byte, error) {
	if s.r == nil {
		return s.data[off : off+int64(n)], nil
	}
	buf = slices.Grow(buf[:0], n)[:n]
	if m, err := s.r.ReadAt(buf, off); m < n {
		if err == nil || err == io.EOF {
			err = errChanged
		}
		return nil, err
	}
	return buf, nil
}

func (s keysSource) all() ([]byte, error) {
	if s.r == nil {
		return s.data, nil
	}
	return s.chunk(0, int(s.size), nil)
}

// parseLarge is Parse for a document of at least fastKeysMinBytes.
func parseLarge(src keysSource, getenv func(string) string) (*Config, error) {
	rest, kb, err := scanKeysBlock(src.reader())
	var keys []Key
	if err == nil {
		keys, err = parseKeys(src, &kb, getenv)
	}
	if errors.Is(err, errNotSimple) {
		data, err := src.all()
		if err != nil {
			return nil, err
		}
		return parse(data, getenv)
	}
	if err != nil {
		return nil, err
	}
	c, err := parse(rest, getenv)
	if err != nil {
		return nil, err
	}
	c.Keys = keys
	return c, nil
}

// scanKeysBlock finds the top-level "keys:" block sequence. It returns the
// document without it (lines blanked) and the block, or errNotSimple when
// the document does not have that simple shape.
func scanKeysBlock(r io.Reader) (rest []byte, kb keysBlock, err error) {
	const (
		before = iota
		inBlock
		after
	)
	state := before
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte // a line longer than br's buffer
	var off int64
	kb.indent = -1
	kb.seed = maphash.MakeSeed()
	var sum maphash.Hash
	sum.SetSeed(kb.seed)
	endChunk := func() {
		if len(kb.chunks) > 0 {
			kb.chunks[len(kb.chunks)-1].sum = sum.Sum64()
			sum.Reset()
		}
	}
	for line := 1; ; line++ {
		l, rerr := br.ReadSlice('\n')
		if rerr == bufio.ErrBufferFull {
			long = append(long[:0], l...)
			for rerr == bufio.ErrBufferFull {
				l, rerr = br.ReadSlice('\n')
				long = append(long, l...)
			}
			l = long
		}
		if rerr != nil && rerr != io.EOF {
			return nil, kb, rerr
		}
		if len(l) == 0 {
			break
		}
		lineOff := off
		off += int64(len(l))
		text, nl := l, l[len(l)-1] == '\n'
		if nl {
			text = l[:len(l)-1]
		}
		if bytes.HasPrefix(text, []byte("---")) || line == 1 && bytes.HasPrefix(text, []byte("%")) {
			return nil, kb, errNotSimple // several documents, or directives
		}
		if state == inBlock {
			t := bytes.TrimRight(text, "\r")
			n := 0
			for n < len(t) && t[n] == ' ' {
				n++
			}
			switch {
			case n == len(t) || t[n] == '#':
				// Blank or comment-only line.
			case n == 0 && t[0] != '-':
				// The first line at column 0 with anything but "-", "#"
				// or nothing ends the block.
				state, kb.end = after, lineOff
				endChunk()
			case t[n] == '\t':
				return nil, kb, errNotSimple
			case kb.indent < 0 && t[n] != '-':
				return nil, kb, errNotSimple
			case kb.indent < 0 || n == kb.indent:
				if t[n] != '-' || (len(t) > n+1 && t[n+1] != ' ') {
					return nil, kb, errNotSimple
				}
				kb.indent = n
				if kb.count%chunkItems == 0 {
					endChunk()
					kb.chunks = append(kb.chunks, chunkStart{off: lineOff, line: line})
				}
				kb.count++
			case n < kb.indent:
				return nil, kb, errNotSimple
			}
			if state == inBlock {
				if len(kb.chunks) > 0 {
					sum.Write(l)
				}
				if nl {
					rest = append(rest, '\n')
				}
				continue
			}
		}
		if bytes.HasPrefix(text, []byte("keys:")) {
			if state != before || len(trimRightSpaceCR(text[5:])) != 0 || !nl {
				return nil, kb, errNotSimple // twice, or a value on the line (flow, alias)
			}
			state = inBlock
			rest = append(rest, '\n')
			continue
		}
		rest = append(rest, l...)
	}
	if state == inBlock {
		kb.end = off
		endChunk()
	}
	if state == before || kb.count == 0 {
		return nil, kb, errNotSimple
	}
	return rest, kb, nil
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
		} else if itemStart < 0 && len(bytes.TrimSpace(l)) > 0 && bytes.TrimSpace(l)[0] != '#' {
			return errChanged // a chunk starts with an item
		}
		off = end + 1
	}
	if itemStart >= 0 {
		return fn(data[itemStart:], itemLine)
	}
	return nil
}

// trimRightSpaceCR is bytes.TrimRight(b, " \r"), without building a set
// of the two bytes on every line.
func trimRightSpaceCR(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func isSpaces(b []byte) bool {
	for _, c := range b {
		if c != ' ' {
			return false
		}
	}
	return true
}

// mayAlias reports whether b may hold a YAML anchor or alias: an & or * at
// the start of a node, that is at the start of a line or after a space, a
// flow indicator or ":". Inside quotes ("*") and plain scalars (a*b) they
// are text. Anchors and aliases may reach across items or into the rest of
// the document, which only the YAML library reading it whole can follow.
func mayAlias(b []byte) bool {
	for _, c := range [...]byte{'&', '*'} {
		for off := 0; ; {
			i := bytes.IndexByte(b[off:], c)
			if i < 0 {
				break
			}
			i += off
			if i == 0 || strings.IndexByte(" \t\r\n[{,:-?", b[i-1]) >= 0 {
				return true
			}
			off = i + 1
		}
	}
	return false
}

// parseKeys decodes the items of a keys block: readKeyFast when it can,
// the YAML library (with ${VAR} expansion) for an item it cannot. Chunks
// of items are read in parallel, each into its own part of the result.
func parseKeys(src keysSource, kb *keysBlock, getenv func(string) string) ([]Key, error) {
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
			var ks keyStrings
			var buf []byte
			for c := range work {
				end := kb.end
				if c+1 < len(kb.chunks) {
					end = kb.chunks[c+1].off
				}
				data, err := src.chunk(kb.chunks[c].off, int(end-kb.chunks[c].off), buf)
				if err != nil {
					errs[c] = err
					continue
				}
				if src.r != nil {
					buf = data
				}
				if maphash.Bytes(kb.seed, data) != kb.chunks[c].sum {
					errs[c] = errChanged
					continue
				}
				if mayAlias(data) {
					errs[c] = errNotSimple
					continue
				}
				errs[c] = parseChunk(kb, data, kb.chunks[c].line, keys[c*chunkItems:min((c+1)*chunkItems, len(keys))], c*chunkItems, getenv, in, &ks)
			}
		})
	}
	wg.Wait()
	// errNotSimple first: the YAML library then reads the document whole,
	// and reports its errors itself.
	for _, err := range errs {
		if errors.Is(err, errNotSimple) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return keys, nil
}

func parseChunk(kb *keysBlock, data []byte, line int, keys []Key, first int, getenv func(string) string, in *interner, ks *keyStrings) error {
	ks.grow(len(keys), len(data))
	i := 0
	err := kb.each(data, line, func(item []byte, line int) error {
		if i >= len(keys) {
			return errChanged // more keys than counted
		}
		ok, err := readKeyFast(item, line, getenv, &keys[i], in, ks)
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
	ks.finish()
	if err == nil && i != len(keys) {
		err = errChanged
	}
	return err
}

// keyStrings holds the strings of one chunk's keys (ids, secrets, tenants
// the interner does not keep) in one buffer until the chunk is read, then
// makes them one string: a chunk costs one string and one []string (all
// its secrets) instead of several allocations a key. The keys' strings are
// substrings of it, which is safe: strings are immutable, and the keys of
// a config live and die together. A key's Secrets has len == cap, so an
// append copies it rather than overwrite the next key's.
type keyStrings struct {
	buf   []byte
	strs  []stringRef // fields waiting for their string
	secs  []span      // every secret of the chunk, in order
	lists []listRef   // the Secrets fields, each a run of secs
}

type span struct{ off, end int }

type stringRef struct {
	dst *string
	span
}

type listRef struct {
	dst      *[]string
	first, n int
}

type keyStringsMark struct{ buf, strs, secs, lists int }

func (ks *keyStrings) mark() keyStringsMark {
	return keyStringsMark{len(ks.buf), len(ks.strs), len(ks.secs), len(ks.lists)}
}

// rollback forgets what was added after m: a key the fast reader gave up
// on is decoded by the library instead.
func (ks *keyStrings) rollback(m keyStringsMark) {
	ks.buf, ks.strs, ks.secs, ks.lists = ks.buf[:m.buf], ks.strs[:m.strs], ks.secs[:m.secs], ks.lists[:m.lists]
}

// grow makes room for a chunk of n keys in size bytes of text: an id and
// a secret a key, a fifth of the text.
func (ks *keyStrings) grow(n, size int) {
	ks.buf = slices.Grow(ks.buf, size/5)
	ks.strs = slices.Grow(ks.strs, n)
	ks.secs = slices.Grow(ks.secs, n)
	ks.lists = slices.Grow(ks.lists, n)
}

func (ks *keyStrings) add(b []byte) span {
	off := len(ks.buf)
	ks.buf = append(ks.buf, b...)
	return span{off, len(ks.buf)}
}

// setString makes *dst b's text when the chunk is finished.
func (ks *keyStrings) setString(dst *string, b []byte) {
	ks.strs = append(ks.strs, stringRef{dst, ks.add(b)})
}

// finish fills in every field the chunk's keys wait for, and empties ks
// for the next chunk.
func (ks *keyStrings) finish() {
	s := string(ks.buf)
	for _, r := range ks.strs {
		*r.dst = s[r.off:r.end]
	}
	var all []string
	if len(ks.lists) > 0 {
		all = make([]string, len(ks.secs))
	}
	for i, sp := range ks.secs {
		all[i] = s[sp.off:sp.end]
	}
	for _, l := range ks.lists {
		*l.dst = all[l.first : l.first+l.n : l.first+l.n]
	}
	clear(ks.strs) // drop the pointers into this chunk's keys
	clear(ks.lists)
	ks.buf, ks.strs, ks.secs, ks.lists = ks.buf[:0], ks.strs[:0], ks.secs[:0], ks.lists[:0]
}

// interner shares what many keys repeat: scheme names, origins, tenants,
// and whole lists of them (a million keys often have the same schemes and
// upstreams). Shared lists have len == cap, so an append copies; their
// elements must not be changed in place (a parsed Config is read-only).
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

// setString is get for a string that may be unique to its key: once the
// interner is full, it goes with the chunk's other strings.
func (in *interner) setString(dst *string, b []byte, ks *keyStrings) {
	if s, ok := in.strs[string(b)]; ok {
		*dst = s
	} else if len(in.strs) < internMax {
		*dst = in.get(b)
	} else {
		ks.setString(dst, b)
	}
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

// readKeyFast decodes one "- key: value" item of the common shapes into k,
// which must be the zero Key (a fresh array needs no clearing, and clearing
// it while the GC runs costs write barriers), its strings kept in ks until
// the chunk is finished. It reports false, leaving k zero for the caller,
// for anything else: nested blocks, comments after values, escapes,
// null-like or typed values, unknown or repeated fields, headers, public
// keys, rate limits.
func readKeyFast(item []byte, line int, getenv func(string) string, k *Key, in *interner, ks *keyStrings) (bool, error) {
	m := ks.mark()
	ok, err := readKeyFields(item, line, getenv, k, in, ks)
	if !ok || err != nil {
		ks.rollback(m)
		*k = Key{}
	}
	return ok, err
}

func readKeyFields(item []byte, line int, getenv func(string) string, k *Key, in *interner, ks *keyStrings) (bool, error) {
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
		l = trimRightSpaceCR(l)
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
		var b []byte
		ok := true
		switch f {
		case fID:
			if b, ok, err = scalarFast(val, line, getenv); ok && err == nil {
				ks.setString(&k.ID, b)
			}
		case fTenant:
			if b, ok, err = scalarFast(val, line, getenv); ok && err == nil {
				in.setString(&k.Tenant, b, ks)
			}
		case fSecrets:
			ok, err = secretsFast(val, line, getenv, &k.Secrets, ks)
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
			if b, ok, err = scalarFast(val, line, getenv); ok && err == nil {
				if string(b) == "0" {
					k.MaxExpires = 0
				} else if d, perr := time.ParseDuration(string(b)); perr == nil {
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
// quoted' without a doubled quote, or a plain scalar that YAML reads as the same string.
// It returns the value's text, expanded; it may be a part of v.
func scalarFast(v []byte, line int, getenv func(string) string) ([]byte, bool, error) {
	var raw []byte
	switch {
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"':
		raw = v[1 : len(v)-1]
		if bytes.IndexByte(raw, '"') >= 0 || bytes.IndexByte(raw, '\\') >= 0 {
			return nil, false, nil
		}
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'':
		raw = v[1 : len(v)-1]
		if bytes.IndexByte(raw, '\'') >= 0 {
			return nil, false, nil
		}
	default:
		if !plainOK(v, false) {
			return nil, false, nil
		}
		raw = v
	}
	return expandFast(raw, line, getenv)
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

// expandFast expands ${VAR} in raw; without a "$" it returns raw itself.
func expandFast(raw []byte, line int, getenv func(string) string) ([]byte, bool, error) {
	if bytes.IndexByte(raw, '$') < 0 {
		return raw, true, nil
	}
	s, err := Expand(string(raw), getenv)
	if err != nil {
		return nil, false, fmt.Errorf("line %d: %w", line, err)
	}
	return []byte(s), true, nil
}

// flowItems returns the trimmed body of "[a, b]" (or "{a: b}") and its
// number of items; false when it is not one, or holds nested collections.
func flowItems(v []byte, open, close byte) (body []byte, n int, ok bool) {
	if len(v) < 2 || v[0] != open || v[len(v)-1] != close {
		return nil, 0, false
	}
	body = bytes.TrimSpace(v[1 : len(v)-1])
	if len(body) == 0 {
		return body, 0, true
	}
	if nestedFlow(body) {
		return nil, 0, false
	}
	return body, bytes.Count(body, []byte(",")) + 1, true
}

// nestedFlow reports whether body holds a bracket or brace other than
// those of a ${VAR} (which flowScalar accepts only in quotes).
func nestedFlow(body []byte) bool {
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '[', ']', '}':
			return true
		case '{':
			j := bytes.IndexByte(body[i:], '}')
			if i == 0 || body[i-1] != '$' || j < 0 {
				return true
			}
			i += j
		}
	}
	return false
}

// nextItem cuts the next comma-separated item off body; false when it is
// empty.
func nextItem(body []byte) (item, rest []byte, ok bool) {
	item, rest, _ = bytes.Cut(body, []byte(","))
	item = bytes.TrimSpace(item)
	return item, rest, len(item) > 0
}

func flowScalar(v []byte, line int, getenv func(string) string) ([]byte, bool, error) {
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		return scalarFast(v, line, getenv)
	}
	if !plainOK(v, true) {
		return nil, false, nil
	}
	return expandFast(v, line, getenv)
}

// secretsFast reads a flow list of secrets into *dst, by way of ks.
func secretsFast(v []byte, line int, getenv func(string) string, dst *[]string, ks *keyStrings) (bool, error) {
	body, n, ok := flowItems(v, '[', ']')
	if !ok {
		return false, nil
	}
	first := len(ks.secs)
	for range n {
		var item []byte
		if item, body, ok = nextItem(body); !ok {
			return false, nil
		}
		b, ok, err := flowScalar(item, line, getenv)
		if !ok || err != nil {
			return false, err
		}
		ks.secs = append(ks.secs, ks.add(b))
	}
	ks.lists = append(ks.lists, listRef{dst, first, n})
	return true, nil
}

// sharedListFast reads a flow list many keys repeat (schemes, algorithms):
// identical lists share one backing array, and their items are interned.
func sharedListFast(v []byte, line int, getenv func(string) string, in *interner) ([]string, bool, error) {
	if l, hit := in.lists[string(v)]; hit {
		return l, true, nil
	}
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
		b, ok, err := flowScalar(item, line, getenv)
		if !ok || err != nil {
			return nil, false, err
		}
		out[i] = in.get(b)
	}
	return in.list(v, out), true, nil
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
		o, ok, err := flowScalar(bytes.TrimSpace(val), line, getenv)
		if !ok || err != nil {
			return nil, false, err
		}
		out = append(out, Upstream{Origin: in.get(o)})
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
