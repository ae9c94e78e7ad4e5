// Package hostile holds the hostile-input suite: a table of malformed and
// malicious requests across every scheme against a running gateway
// (TestHostile), the scan of everything the gateway emits for secrets
// (inside TestHostile), injected-header checks
// (TestInjectedHeaderNeverFromClient, TestTargetSchemes) and the
// source-level proof that signatures are compared in constant time
// (TestConstantTimeComparison). See docs/hardening.md.
package hostile
