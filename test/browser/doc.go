// Package browser holds Signet's end-to-end test in a real headless
// Chromium: a page on one origin fetches a pre-signed SW1 URL from the
// gateway on another origin, with a custom header that forces a CORS
// preflight, and reads the upstream's Server-Sent Events through
// fetch + ReadableStream.
//
// The test is skipped unless SIGNET_CHROMIUM names the Chromium binary
// (.ci/install-chromium.sh installs Debian's package):
//
//	SIGNET_CHROMIUM=/usr/bin/chromium go test ./test/browser/
//
// The package has no code besides its test.
package browser
