package reqsig

import (
	"strconv"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/keycache"
)

// TestSigningKeyCached: the cached k1 gives the keys of the uncached
// derivation, for many secrets, versions and timestamps (through cache
// misses, hits and rotations).
func TestSigningKeyCached(t *testing.T) {
	derive := func(secret, version, ts string) [32]byte {
		k := hmacSHA256([]byte(secretPrefix+secret), version)
		k = hmacSHA256(k[:], ts)
		return hmacSHA256(k[:], requestTerm)
	}
	for i := range keycache.Max + 50 {
		secret := "secret-" + strconv.Itoa(i%(keycache.Max/2+7))
		version := strconv.Itoa(i % 3)
		ts := strconv.FormatInt(1585733039477+int64(i), 10)
		if i%97 == 0 {
			ts += strings.Repeat("0", 70) // longer than the scratch buffer
		}
		if signingKey(secret, version, ts) != derive(secret, version, ts) {
			t.Fatalf("signingKey(%q, %q, %q) differs from the uncached derivation", secret, version, ts)
		}
	}
}
