package rfc9421

import (
	"net/http"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/signet-dev/signet"
)

// SignatureInput is one parsed member of a Signature-Input field.
type SignatureInput struct {
	Label string

	// Components lists the covered component identifiers, serialized
	// (`"@method"`, `"@query-param";name="a"`), in signed order.
	Components []string

	Created time.Time // zero when absent
	Expires time.Time // zero when absent
	Nonce   string
	KeyID   string
	Alg     string
	Tag     string

	// Params is the serialized inner list with its parameters: the value of
	// the "@signature-params" line.
	Params string
}

// sigInput is the internal form of a Signature-Input member.
type sigInput struct {
	label       string
	comps       []component
	params      string
	created     int64
	expires     int64
	hasCreated  bool
	hasExpires  bool
	nonce       string
	keyID       string
	alg         string
	tag         string
	hasKeyIDArg bool
}

// ParseSignatureInput parses a Signature-Input field value (RFC 9421 §4.1)
// into its members, in order. Errors wrap signet.ErrMalformed.
func ParseSignatureInput(header string) ([]SignatureInput, error) {
	d, err := httpsfv.UnmarshalDictionary([]string{header})
	if err != nil {
		return nil, signet.NewError(signet.SchemeRFC9421, "", signet.ErrMalformed, "Signature-Input is not a structured dictionary")
	}
	var out []SignatureInput
	for _, label := range d.Names() {
		mem, _ := d.Get(label)
		var in sigInput
		if err := parseSigInput(label, mem, "", &in); err != nil {
			return nil, toError(err, "")
		}
		out = append(out, in.export())
	}
	return out, nil
}

func (in *sigInput) export() SignatureInput {
	s := SignatureInput{
		Label: in.label, Nonce: in.nonce, KeyID: in.keyID, Alg: in.alg, Tag: in.tag, Params: in.params,
		Components: make([]string, len(in.comps)),
	}
	for i := range in.comps {
		s.Components[i] = in.comps[i].id
	}
	if in.hasCreated {
		s.Created = time.Unix(in.created, 0).UTC()
	}
	if in.hasExpires {
		s.Expires = time.Unix(in.expires, 0).UTC()
	}
	return s
}

// maxRawItems bounds the component identifiers taken verbatim from the
// wire; a member with more is re-serialized.
const maxRawItems = 32

// parseSigInput checks one Signature-Input member: an inner list of
// component identifiers with the signature parameters. raw, when not "",
// is the member's text on the wire, known to be its serialization (see
// rawMember); else the member is serialized again. in.comps, when it has
// room, is reused for the components.
func parseSigInput(label string, mem httpsfv.Member, raw string, in *sigInput) error {
	il, ok := mem.(httpsfv.InnerList)
	if !ok {
		return malformedf("Signature-Input member " + quote(label) + " is not an inner list")
	}
	var idBuf [maxRawItems]string
	ids := idBuf[:0]
	if raw != "" {
		if !rawItems(raw, func(s string) bool {
			if len(ids) == len(idBuf) {
				return false
			}
			ids = append(ids, s)
			return true
		}) || len(ids) != len(il.Items) {
			raw, ids = "", ids[:0]
		}
	}
	params := raw
	if params == "" {
		var err error
		if params, err = httpsfv.Marshal(il); err != nil {
			return malformedf("Signature-Input member " + quote(label) + " cannot be serialized")
		}
	}
	comps := in.comps[:0] // the caller's buffer (see scratch), when large enough
	if cap(comps) < len(il.Items) {
		comps = make([]component, 0, len(il.Items))
	}
	*in = sigInput{label: label, params: params, comps: comps}
	for i, it := range il.Items {
		id := ""
		if raw != "" {
			id = ids[i]
		}
		c, err := parseComponent(it, id)
		if err != nil {
			return err
		}
		for i := range in.comps {
			if in.comps[i].id == c.id {
				return malformedf("component " + c.id + " is covered twice")
			}
		}
		in.comps = append(in.comps, c)
	}
	if il.Params == nil {
		return nil
	}
	for _, name := range il.Params.Names() {
		v, _ := il.Params.Get(name)
		switch name {
		case "created", "expires":
			n, ok := v.(int64)
			if !ok || n < 0 {
				return malformedf("parameter " + name + " is not a non-negative integer")
			}
			if name == "created" {
				in.created, in.hasCreated = n, true
			} else {
				in.expires, in.hasExpires = n, true
			}
		case "nonce", "keyid", "alg", "tag":
			s, ok := v.(string)
			if !ok {
				return malformedf("parameter " + name + " is not a string")
			}
			switch name {
			case "nonce":
				in.nonce = s
			case "keyid":
				in.keyID, in.hasKeyIDArg = s, true
			case "alg":
				in.alg = s
			case "tag":
				in.tag = s
			}
		}
		// Other parameters are signed (they are in params) but not interpreted.
	}
	return nil
}

// SignatureBase returns the signature base (RFC 9421 §2.5) of r for the
// serialized signature parameters sigParams, an inner list such as
// `("@method" "@path");created=1618884473;keyid="k"` (a Signature-Input
// member's value). It computes components as the RFC says; Verifier also
// tries http-message-signatures' variants. The scheme is r.URL.Scheme, else
// https when r.TLS is set, else http. Errors wrap signet.ErrMalformed or
// signet.ErrMissingHeader.
func SignatureBase(r *http.Request, sigParams string) ([]byte, error) {
	d, err := httpsfv.UnmarshalDictionary([]string{"a=" + strings.TrimSpace(sigParams)})
	if err != nil || len(d.Names()) != 1 {
		return nil, signet.NewError(signet.SchemeRFC9421, "", signet.ErrMalformed, "signature parameters are not an inner list")
	}
	mem, _ := d.Get("a")
	var in sigInput
	if err := parseSigInput("a", mem, "", &in); err != nil {
		return nil, toError(err, "")
	}
	b, err := appendBase(nil, newMessage(r, ""), &in, modeRFC)
	if err != nil {
		return nil, toError(err, in.keyID)
	}
	return b, nil
}

// appendBase appends the signature base of in to dst.
func appendBase(dst []byte, m *message, in *sigInput, md mode) ([]byte, error) {
	var err error
	for i := range in.comps {
		if dst, err = m.appendLines(dst, &in.comps[i], md); err != nil {
			return dst, err
		}
	}
	dst = append(dst, `"@signature-params": `...)
	return append(dst, in.params...), nil
}

// toError turns an internal error into a *signet.Error for keyID.
func toError(err error, keyID string) error {
	if be, ok := err.(*baseError); ok {
		return signet.NewError(signet.SchemeRFC9421, keyID, be.sentinel, be.detail)
	}
	return err
}
