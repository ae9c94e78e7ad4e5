# `make test` is the one command that runs every test; .ci/run calls it.
# It installs the npm packages the interop tests use (interop/package-lock.json)
# and runs the Go tests with the race detector (the soak test also without).
.PHONY: test interop-deps fuzz lint

# The soak runs again without the race detector, whose shadow memory would
# hide the RSS it checks.
test: interop-deps
	SIGNET_INTEROP=1 go test -race -count=1 ./...
	go test -count=1 -run '^TestSoak$$' ./test/soak/

interop-deps:
	@command -v node >/dev/null || { echo "node is required for the interop tests (apt-get install nodejs npm)"; exit 1; }
	npm ci --prefix interop --no-audit --no-fund --loglevel=error

# Each fuzz target for FUZZTIME (default 10s).
FUZZTIME ?= 10s
fuzz:
	./.ci/fuzz.sh $(FUZZTIME)

lint:
	test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
