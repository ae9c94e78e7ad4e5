package sw1

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
)

// TestHMACDerived: the HMAC from saved pad states equals crypto/hmac's, for
// message lengths around the block size, and the derived key is the SW1 one.
func TestHMACDerived(t *testing.T) {
	const date = "20240102T030405Z"
	dk := derived("super-secure-string", date)
	want := hmac.New(sha256.New, []byte(Algorithm+"super-secure-string"))
	want.Write([]byte(date[:8]))
	if !hmac.Equal(dk.key[:], want.Sum(nil)) {
		t.Fatal("derived key differs from HMAC(\"SW1-HMAC-SHA256\"+secret, day)")
	}
	hh := newHasher()
	for n := range 200 {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = byte(i * 7)
		}
		var got, ref [sha256.Size]byte
		hh.hmacDerived(dk, msg, &got)
		hh.hmac(&dk.key, msg, &ref)
		m := hmac.New(sha256.New, dk.key[:])
		m.Write(msg)
		if got != ref || !hmac.Equal(got[:], m.Sum(nil)) {
			t.Fatalf("len %d: hmacDerived differs from HMAC-SHA256", n)
		}
	}
}

func TestReplayIDFormat(t *testing.T) {
	var sig [sha256.Size]byte
	for i := range sig {
		sig[i] = byte(i * 11)
	}
	lower := hex.EncodeToString(sig[:])
	// The signature as sent: lower case (used as is), upper or mixed case
	// (re-encoded from sig); and values that are not 64 lower-case digits,
	// which verify never passes (decodeHex refuses them): sig still wins.
	for _, sent := range []string{lower, strings.ToUpper(lower), "A" + lower[1:], lower[:63], lower + "0", strings.Repeat("g", 64)} {
		for _, id := range []string{"app-id", "", string(make([]byte, 300))} {
			want := "sw1:" + id + ":" + lower
			if got := replayID(id, sent, &sig); got != want {
				t.Errorf("replayID(%q, %q) = %q, want %q", strconv.Quote(id), sent, got, want)
			}
		}
	}
}

// TestHasSwPrefix: the byte test decides as strings.EqualFold on the first
// five bytes, including for runes that fold to ASCII letters.
func TestHasSwPrefix(t *testing.T) {
	for _, k := range []string{
		"x-sw-", "X-Sw-Date", "X-SW-", "x-sw", "", "x_sw-", "y-sw-", "x-sx-", "x-ſw-", "x-\u017fw-", "\u212a-sw-",
		"X-Sw\xff", "x-sw-\xff", "X\x00sw-", "x-Sw-Proxy", "x-sW-",
	} {
		want := len(k) >= 5 && strings.EqualFold(k[:5], "x-sw-")
		if got := hasSwPrefix(k); got != want {
			t.Errorf("hasSwPrefix(%q) = %v, want %v", k, got, want)
		}
	}
}

// TestDecodeHex: table-driven decoding accepts both cases and refuses any
// other byte in any position, as encoding/hex does.
func TestDecodeHex(t *testing.T) {
	valid := "0123456789abcdefABCDEF0123456789abcdefABCDEF0123456789abcdef0A1b"
	var got [32]byte
	if !decodeHex(valid, got[:]) {
		t.Fatalf("decodeHex(%q) refused", valid)
	}
	want, _ := hex.DecodeString(valid)
	if string(got[:]) != string(want) {
		t.Fatalf("decodeHex(%q) = %x, want %x", valid, got, want)
	}
	for i := range valid {
		for _, c := range []byte{'g', 'G', '/', ':', '@', '`', ' ', 0, 0x80, 0xff} {
			b := []byte(valid)
			b[i] = c
			if decodeHex(string(b), got[:]) {
				t.Fatalf("decodeHex accepted %q", b)
			}
		}
	}
	if decodeHex(valid[:62], got[:]) {
		t.Error("decodeHex accepted 62 digits")
	}
}
