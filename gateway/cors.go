package gateway

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/config"
)

// cors applies the configured CORS policy. Headers are set before the
// request is verified, so that a browser can read the JSON error too.
type cors struct {
	enabled     bool
	anyOrigin   bool
	origins     map[string]bool // normalized
	anyMethod   bool
	methods     string
	anyHeader   bool
	headers     string
	expose      string
	credentials bool
	maxAge      string
}

func newCORS(c config.CORS) *cors {
	p := &cors{
		enabled:     len(c.AllowOrigins) > 0,
		anyOrigin:   slices.Contains(c.AllowOrigins, "*"),
		origins:     map[string]bool{},
		anyMethod:   slices.Contains(c.AllowMethods, "*") || len(c.AllowMethods) == 0,
		methods:     strings.Join(c.AllowMethods, ", "),
		anyHeader:   slices.Contains(c.AllowHeaders, "*"),
		headers:     strings.Join(c.AllowHeaders, ", "),
		expose:      strings.Join(c.ExposeHeaders, ", "),
		credentials: c.AllowCredentials,
	}
	for _, o := range c.AllowOrigins {
		if n, err := config.NormalizeOrigin(o); err == nil {
			p.origins[n] = true
		}
	}
	if c.MaxAge > 0 {
		p.maxAge = strconv.FormatInt(int64(c.MaxAge.D().Seconds()), 10)
	}
	return p
}

func (p *cors) allowed(origin string) bool {
	if p.anyOrigin {
		return true
	}
	n, err := config.NormalizeOrigin(origin)
	return err == nil && p.origins[n]
}

// handle sets CORS headers for a browser request and answers a preflight.
// It reports whether the request was answered.
func (p *cors) handle(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if !p.enabled || origin == "" {
		return false
	}
	h := w.Header()
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight {
		h.Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	} else if !p.anyOrigin || p.credentials {
		h.Add("Vary", "Origin")
	}
	if !p.allowed(origin) {
		if preflight {
			// Answered, without permission: the browser blocks the call.
			w.WriteHeader(http.StatusNoContent)
			return true
		}
		return false
	}
	if p.anyOrigin && !p.credentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if p.credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		if p.expose != "" {
			h.Set("Access-Control-Expose-Headers", p.expose)
		}
		return false
	}
	if p.anyMethod {
		h.Set("Access-Control-Allow-Methods", sanitizeList(r.Header.Get("Access-Control-Request-Method")))
	} else {
		h.Set("Access-Control-Allow-Methods", p.methods)
	}
	if p.anyHeader {
		// "*" would not cover Authorization: echo what was asked.
		if req := sanitizeList(r.Header.Get("Access-Control-Request-Headers")); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
	} else if p.headers != "" {
		h.Set("Access-Control-Allow-Headers", p.headers)
	}
	if p.maxAge != "" {
		h.Set("Access-Control-Max-Age", p.maxAge)
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// sanitizeList keeps a comma-separated token list that is echoed back safe:
// only token characters, commas and spaces, bounded.
func sanitizeList(s string) string {
	if len(s) > 1024 {
		s = s[:1024]
	}
	return strings.Map(func(r rune) rune {
		if r == ',' || r == ' ' || r < 0x7f && validTokenByte(byte(r)) {
			return r
		}
		return -1
	}, s)
}

func validTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
