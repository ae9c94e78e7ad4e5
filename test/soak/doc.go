// Package soak holds TestSoak: a fixed request rate of mixed valid and
// invalid traffic, 15s by default, SIGNET_SOAK=10m for the long form. See
// docs/hardening.md.
package soak
