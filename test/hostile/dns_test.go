package hostile_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/signet-dev/signet/sw1"
)

// TestMain makes the process-wide resolver refuse every query: a gateway
// that ignored Gateway.Resolver would otherwise ask the system's DNS
// server, off this machine, about the suite's names.
func TestMain(m *testing.M) {
	net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("hostile test: the default resolver may not be used")
	}}
	os.Exit(m.Run())
}

// The suite's DNS names. The public address is never reached: the dial
// hook refuses everything but 127.0.0.1.
const (
	publicAddr   = "93.184.216.34"
	loopbackName = "loopback.hostile.test" // 127.0.0.1; the "named" key lists it with the upstream's port
	mixedName    = "mixed.hostile.test"    // public, then private
	mixedRevName = "mixed-rev.hostile.test"
	rebindName   = "rebind.hostile.test" // public on the first lookup, private on the next ones
)

// privateNames resolve to one address each that the guard must refuse.
var privateNames = []struct{ name, addr string }{
	{"ten.hostile.test", "10.0.0.1"},
	{"rfc1918-172.hostile.test", "172.16.0.1"},
	{"rfc1918-192.hostile.test", "192.168.1.1"},
	{"metadata.hostile.test", "169.254.169.254"},
	{"cgnat.hostile.test", "100.64.0.1"},
	{"lo4.hostile.test", "127.0.0.1"},
	{"lo6.hostile.test", "::1"},
	{"metadata6.hostile.test", "fd00:ec2::254"},
	{"linklocal6.hostile.test", "fe80::1"},
	{"mapped.hostile.test", "::ffff:10.0.0.1"},
}

// dnsTable is what the fake DNS server knows: for each name, the answer
// to each successive lookup (the last one repeats).
func dnsTable() map[string][][]netip.Addr {
	a := netip.MustParseAddr
	t := map[string][][]netip.Addr{
		"localhost":  {{a("127.0.0.1")}}, // in case /etc/hosts lacks it
		loopbackName: {{a("127.0.0.1")}},
		mixedName:    {{a(publicAddr), a("10.0.0.1")}},
		mixedRevName: {{a("10.0.0.1"), a(publicAddr)}},
		rebindName:   {{a(publicAddr)}, {a("10.0.0.1")}},
	}
	for _, p := range privateNames {
		t[p.name] = [][]netip.Addr{{a(p.addr)}}
	}
	return t
}

// fakeDNS answers A and AAAA queries from a table, over net.Pipe (Go's
// resolver then speaks DNS over TCP framing): no query leaves the process.
// Unknown names get NXDOMAIN.
type fakeDNS struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr // lower-case name without the final dot
	asked   map[string]int            // "name TYPE" -> queries so far
}

func newFakeDNS(answers map[string][][]netip.Addr) *fakeDNS {
	return &fakeDNS{answers: answers, asked: map[string]int{}}
}

func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go d.serve(server)
		return client, nil
	}}
}

// queries returns how many queries of type typ ("TypeA") name got.
func (d *fakeDNS) queries(name, typ string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.asked[name+" "+typ]
}

func (d *fakeDNS) serve(c net.Conn) {
	defer c.Close()
	for {
		var n [2]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		res, err := d.answer(q)
		if err != nil {
			return
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(res))), res...)); err != nil {
			return
		}
	}
}

func (d *fakeDNS) answer(query []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(strings.ToLower(q.Name.String()), ".")
	d.mu.Lock()
	seq, known := d.answers[name]
	i := d.asked[name+" "+q.Type.String()]
	d.asked[name+" "+q.Type.String()]++
	d.mu.Unlock()

	// Authoritative, or Go's resolver takes an empty answer for a lame
	// referral and tries the next server.
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if known {
		rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET}
		for _, a := range seq[min(i, len(seq)-1)] {
			switch {
			case q.Type == dnsmessage.TypeA && a.Is4():
				err = b.AResource(rr, dnsmessage.AResource{A: a.As4()})
			case q.Type == dnsmessage.TypeAAAA && a.Is6():
				err = b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: a.As16()})
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}

// TestFakeDNS checks the fake server itself, so that the DNS cases test
// what they say: table answers by type, NXDOMAIN, and rebinding.
func TestFakeDNS(t *testing.T) {
	d := newFakeDNS(dnsTable())
	r := d.resolver()
	tests := []struct {
		name, network, host string
		want                []string // nil: no such host
	}{
		{"A", "ip4", "ten.hostile.test", []string{"10.0.0.1"}},
		{"AAAA", "ip6", "metadata6.hostile.test", []string{"fd00:ec2::254"}},
		{"IPv4-mapped AAAA", "ip", "mapped.hostile.test", []string{"::ffff:10.0.0.1"}},
		{"no AAAA for an IPv4 name", "ip6", "ten.hostile.test", nil},
		{"both addresses in order", "ip4", mixedName, []string{publicAddr, "10.0.0.1"}},
		{"case-insensitive", "ip4", "TEN.Hostile.Test", []string{"10.0.0.1"}},
		{"unknown name", "ip", "nowhere.hostile.test", nil},
		{"rebinding: first lookup", "ip4", rebindName, []string{publicAddr}},
		{"rebinding: second lookup", "ip4", rebindName, []string{"10.0.0.1"}},
		{"rebinding: third lookup", "ip4", rebindName, []string{"10.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addrs, err := r.LookupNetIP(context.Background(), tt.network, tt.host)
			if tt.want == nil {
				var de *net.DNSError
				if !errors.As(err, &de) || !de.IsNotFound {
					t.Fatalf("got %v, %v; want not found", addrs, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range addrs {
				got = append(got, a.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if n := d.queries(rebindName, "TypeA"); n != 3 {
		t.Errorf("%d A queries for %s, want 3", n, rebindName)
	}
}

// dnsCases: pre-signed URLs whose target is a name the fake DNS resolves,
// for key "open" (any public origin, no private one). The guard judges the
// addresses actually dialed, so each private answer is refused before the
// dial hook sees it (403 forbidden_upstream), and a public one reaches the
// hook, which records and refuses it (502 upstream_unreachable).
func dnsCases() []hcase {
	port := func(e *env) string { u, _ := url.Parse(e.up.URL); return u.Port() }
	open := func(target func(e *env) string) func(e *env) *http.Request {
		return func(e *env) *http.Request {
			return e.newReq("GET", e.presign("", func(o *sw1.PresignOptions) {
				o.KeyID, o.Secret, o.Target = "open", openSecret, target(e)
			}), "")
		}
	}
	var cs []hcase
	for _, p := range privateNames {
		// The upstream's port: with a broken guard, the loopback names
		// would reach it (200).
		cs = append(cs, hcase{name: "dns/guard refuses " + p.name + " -> " + p.addr,
			req: open(func(e *env) string { return "http://" + p.name + ":" + port(e) + "/latest/meta-data" }), status: 403, code: "forbidden_upstream"})
	}
	cs = append(cs,
		// Go's dialer tries the addresses in the answer's order (both are
		// global IPv4 addresses: RFC 6724 sorting keeps it) and answers
		// with the first error: the hook's refusal of the public address
		// here, the guard's refusal of the private one below. Either way
		// the private address never reaches the hook.
		hcase{name: "dns/public then private address: only the public one is dialed", req: open(func(*env) string { return "http://" + mixedName + ":81/" }),
			status: 502, code: "upstream_unreachable", dialed: publicAddr + ":81"},
		hcase{name: "dns/private then public address: only the public one is dialed", req: open(func(*env) string { return "http://" + mixedRevName + ":81/" }),
			status: 403, code: "forbidden_upstream", dialed: publicAddr + ":81"},
		hcase{name: "dns/rebinding: public on the first lookup, private on the second", req: func(e *env) *http.Request {
			target := func(*env) string { return "http://" + rebindName + ":81/" }
			before := e.dials.len()
			res, err := e.do(open(target)(e))
			if err != nil || res.status != 502 {
				e.t.Errorf("first request: %d %v %s, want 502 (the hook refuses the public address)", res.status, err, res.body)
			}
			if d := e.dials.since(before); !slices.Equal(d, []string{publicAddr + ":81"}) {
				e.t.Errorf("first request dialed %q, want only %s:81", d, publicAddr)
			}
			if n := e.dns.queries(rebindName, "TypeA"); n != 1 {
				e.t.Errorf("%d A queries after the first request, want 1", n)
			}
			return open(target)(e)
		}, status: 403, code: "forbidden_upstream"},
		// The same kind of name is allowed where the config lists its
		// origin: key "named" lists http://loopback.hostile.test:<port>.
		hcase{name: "dns/guard refuses an unlisted name resolving to 127.0.0.1", req: open(func(e *env) string { return "http://" + loopbackName + ":" + port(e) + "/x" }),
			status: 403, code: "forbidden_upstream"},
		hcase{name: "dns/explicitly listed origin resolving to 127.0.0.1 is served", req: func(e *env) *http.Request {
			return e.newReq("GET", e.presign("", func(o *sw1.PresignOptions) {
				o.KeyID, o.Secret, o.Target = "named", namedSecret, "http://"+loopbackName+":"+port(e)+"/x"
			}), "")
		}, status: 200},
	)
	return cs
}
