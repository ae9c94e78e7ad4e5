package sigv4

import (
	"testing"
)

func TestCanonicalQueriesLegacy(t *testing.T) {
	for _, tt := range []struct {
		name            string
		ps              []param
		current, legacy string
	}{
		{"same order", []param{{"a", "1"}, {"b", "2"}}, "a=1&b=2", ""},
		{"escaped", []param{{"a b", "c/d"}}, "a%20b=c%2Fd", ""},
		// "a-" < "a/" by raw bytes, but "a%2F" < "a-" once encoded.
		{"orders differ", []param{{"a/", "3"}, {"a-", "4"}}, "a%2F=3&a-=4", "a-=4&a%2F=3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cur, leg := canonicalQueries(tt.ps)
			if cur != tt.current || leg != tt.legacy {
				t.Errorf("got %q, %q, want %q, %q", cur, leg, tt.current, tt.legacy)
			}
		})
	}
}
