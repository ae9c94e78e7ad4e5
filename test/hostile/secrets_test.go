package hostile_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
	"github.com/signet-dev/signet/config"
	"github.com/signet-dev/signet/gateway"
	"github.com/signet-dev/signet/sw1"
)

// TestInjectedHeaderNeverFromClient: whatever case and however many
// copies a client sends of a header the gateway injects, the upstream sees
// exactly the configured value, for pre-signed URLs and routes alike.
func TestInjectedHeaderNeverFromClient(t *testing.T) {
	e := newEnv(t)
	forge := func(r *http.Request) {
		for _, name := range []string{"authorization", "AUTHORIZATION", "x-api-key", "X-API-KEY", "X-Api-Key"} {
			// Direct map writes keep the case and the duplicates.
			r.Header[name] = append(r.Header[name], "client-forged-1", "client-forged-2")
		}
	}
	tests := []struct {
		name string
		req  func() *http.Request
		want map[string]string
	}{
		{"sw1", func() *http.Request {
			r := e.newReq("GET", e.presign("/x", nil), "")
			forge(r)
			return r
		}, map[string]string{"Authorization": injectedAuth, "X-Api-Key": injectedAPIKey}},
		{"reqsig route", func() *http.Request {
			r := e.newReq("GET", e.url+"/rs/x", "")
			forge(r)
			r.Header.Del("Authorization")
			return e.sign(r, reqsigApp)
		}, map[string]string{"Authorization": injectedAuth, "X-Api-Key": injectedAPIKey}},
		{"cavage route", func() *http.Request {
			r := e.newReq("GET", e.url+"/cav/x", "")
			forge(r)
			r.Header.Del("Authorization")
			return e.sign(r, cavageApp)
		}, map[string]string{"Authorization": injectedAuth, "X-Api-Key": injectedAPIKey}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			req := tt.req()
			rid := "inject-" + strings.ReplaceAll(tt.name, " ", "-") + "-" + string(rune('a'+i))
			req.Header.Set("X-Request-Id", rid)
			res, err := e.do(req)
			if err != nil || res.status != 200 {
				t.Fatalf("%d %v %s", res.status, err, res.body)
			}
			var got *http.Request
			for _, r := range e.upLog.all() {
				if r.Header.Get("X-Request-Id") == rid {
					got = r
				}
			}
			if got == nil {
				t.Fatal("the upstream did not see the request")
			}
			for name, want := range tt.want {
				if vs := got.Header.Values(name); len(vs) != 1 || vs[0] != want {
					t.Errorf("%s upstream = %q, want only the injected value", name, vs)
				}
			}
			for k, vs := range got.Header {
				for _, v := range vs {
					if strings.Contains(v, "client-forged") {
						t.Errorf("client copy reached the upstream: %s: %q", k, v)
					}
				}
			}
		})
	}
}

// acceptAll verifies anything as key "open" with a fixed target: the
// gateway's own target checks are then all that stands.
type acceptAll struct{ target string }

func (a acceptAll) Verify(ctx context.Context, r *http.Request, keys signet.KeyStore) (*signet.Verified, error) {
	k, err := keys.Key(ctx, "open")
	if err != nil {
		return nil, err
	}
	return &signet.Verified{Scheme: signet.SchemeSW1, KeyID: "open", Key: k, Target: a.target, SignedAt: t0, ExpiresAt: t0.Add(time.Minute)}, nil
}

// TestTargetSchemes: even if a verifier let a signed X-Sw-Proxy with a
// dangerous scheme or userinfo through, the gateway refuses it before any
// dial.
func TestTargetSchemes(t *testing.T) {
	cfg, err := config.Parse([]byte(configYAML(t, "http://127.0.0.1:1")), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"file:///etc/passwd", "gopher://127.0.0.1:25/_HELO", "http://user:pw@93.184.216.34/", "data:text/plain,x",
		"javascript:alert(1)", "ftp://93.184.216.34/", "//93.184.216.34/", "/relative", "http://[::1", "http://93.184.216.34:99999/"} {
		t.Run(target, func(t *testing.T) {
			dials := &dialLog{}
			g := &gateway.Gateway{Now: func() time.Time { return t0 }, DialControl: dials.control, Logger: slog.New(slog.DiscardHandler),
				NewVerifier: func(scheme string, cfg *config.Config, rc *config.Route) (signet.Verifier, error) {
					return acceptAll{target}, nil
				}}
			if err := g.Reload(cfg); err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, httptest.NewRequest("GET", "/?X-Sw-Signature=00&X-Sw-Proxy=x", nil))
			if rec.Code != 400 && rec.Code != 403 {
				t.Errorf("status %d, want 400 or 403: %s", rec.Code, rec.Body)
			}
			if d := dials.since(0); len(d) > 0 {
				t.Errorf("dialed %q", d)
			}
		})
	}
}

// TestConstantTimeComparison proves, at the source level, that every
// scheme compares signatures (and digests) with hmac.Equal or
// subtle.ConstantTimeCompare and never with ==, != or bytes.Equal. The
// schemes call crypto/hmac and crypto/subtle directly rather than through a
// shared function, so a counting hook would need edits in the hot path of
// every package; parsing their source checks every comparison, including
// paths no test exercises.
//
// A comparison is suspect when an operand's name says it holds a
// signature, MAC or digest; nil checks, length checks and constants are
// not comparisons of secret-derived bytes.
func TestConstantTimeComparison(t *testing.T) {
	suspect := regexp.MustCompile(`(?i)(sig|mac|digest|sum|hash|want|got|expect|computed)`)
	// Reviewed exceptions: file, function, why.
	allowed := map[string]string{
		"rfc9421/verify.go:nodeBase": "compares two signature bases built from the request, not a signature",
		"rfc9421/component.go:want":  "compares query parameter names",
		"cavage/digest.go:want256":   "compares two Digest values the client sent, to detect a conflict",
		"cavage/digest.go:want512":   "compares two Digest values the client sent, to detect a conflict",
		"sigv4/verify.go:hash":       "compares payload hashes the client claimed, to skip a candidate already tried",
	}
	root := filepath.Join("..", "..")
	for _, pkg := range []string{"sw1", "reqsig", "cavage", "rfc9421", "sigv4"} {
		t.Run(pkg, func(t *testing.T) {
			files, _ := filepath.Glob(filepath.Join(root, pkg, "*.go"))
			fset := token.NewFileSet()
			constantTime := 0
			// Package constants (kindHMAC, emptySHA256) are not secrets.
			consts := map[string]bool{}
			for _, f := range files {
				file, err := parser.ParseFile(fset, f, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range file.Decls {
					if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.CONST {
						for _, sp := range g.Specs {
							for _, n := range sp.(*ast.ValueSpec).Names {
								consts[n.Name] = true
							}
						}
					}
				}
			}
			isConst := func(e ast.Expr) bool {
				if id, ok := e.(*ast.Ident); ok {
					return consts[id.Name]
				}
				return false
			}
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") {
					continue
				}
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				file, err := parser.ParseFile(fset, f, src, 0)
				if err != nil {
					t.Fatal(err)
				}
				rel := pkg + "/" + filepath.Base(f) + ":"
				ast.Inspect(file, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.CallExpr:
						name := callName(n)
						switch name {
						case "hmac.Equal", "subtle.ConstantTimeCompare":
							constantTime++
						case "bytes.Equal", "bytes.Compare", "strings.EqualFold", "strings.Compare", "reflect.DeepEqual", "slices.Equal":
							for _, a := range n.Args {
								if id := operandName(a); id != "" && suspect.MatchString(id) {
									if _, ok := allowed[rel+id]; ok {
										continue
									}
									t.Errorf("%s: %s on %s: use hmac.Equal or subtle.ConstantTimeCompare", fset.Position(n.Pos()), name, id)
								}
							}
						}
					case *ast.BinaryExpr:
						if n.Op != token.EQL && n.Op != token.NEQ {
							return true
						}
						if trivial(n.X) || trivial(n.Y) || isConst(n.X) || isConst(n.Y) {
							return true
						}
						for _, side := range []ast.Expr{n.X, n.Y} {
							if id := operandName(side); id != "" && suspect.MatchString(id) && isByteish(side) {
								if _, ok := allowed[rel+id]; ok {
									continue
								}
								t.Errorf("%s: %s compared with %s: use hmac.Equal or subtle.ConstantTimeCompare", fset.Position(n.Pos()), id, n.Op)
							}
						}
					}
					return true
				})
			}
			if constantTime == 0 {
				t.Errorf("no hmac.Equal or subtle.ConstantTimeCompare in %s: how are signatures compared?", pkg)
			}
			t.Logf("%s: %d constant-time comparisons", pkg, constantTime)
		})
	}
}

func callName(c *ast.CallExpr) string {
	if s, ok := c.Fun.(*ast.SelectorExpr); ok {
		if x, ok := s.X.(*ast.Ident); ok {
			return x.Name + "." + s.Sel.Name
		}
	}
	return ""
}

// operandName is the identifier an expression is about: x, x.f, x[:], x[i:j],
// string(x).
func operandName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.SliceExpr:
		return operandName(e.X)
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "string" || id.Name == "[]byte") && len(e.Args) == 1 {
			return operandName(e.Args[0])
		}
		if callName(e) == "hex.EncodeToString" || callName(e) == "base64.StdEncoding.EncodeToString" {
			return operandName(e.Args[0])
		}
	}
	return ""
}

// trivial operands make a comparison harmless: nil, literals, len(...),
// constants by convention (upper-case initial).
func trivial(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil" || e.Name == "true" || e.Name == "false" || (e.Name != "" && e.Name[0] >= 'A' && e.Name[0] <= 'Z')
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "len" || id.Name == "cap") {
			return true
		}
	case *ast.SelectorExpr:
		// pkg.Const
		if _, ok := e.X.(*ast.Ident); ok && e.Sel.Name != "" && e.Sel.Name[0] >= 'A' && e.Sel.Name[0] <= 'Z' {
			return true
		}
	}
	return false
}

// isByteish: slices and conversions; an index expression (one byte) or a
// struct field comparison of small values is not a signature compare.
func isByteish(e ast.Expr) bool {
	switch e.(type) {
	case *ast.IndexExpr:
		return false
	}
	return true
}

var _ = sw1.Algorithm
