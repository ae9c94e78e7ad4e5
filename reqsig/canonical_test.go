package reqsig

import (
	"testing"
)

// TestCanonicalRequest pins java.net.URL's behaviour beyond the vectors
// (COMPAT §1 of REQUEST-SIGNATURE).
func TestCanonicalRequest(t *testing.T) {
	tests := []struct {
		name, method, url string
		signedHost        bool
		want              string
	}{
		{"readme example", "GET", "https://api.com/search?product_id=prd1&customer_id=c1", true, "GET api.com /search product_id=prd1&customer_id=c1"},
		{"readme no host", "GET", "https://api.com/search", false, "GET /search"},
		{"empty path", "GET", "https://api.com", true, "GET api.com "},
		{"empty path with query", "GET", "https://api.com?a=1", true, "GET api.com  a=1"},
		{"root path", "GET", "https://api.com/", true, "GET api.com /"},
		{"lone question mark", "GET", "https://api.com/p?", true, "GET api.com /p"},
		{"lone question mark after fragment cut", "GET", "https://api.com/p?#x?y", true, "GET api.com /p"},
		{"question mark in fragment", "GET", "https://api.com/p#x?y", true, "GET api.com /p"},
		{"slash in fragment", "GET", "https://api.com#/x", true, "GET api.com "},
		{"host case kept, port dropped", "get", "HTTPS://API.Example.COM:8443/X", true, "GET API.Example.COM /X"},
		{"userinfo dropped", "GET", "http://u:p@h.io/x", true, "GET h.io /x"},
		{"double at: no host", "GET", "http://u@v@h.io/x", true, "GET  /x"},
		{"at in path is not userinfo", "GET", "http://h.io/a@b", true, "GET h.io /a@b"},
		{"ipv6 with port", "GET", "http://[::1]:8080/x", true, "GET [::1] /x"},
		{"ipv6 with zone", "GET", "http://[fe80::1%25eth0]/x", true, "GET [fe80::1%25eth0] /x"},
		{"empty port", "GET", "http://h.io:/x", true, "GET h.io /x"},
		{"port -1 is accepted", "GET", "http://h.io:-1/x", true, "GET h.io /x"},
		{"port with plus", "GET", "http://h.io:+80/x", true, "GET h.io /x"},
		{"dot segments kept", "GET", "http://h.io/a/./b/../c", true, "GET h.io /a/./b/../c"},
		{"escapes kept", "GET", "http://h.io/a%2Fb?x=%20", true, "GET h.io /a%2Fb x=%20"},
		{"whitespace trimmed", "GET", " \thttp://h.io/x?y=1 \n", true, "GET h.io /x y=1"},
		{"url: prefix", "GET", "URL:http://h.io/x", true, "GET h.io /x"},
		{"no authority", "GET", "http:/x/y", true, "GET  /x/y"},
		{"opaque", "GET", "http:x", true, "GET  x"},
		{"UNC four slashes", "GET", "http:////h/x", true, "GET  ////h/x"},
		{"empty authority", "GET", "http:///x", true, "GET  /x"},
		{"query with at and slash", "GET", "http://h.io?a=@/b", true, "GET h.io  a=@/b"},
		{"method case", "pAtCh", "http://h.io/", false, "PATCH /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalRequest(tt.method, tt.url, tt.signedHost)
			if err != nil {
				t.Fatalf("CanonicalRequest(%q): %v", tt.url, err)
			}
			if got != tt.want {
				t.Errorf("CanonicalRequest(%q): got %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

// TestCanonicalRequestErrors lists the URLs java.net.URL refuses.
func TestCanonicalRequestErrors(t *testing.T) {
	for _, u := range []string{
		"",
		"api.com/search",
		"/search",
		"#http://h.io/",
		"ftp://h.io/x",
		"1http://h.io/",
		"http://[::1/x",
		"http://[]/x",
		"http://[zz::1]/x",
		"http://[::1]x/",
		"http://[::1]:a/",
		"http://h.io:8a/x",
		"http://h.io:-2/x",
		"http://h.io:99999999999/x",
		"http://h.io:+/x",
		"http://a\x01b/x",
		"http://a\x7fb/x",
		"http://a\uff0fb/x",
	} {
		t.Run(u, func(t *testing.T) {
			if got, err := CanonicalRequest("GET", u, true); err == nil {
				t.Errorf("CanonicalRequest(%q): got %q, want an error", u, got)
			}
		})
	}
}

func TestPercentDecode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"/a b", "/a b"},
		{"/a%20b", "/a b"},
		{"%C3%A9", "é"},
		{"%c3%a9", "é"},
		{"a+b", "a+b"},
		{"%~9+/", "%~9+/"},
		{"%2", "%2"},
		{"%", "%"},
		{"%%41", "%%41"},
		{"%22%3C%3E%5C%5E%60%7B%7C%7D", "\"<>\\^`{|}"},
		{"%21%24%27%28%29%2A%2C%3A%40%5B%5D", "!$'()*,:@[]"},
		{"%00%1F%7F%FF", "\x00\x1f\x7f\xff"},
		// Structural and unreserved characters stay encoded.
		{"/a%2Fb%3Fc%23d%25e%26f%3Dg%2Bh%3Bi", "/a%2Fb%3Fc%23d%25e%26f%3Dg%2Bh%3Bi"},
		{"%41%7A%30%2D%2E%5F%7E", "%41%7A%30%2D%2E%5F%7E"},
		{"%41%20", "%41 "},
	} {
		if got := percentDecode(tt.in); got != tt.want {
			t.Errorf("percentDecode(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStripPort(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"API.com", "API.com"},
		{"API.com:8080", "API.com"},
		{"[::1]:80", "[::1]"},
		{"[::1]", "[::1]"},
		{"[::1", "[::1"},
	} {
		if got := stripPort(tt.in); got != tt.want {
			t.Errorf("stripPort(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
