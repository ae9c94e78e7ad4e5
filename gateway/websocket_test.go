package gateway

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A minimal RFC 6455 implementation: enough for a real handshake and text
// frames in both directions, without a dependency.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

func wsWriteFrame(w io.Writer, payload []byte, mask bool) error {
	hdr := []byte{0x81, 0} // FIN, text
	switch n := len(payload); {
	case n < 126:
		hdr[1] = byte(n)
	case n < 1<<16:
		hdr[1] = 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		return errors.New("frame too large for the test")
	}
	body := append([]byte(nil), payload...)
	if mask {
		hdr[1] |= 0x80
		key := []byte{1, 2, 3, 4}
		hdr = append(hdr, key...)
		for i := range body {
			body[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(hdr, body...))
	return err
}

func wsReadFrame(r *bufio.Reader) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[1] & 0x7f)
	if n == 126 {
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, err
		}
		n = int(binary.BigEndian.Uint16(ext[:]))
	} else if n == 127 {
		return nil, errors.New("frame too large for the test")
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return p, nil
}

// wsEcho is a WebSocket upstream that greets, then echoes every message.
func wsEcho(t *testing.T, sawAuth chan<- string) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "websocket only", http.StatusBadRequest)
			return
		}
		sawAuth <- r.Header.Get("Authorization")
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", wsAccept(r.Header.Get("Sec-WebSocket-Key")))
		_ = wsWriteFrame(brw, []byte("hello"), false)
		_ = brw.Flush()
		for {
			msg, err := wsReadFrame(brw.Reader)
			if err != nil {
				return
			}
			if err := wsWriteFrame(brw, append([]byte("echo: "), msg...), false); err != nil {
				return
			}
			_ = brw.Flush()
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// A signed URL whose target is ws:// opens the WebSocket upstream with the
// injected header (which a browser cannot set), and messages flow both ways
// as they are sent.
func TestWebSocket(t *testing.T) {
	sawAuth := make(chan string, 1)
	up := wsEcho(t, sawAuth)
	wsURL := "ws" + strings.TrimPrefix(up.URL, "http")
	gw := startGateway(t, baseConfig(wsURL))
	t.Run("ws target", func(t *testing.T) {
		// sw1.Presign refuses ws:// targets, so sign as the Signway SDKs do.
		testWebSocket(t, gw, sdkPresign(gw.URL, wsURL+"/realtime?model=x", "GET", t0.Add(-time.Minute)), sawAuth)
	})
	t.Run("http target with Upgrade", func(t *testing.T) {
		testWebSocket(t, gw, presign(t, gw.URL, up.URL+"/realtime?model=x", "GET", nil, nil), sawAuth)
	})
}

// sdkPresign signs like the Signway SDKs: the target as given, no headers,
// no body, Rust's strict encoding.
func sdkPresign(gateway, target, method string, at time.Time) string {
	enc := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	day, date := at.UTC().Format("20060102"), at.UTC().Format("20060102T150405Z")
	q := "X-Sw-Algorithm=SW1-HMAC-SHA256&X-Sw-Body=false&X-Sw-Credential=" + enc(testKey+"/"+day) +
		"&X-Sw-Date=" + date + "&X-Sw-Expires=600&X-Sw-Proxy=" + enc(target) + "&X-Sw-SignedHeaders="
	canon := sha256.Sum256([]byte(method + "\n/\n" + q + "\n\n\n\n"))
	mac := func(key []byte, msg string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	sig := mac(mac([]byte("SW1-HMAC-SHA256"+testSecret), day), "SW1-HMAC-SHA256\n"+date+"\n"+day+"\n"+hex.EncodeToString(canon[:]))
	return gateway + "/?" + q + "&X-Sw-Signature=" + hex.EncodeToString(sig)
}

func testWebSocket(t *testing.T, gw *testGateway, signed string, sawAuth chan string) {
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: https://page.example\r\n\r\n", u.RequestURI(), u.Host, key)
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("status %d: %s", res.StatusCode, b)
	}
	if got := res.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(key) {
		t.Errorf("Sec-WebSocket-Accept = %q", got)
	}
	if got := <-sawAuth; got != "Bearer injected" {
		t.Errorf("upstream Authorization = %q, want the injected one", got)
	}
	msg, err := wsReadFrame(br)
	if err != nil || string(msg) != "hello" {
		t.Fatalf("greeting = %q, %v", msg, err)
	}
	for _, m := range []string{"one", "two", strings.Repeat("x", 1000)} {
		if err := wsWriteFrame(conn, []byte(m), true); err != nil {
			t.Fatal(err)
		}
		got, err := wsReadFrame(br)
		if err != nil || string(got) != "echo: "+m {
			t.Fatalf("reply to %.10q = %.16q, %v", m, got, err)
		}
	}
}
