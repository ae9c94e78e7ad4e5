// Package replicas holds the multi-replica test: three `signet serve`
// processes sharing one PostgreSQL key store and one Redis (see
// replicas_test.go and docs/scaling.md). It has no code of its own.
package replicas
