package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/signet-dev/signet/config"
)

// errForbiddenAddress is returned by the dialer when the address actually
// dialed is not public and the origin was not explicitly allowed.
var errForbiddenAddress = errors.New("gateway: address not allowed")

// blockedPrefixes are address ranges never dialed for an origin the config
// does not list: they reach the gateway's own host, its network or cloud
// metadata services. Judged on the resolved address, so DNS cannot smuggle
// them in.
var blockedPrefixes = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local, cloud metadata (169.254.169.254)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"64:ff9b::/96",    // NAT64: may embed any of the above
		"64:ff9b:1::/48",  // local NAT64
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
		"2002::/16",       // 6to4: may embed private IPv4
		"fc00::/7",        // unique local (incl. fd00:ec2::254 metadata)
		"fe80::/10",       // link-local
		"ff00::/8",        // multicast
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// checkAddress refuses a dialed "ip:port" that is not a public address.
func checkAddress(address string) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", errForbiddenAddress, host)
	}
	ip = ip.Unmap().WithZone("")
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is not a public address", errForbiddenAddress, ip)
		}
	}
	return nil
}

// newTransport returns a transport tuned for proxying. explicit reports
// whether a "host:port" belongs to an origin the config lists; those may be
// dialed whatever their address. Everything else passes the guard.
func (g *Gateway) newTransport(l config.Limits, explicit func(addr string) bool) *http.Transport {
	exported, internal := g.DialControl, g.dialControl
	hook := func(network, address string, c syscall.RawConn) error {
		if exported != nil {
			if err := exported(network, address, c); err != nil {
				return err
			}
		}
		if internal != nil {
			return internal(network, address, c)
		}
		return nil
	}
	plain := &net.Dialer{Timeout: l.UpstreamDialTimeout.D(), KeepAlive: 30 * time.Second, Resolver: g.Resolver, Control: hook}
	guarded := &net.Dialer{
		Timeout:   l.UpstreamDialTimeout.D(),
		KeepAlive: 30 * time.Second,
		Resolver:  g.Resolver,
		// Control runs on the address actually dialed, after DNS, for
		// every attempt (Happy Eyeballs included).
		Control: func(network, address string, c syscall.RawConn) error {
			if err := checkAddress(address); err != nil {
				return err
			}
			return hook(network, address, c)
		},
	}
	perHost := l.UpstreamMaxIdleConnsPerHost
	if perHost == 0 {
		perHost = 256
	}
	return &http.Transport{
		// No Proxy: environment proxies would bypass the address guard.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if explicit != nil && (explicit(strings.ToLower(addr)) || explicitAddrFrom(ctx) == strings.ToLower(addr)) {
				return plain.DialContext(ctx, network, addr)
			}
			return guarded.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4 * perHost,
		MaxIdleConnsPerHost:   perHost,
		IdleConnTimeout:       l.UpstreamIdleTimeout.D(),
		TLSHandshakeTimeout:   l.UpstreamTLSHandshakeTimeout.D(),
		ResponseHeaderTimeout: l.UpstreamResponseHeaderTimeout.D(),
		ExpectContinueTimeout: time.Second,
		// Pass the client's encoding through untouched.
		DisableCompression: true,
	}
}
