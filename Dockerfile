# syntax=docker/dockerfile:1
#
# Signet's gateway as a static binary on a distroless base (no shell, no
# package manager, runs as uid 65532).
#
#   docker build -t signet .
#   # the sample configuration (examples/signet.yaml; its demo secret is public):
#   docker run --rm -p 3000:3000 signet serve --config /etc/signet/signet.yaml --listen 0.0.0.0:3000
#   # Signway's quick start:
#   docker run --rm -p 3000:3000 signet serve "$SW_ID" "$SW_SECRET" \
#     --header "Authorization: Bearer $OPENAI_API_KEY" --allow-origin https://api.openai.com
#   # your own configuration:
#   docker run --rm -p 3000:3000 -v "$PWD/signet.yaml:/etc/signet/signet.yaml:ro" signet \
#     serve --config /etc/signet/signet.yaml --listen 0.0.0.0:3000

# --- build -----------------------------------------------------------------
# The image's Go must satisfy go.mod's `go` line (the golang images set
# GOTOOLCHAIN=local): pull a fresh golang:1.26 if the build says otherwise.
FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), reproducible (-trimpath), without symbol tables (-s -w).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/signet ./cmd/signet

# --- run -------------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/signet /signet
# The sample configuration: its demo key's secret is public ("demo-secret"
# unless DEMO_SECRET is set). Mount your own file over it, or use the quick
# start, for anything but a try-out.
COPY examples/signet.yaml /etc/signet/signet.yaml
USER nonroot:nonroot
EXPOSE 3000
ENTRYPOINT ["/signet"]
# No default key: a bare `docker run signet` explains how to start (a config
# file, or the Signway-style `serve <id> <secret>`), rather than serving the
# sample's public demo secret. examples/signet.yaml listens on 127.0.0.1,
# which nothing outside the container reaches: pass --listen 0.0.0.0:3000.
CMD ["serve"]
