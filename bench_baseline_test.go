package signet_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"testing"
)

// BenchmarkBaselineHMACSHA256 is the floor for HMAC verification: keying an
// HMAC and signing 256 bytes once. Verify benchmarks in the scheme packages
// are reported as ratios to it, measured in the same run.
func BenchmarkBaselineHMACSHA256(b *testing.B) {
	key := []byte("a 32-byte secret for the baseline")
	msg := make([]byte, 256)
	b.ReportAllocs()
	for b.Loop() {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		m.Sum(nil)
	}
}
