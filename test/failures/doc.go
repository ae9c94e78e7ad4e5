// Package failures holds the failing-dependency suite: an upstream that
// refuses, stalls, dies mid-stream, sends a huge body or drops keep-alive
// connections; slow and vanishing clients; hot reloads (TestServeBinary,
// which runs the signet binary). SIGNET_LONG=1 streams 1 GiB instead of
// 64 MiB. See docs/hardening.md.
package failures
