package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/sw1"
)

func benchGateway(b *testing.B) (*Gateway, *httptest.Server) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(up.Close)
	g := &Gateway{Now: func() time.Time { return t0 }}
	if err := g.Reload(baseConfig(up.URL)); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = g.Close() })
	return g, up
}

// BenchmarkVerifyPresignedProxy is the whole path: verify, policy, proxy to
// a loopback upstream (keep-alive), stream the answer back.
func BenchmarkVerifyPresignedProxy(b *testing.B) {
	g, up := benchGateway(b)
	u, err := sw1.Presign(sw1.PresignOptions{KeyID: testKey, Secret: testSecret, Gateway: "http://gw.example", Target: up.URL + "/v1/x", Time: t0})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkVerifyPresignedRejected is the gateway's cost for a bad
// signature: verify and answer, no upstream.
func BenchmarkVerifyPresignedRejected(b *testing.B) {
	g, up := benchGateway(b)
	u, err := sw1.Presign(sw1.PresignOptions{KeyID: testKey, Secret: testSecret, Gateway: "http://gw.example", Target: up.URL + "/v1/x", Time: t0})
	if err != nil {
		b.Fatal(err)
	}
	u = u[:len(u)-1] + map[bool]string{true: "1", false: "0"}[strings.HasSuffix(u, "0")]
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", u, nil))
		if rec.Code != 401 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
