package hostile_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet"
)

// TestHostile sends every hostile request of the table to a running
// gateway and checks the answer: the expected status and reason code, never
// a 5xx (except where the test's dial hook refuses a public address), no
// hang, nothing secret or injected echoed, and nothing forwarded upstream
// unless the request was valid. It then scans everything the gateway
// emitted (debug logs, /metrics) for secrets, injected values and
// signatures.
func TestHostile(t *testing.T) {
	e := newEnv(t)
	cases := allCases()
	if len(cases) < 80 {
		t.Fatalf("only %d hostile cases; the issue asks for at least 80", len(cases))
	}
	t.Logf("%d hostile cases", len(cases))
	seen := map[string]bool{}
	var emitted strings.Builder
	for i, c := range cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			// Build first: some builders make requests of their own.
			var req *http.Request
			var raw []byte
			var half bool
			if c.raw != nil {
				raw, half = c.raw(e)
			} else {
				req = c.req(e)
				req.Header.Set("X-Request-Id", "hostile-"+strconv.Itoa(i))
			}
			dialsBefore := e.dials.len()
			var res result
			var err error
			start := time.Now()
			if raw != nil {
				res, err = e.raw(raw, half)
			} else {
				res, err = e.do(req)
			}
			if err != nil {
				t.Fatalf("no answer (hang, reset or timeout after %v): %v", time.Since(start).Round(time.Millisecond), err)
			}
			emitted.WriteString(dump(res))
			checkStatus(t, c, res)
			checkLeaks(t, e, res)

			// Requests refused while their body streams may reach the
			// upstream late: attribute them by request id.
			time.Sleep(time.Millisecond)
			var ups []*http.Request
			for _, r := range e.upLog.all() {
				if rid := res.header.Get("X-Request-Id"); rid != "" && r.Header.Get("X-Request-Id") == rid {
					ups = append(ups, r)
				}
			}
			if res.status != 200 && !c.mayReachUpstream && len(ups) > 0 {
				t.Errorf("a refused request reached the upstream: %s %s", ups[0].Method, ups[0].URL)
			}
			for _, r := range ups {
				checkForwarded(t, r)
			}
			dials := e.dials.since(dialsBefore)
			for _, d := range dials {
				if !strings.HasPrefix(d, "127.0.0.1:") && d != c.dialed {
					t.Errorf("the guard let %s through to the dialer", d)
				}
			}
			if c.dialed != "" && !slices.Contains(dials, c.dialed) {
				t.Errorf("dials %q, want %s recorded by the hook", dials, c.dialed)
			}
		})
	}
	e.t = t

	t.Run("nothing secret emitted", func(t *testing.T) {
		metrics, err := e.do(mustReq(t, e.url+"/metrics"))
		if err != nil || metrics.status != 200 {
			t.Fatalf("/metrics: %d %v", metrics.status, err)
		}
		// Let the last request lines land.
		time.Sleep(50 * time.Millisecond)
		logs := e.logs.String()
		if !strings.Contains(logs, `"level":"DEBUG"`) && !strings.Contains(logs, `"outcome":"signature_mismatch"`) {
			t.Errorf("the debug log looks empty:\n%.500s", logs)
		}
		sigs := e.sigs.list()
		if len(sigs) < 40 {
			t.Errorf("only %d signatures collected: the scan would prove little", len(sigs))
		}
		for name, text := range map[string]string{"logs": logs, "metrics": string(metrics.body), "responses": emitted.String()} {
			for _, s := range e.forbiddenStrings() {
				if strings.Contains(text, s) {
					i := strings.Index(text, s)
					t.Errorf("%s contain %q: ...%s...", name, s, text[max(0, i-200):min(len(text), i+len(s)+50)])
				}
			}
		}
		for _, line := range strings.Split(logs, "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Errorf("log line is not JSON (an injected newline?): %q", line)
			}
		}
	})
}

func mustReq(t *testing.T, u string) *http.Request {
	r, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dump(r result) string {
	var b strings.Builder
	_ = r.header.Write(&b)
	b.Write(r.body)
	b.WriteByte('\n')
	return b.String()
}

func checkStatus(t *testing.T, c hcase, res result) {
	t.Helper()
	if res.status >= 500 && c.dialed == "" && !c.allow5xx {
		t.Errorf("5xx: %d %s", res.status, res.body)
	}
	switch {
	case c.status == anyClientError:
		if res.status < 400 || res.status >= 500 {
			t.Errorf("status %d, want a 4xx (body %q)", res.status, res.body)
		}
	case res.status != c.status:
		t.Errorf("status %d, want %d (body %s)", res.status, c.status, res.body)
	}
	if c.code == "" {
		if c.status == 200 && res.status == 200 && string(res.body) != "upstream-ok" {
			t.Errorf("body %q, want the upstream's", res.body)
		}
		return
	}
	var eb signet.ErrorBody
	if err := json.Unmarshal(res.body, &eb); err != nil {
		t.Errorf("error body %q is not JSON: %v", res.body, err)
		return
	}
	if eb.Error != c.code {
		t.Errorf("error %q, want %q (message %q)", eb.Error, c.code, eb.Message)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

// checkLeaks: no secret, injected value or signature in the answer, and no
// header the client tried to inject.
func checkLeaks(t *testing.T, e *env, res result) {
	t.Helper()
	text := dump(res)
	for _, s := range e.forbiddenStrings() {
		if strings.Contains(text, s) {
			t.Errorf("the answer contains %q:\n%s", s, text)
		}
	}
	for k := range res.header {
		if strings.EqualFold(k, "X-Injected") {
			t.Errorf("injected response header %s", k)
		}
	}
}

// checkForwarded: what reached the upstream carries no client-injected
// header, and injected headers only with their configured values.
func checkForwarded(t *testing.T, r *http.Request) {
	t.Helper()
	for k, vs := range r.Header {
		if strings.EqualFold(k, "X-Injected") {
			t.Errorf("header injected upstream: %s: %q", k, vs)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") {
				t.Errorf("CR/LF in a forwarded header %s: %q", k, v)
			}
		}
	}
	if strings.Contains(r.URL.RawQuery, "X-Sw-") || strings.Contains(r.URL.RawQuery, "X-Amz-Signature") {
		t.Errorf("signing parameters forwarded: %q", r.URL.RawQuery)
	}
	for _, h := range []string{"Signature", "Signature-Input"} {
		if r.Header.Get(h) != "" {
			t.Errorf("%s forwarded", h)
		}
	}
	if vs := r.Header.Values("X-Api-Key"); len(vs) > 1 || len(vs) == 1 && vs[0] != injectedAPIKey && vs[0] != routeInjected {
		t.Errorf("X-Api-Key upstream = %q", vs)
	}
	_ = io.Discard
}
