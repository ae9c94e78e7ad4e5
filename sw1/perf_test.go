package sw1

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
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
	for _, id := range []string{"app-id", "", string(make([]byte, 300))} {
		if got, want := replayID(id, &sig), "sw1:"+id+":"+hex.EncodeToString(sig[:]); got != want {
			t.Errorf("replayID(%q) = %q, want %q", strconv.Quote(id), got, want)
		}
	}
}
