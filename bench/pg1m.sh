#!/usr/bin/env bash
# Issue 6, PostgreSQL variant: a key store of MANY_KEYS keys in PostgreSQL
# versus a 1-key config file — import time, startup, RSS, SW1 verify req/s.
#
#   nice -n 19 ./bench/pg1m.sh          (the machine is shared: run it niced)
#
# Builds signet and the bench tools into a temp dir; creates a fresh schema
# signet_bench_<random> in the test database (dropped on exit); runs signet
# migrate and signet keys import of MANY_KEYS keys (bench/benchutil keys:
# ids k0000000..., secret "secret-<id>"); starts the bench upstream, a Signet
# whose store: is that schema and a Signet with one key in its config file;
# measures the first one's startup (process start to /readyz 200) and RSS
# (after startup, and the peak VmHWM); then runs wrk against both, rounds
# interleaved, with a SW1 URL of a key from the middle of the store. Prints
# a Markdown table. Every process it starts is stopped on exit, and every
# step has a time limit.
#
# Environment (defaults in brackets):
#   PG_URL [postgres://postgres@127.0.0.1:5432/test?sslmode=disable]
#   MANY_KEYS [1000000]  ROUNDS [3]  DURATION [10s]  CONNS [32]  THREADS [2]
#   IMPORT_TIMEOUT [1800]  STARTUP_TIMEOUT [300]  STARTUP_MAX_RSS_MB [6144]
#   PORT_BASE [18200]    ports PORT_BASE+1..+3 must be free (run.sh uses 18101-18105)
set -euo pipefail

PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
MANY_KEYS=${MANY_KEYS:-1000000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
IMPORT_TIMEOUT=${IMPORT_TIMEOUT:-1800}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-300}
STARTUP_MAX_RSS_MB=${STARTUP_MAX_RSS_MB:-6144}
PORT_BASE=${PORT_BASE:-18200}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/signet-pg1m.XXXXXX)
UP_PORT=$((PORT_BASE + 1))
PG_PORT=$((PORT_BASE + 2))
ONE_PORT=$((PORT_BASE + 3))
UP=http://127.0.0.1:$UP_PORT
GWPG=http://127.0.0.1:$PG_PORT
GW1=http://127.0.0.1:$ONE_PORT
SCHEMA=signet_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
case $PG_URL in
*\?*) DB_URL="$PG_URL&search_path=$SCHEMA" ;;
*) DB_URL="$PG_URL?search_path=$SCHEMA" ;;
esac
SCHEMA_CREATED=0

PIDS=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$SCHEMA_CREATED" = 1 ]; then
		timeout 120 psql -q -X "$PG_URL" -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 ||
			echo "pg1m: could not drop schema $SCHEMA: drop it by hand" >&2
	fi
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT INT TERM

log() { printf '== %s\n' "$*" >&2; }
die() {
	printf 'pg1m: %s\n' "$*" >&2
	exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { awk -v m="$1" 'BEGIN {printf "%.2f s", m / 1000}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.0f MB", k / 1024}'; }
# rss_kb PID [FIELD]: VmRSS (or VmHWM, the peak) in kB.
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

for t in wrk curl go psql; do command -v "$t" >/dev/null || die "$t not found"; done
for p in $UP_PORT $PG_PORT $ONE_PORT; do
	if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then die "port $p is in use (set PORT_BASE)"; fi
done

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg) # the machine is shared: say how busy it was
log "building into $W/bin"
mkdir -p "$W/bin"
(cd "$ROOT" && timeout 600 go build -o "$W/bin/signet" ./cmd/signet &&
	timeout 600 go build -o "$W/bin/" ./bench/upstream ./bench/benchutil) || die "build failed"
BU=$W/bin/benchutil
SIGNET=$W/bin/signet
export SIGNET_MASTER_KEY
SIGNET_MASTER_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

log "schema $SCHEMA"
timeout 30 psql -q -X -v ON_ERROR_STOP=1 "$PG_URL" -c "CREATE SCHEMA $SCHEMA" >/dev/null || die "cannot create schema in $PG_URL"
SCHEMA_CREATED=1
timeout 60 "$SIGNET" migrate --database "$DB_URL" >&2 || die "migrate failed"

log "generating $MANY_KEYS keys"
{
	echo "keys:"
	timeout 300 "$BU" keys -n "$MANY_KEYS" -origin "$UP"
} >"$W/keys.yaml"
echo "  file: $(du -h "$W/keys.yaml" | cut -f1)" >&2

log "importing"
t0=$(now_ms)
timeout "$IMPORT_TIMEOUT" "$SIGNET" keys import --database "$DB_URL" "$W/keys.yaml" >"$W/import.out" 2>"$W/import.err" ||
	die "import failed or timed out (${IMPORT_TIMEOUT}s): $(tail -c 500 "$W/import.err")"
IMPORT_MS=$(($(now_ms) - t0))
echo "  $(cat "$W/import.out")" >&2
# As autovacuum would soon after; psql cannot take search_path in a URL.
timeout 120 psql -q -X "$PG_URL" -c "ANALYZE $SCHEMA.signet_keys, $SCHEMA.signet_secrets, $SCHEMA.signet_upstreams" >/dev/null || true

"$W/bin/upstream" -addr "127.0.0.1:$UP_PORT" 2>"$W/upstream.log" &
PIDS+=($!)

# config PORT [KEY...]: a Signet config; SW1 URLs signed for 24h.
config() {
	echo "listen: \"127.0.0.1:$1\""
	if [ "$2" = store ]; then
		echo "store: \"$DB_URL\""
	else
		cat <<EOF
keys:
  - id: bench
    secrets: ["bench-secret-0123456789abcdef"]
    schemes: [sw1, cavage]
    upstreams:
      - origin: "$UP"
EOF
	fi
	cat <<EOF
limits:
  idle_timeout: 300s
  upstream_idle_timeout: 300s
  upstream_max_idle_conns_per_host: 256
schemes:
  sw1: { max_skew: 1m }
log: { level: warn }
EOF
}
config "$PG_PORT" store >"$W/pg.yaml"
config "$ONE_PORT" file >"$W/one.yaml"

# start NAME CONFIG PORT: starts Signet and waits for /readyz 200 under a
# watchdog (time and RSS: a store that does not fit must not take the
# machine down); sets PID, START_MS and PEAK_KB.
start() {
	local t0 now
	t0=$(now_ms)
	"$SIGNET" serve --config "$2" --watch-interval 0 2>"$W/$1.log" &
	PID=$!
	PIDS+=($PID)
	PEAK_KB=0
	while [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$3/readyz" || true)" != 200 ]; do
		now=$(rss_kb "$PID")
		[ "${now:-0}" -gt "$PEAK_KB" ] && PEAK_KB=$now
		if ! kill -0 "$PID" 2>/dev/null || [ "${now:-0}" -gt $((STARTUP_MAX_RSS_MB * 1024)) ] ||
			[ $(($(now_ms) - t0)) -gt $((STARTUP_TIMEOUT * 1000)) ]; then
			kill -9 "$PID" 2>/dev/null || true
			die "$1 not ready after $(secs $(($(now_ms) - t0))), RSS $(mb "$PEAK_KB"): $(tail -c 500 "$W/$1.log")"
		fi
		sleep 0.05
	done
	START_MS=$(($(now_ms) - t0))
	PEAK_KB=$(rss_kb "$PID" VmHWM)
}

log "starting Signet with the PostgreSQL store"
start signet-pg "$W/pg.yaml" "$PG_PORT"
PG_PID=$PID PG_START_MS=$START_MS PG_PEAK_KB=$PEAK_KB PG_RSS_KB=$(rss_kb "$PID")
log "starting Signet with 1 key in its config file"
start signet-1key "$W/one.yaml" "$ONE_PORT"
ONE_PID=$PID ONE_START_MS=$START_MS ONE_PEAK_KB=$PEAK_KB ONE_RSS_KB=$(rss_kb "$PID")

MID=$(printf 'k%07d' $((MANY_KEYS / 2))) # benchutil keys' id scheme
URL_PG=$(timeout 30 "$SIGNET" sign-url --id "$MID" --secret "secret-$MID" --gateway "$GWPG" --target "$UP/small" --expires 24h)
URL_ONE=$(timeout 30 "$SIGNET" sign-url --id bench --secret bench-secret-0123456789abcdef --gateway "$GW1" --target "$UP/small" --expires 24h)
for u in "$URL_PG" "$URL_ONE"; do
	st=$(curl -s -o "$W/check.body" -w '%{http_code}' --max-time 10 "$u" || true)
	[ "$st" = 200 ] || die "check $u: status $st: $(head -c 300 "$W/check.body")"
done

# load NAME URL: one wrk run; appends req/s to $W/NAME.rps.
load() {
	local out rps bad limit
	limit=$(awk -v d="$DURATION" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; print int(n) + 30 }')
	out=$(timeout "$limit" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s --latency "$2") || die "wrk $1 failed: $out"
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
	[ -z "$bad" ] || echo "  WARNING: $1: $bad answers were not 2xx" >&2
	echo "$rps" >>"$W/$1.rps"
	printf '  %-12s %10s req/s  p50 %s  p99 %s\n' "$1" "$rps" \
		"$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" >&2
}
median() { sort -g "$1" | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

log "load: wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS rounds, interleaved"
for ((r = 1; r <= ROUNDS; r++)); do
	load pg "$URL_PG"
	load one "$URL_ONE"
done
PG_AFTER_KB=$(rss_kb "$PG_PID")
PG_RPS=$(median "$W/pg.rps")
ONE_RPS=$(median "$W/one.rps")

cat <<EOF

## PostgreSQL key store of $MANY_KEYS keys vs 1-key config file

$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs (load average before/after: $LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg)), $(go version | cut -d' ' -f3), $(timeout 10 psql -X -At "$PG_URL" -c 'SHOW server_version' 2>/dev/null || echo 'PostgreSQL ?'); wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS rounds interleaved; SW1 URL of key $MID.

| | PostgreSQL, $MANY_KEYS keys | config file, 1 key |
|---|---:|---:|
| \`signet keys import\` ($MANY_KEYS keys, incl. reading the file) | $(secs "$IMPORT_MS") | — |
| startup (process start to /readyz 200) | $(secs "$PG_START_MS") | $(secs "$ONE_START_MS") |
| RSS after startup | $(mb "$PG_RSS_KB") | $(mb "$ONE_RSS_KB") |
| peak RSS (VmHWM at ready) | $(mb "$PG_PEAK_KB") | $(mb "$ONE_PEAK_KB") |
| RSS after the load | $(mb "$PG_AFTER_KB") | $(mb "$(rss_kb "$ONE_PID")") |
| peak RSS by the end (VmHWM) | $(mb "$(rss_kb "$PG_PID" VmHWM)") | $(mb "$(rss_kb "$ONE_PID" VmHWM)") |
| SW1 verify req/s, median (rounds: $(paste -sd' ' "$W/pg.rps") / $(paste -sd' ' "$W/one.rps")) | $PG_RPS | $ONE_RPS |

Ratio PostgreSQL-$MANY_KEYS / 1-key req/s: $(awk -v a="$PG_RPS" -v b="$ONE_RPS" 'BEGIN {printf "%.3f", a / b}')

Import: $(cat "$W/import.out")
Command: \`MANY_KEYS=$MANY_KEYS ROUNDS=$ROUNDS DURATION=$DURATION nice -n 19 ./bench/pg1m.sh\`
EOF
