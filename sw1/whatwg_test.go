package sw1

import "testing"

// Expected values follow the URL Standard (and so Rust's url crate and
// JS's URL, which the vectors were recorded from).
func TestNormalizeTarget(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://github.com", "https://github.com/"},
		{"HTTPS://Example.COM:443/p", "https://example.com/p"},
		{"http://example.com:80", "http://example.com/"},
		{"https://example.com:80", "https://example.com:80/"},
		{"http://example.com:0080/", "http://example.com/"},
		{"https://x.com/a b?q=1 2", "https://x.com/a%20b?q=1%202"},
		{"  http://x.com/\t\na\r  ", "http://x.com/a"},
		{"http://x.com/a/./b/../c", "http://x.com/a/c"},
		{"http://x.com/a/%2e/b/%2E%2e/c", "http://x.com/a/c"},
		{"http://x.com/a/..", "http://x.com/"},
		{"http://x.com/a/.", "http://x.com/a/"},
		{"http://x.com//%20", "http://x.com//%20"},
		{`http:\\x.com\a\b`, "http://x.com/a/b"},
		{"http:x.com", "http://x.com/"},
		{"http://x.com?", "http://x.com/?"},
		{"http://x.com/p?a='b'#f g", "http://x.com/p?a=%27b%27#f%20g"},
		{"http://x.com/{a}`^|?{a}`", "http://x.com/%7Ba%7D%60^|?{a}`"},
		{"http://x.com/é?é", "http://x.com/%C3%A9?%C3%A9"},
		{"http://u:p@x.com/", "http://u:p@x.com/"},
		{"http://u@v:p@x.com/", "http://u%40v:p@x.com/"},
		{"http://u:@x.com/", "http://u@x.com/"},
		{"http://127.1/", "http://127.0.0.1/"},
		{"http://0x7f.0.0.1/", "http://127.0.0.1/"},
		{"http://2130706433/", "http://127.0.0.1/"},
		{"http://[::FFFF:1.2.3.4]:8080/", "http://[::ffff:102:304]:8080/"},
		{"http://[2001:db8:0:0:1:0:0:1]/", "http://[2001:db8::1:0:0:1]/"},
		{"http://[0:0:0:0:0:0:0:0]/", "http://[::]/"},
		{"http://EX%41MPLE.com/", "http://example.com/"},
		{"http://example.com./", "http://example.com./"},
	}
	for _, tt := range tests {
		got, err := normalizeTarget(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("normalizeTarget(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{
		"", "x", "ftp://x.com/", "http://", "http://:80/", "http://x.com:65536/", "http://x.com:8a/",
		"http://[::1/", "http://[fe80::1%25eth0]/", "http://x y.com/", "http://x<.com/", "http://1.2.3.256/",
		"http://0x100000000/", "http://1.2.3.4.5/", "http://bücher.de/", "http://u@/", "http://x.com/\xff",
	} {
		if got, err := normalizeTarget(bad); err == nil {
			t.Errorf("normalizeTarget(%q) = %q, want an error", bad, got)
		}
	}
}

func TestNormalizeTargetWebSocket(t *testing.T) {
	for in, want := range map[string]string{
		"WSS://Realtime.Example.COM:443/v1?x=1": "wss://realtime.example.com/v1?x=1",
		"ws://127.0.0.1:80":                     "ws://127.0.0.1/",
		"ws://h:8080/a b":                       "ws://h:8080/a%20b",
	} {
		got, err := normalizeTarget(in)
		if err != nil || got != want {
			t.Errorf("normalizeTarget(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := normalizeTarget("ftp://h/"); err == nil {
		t.Error("ftp target accepted")
	}
}
