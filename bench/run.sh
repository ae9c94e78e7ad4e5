#!/usr/bin/env bash
# Signet's gateway benchmark suite (issue 6). See bench/README.md.
#
#   ROUNDS=3 DURATION=10s ./bench/run.sh [scenario...]     scenarios: 1 2 3 4 5 6 7 (default: all)
#
# Starts, all on 127.0.0.1: the bench upstream (bench/upstream), Signet
# (built with go build, config generated here), nginx as a plain proxy_pass
# and nginx with secure_link (md5 + expires); runs each scenario with the same
# load settings for every target, interleaving the targets round by round,
# and prints the medians and the ratios to the direct upstream measured in
# the same run. Every process it starts is stopped on exit.
#
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [10s]  CONNS [32]  THREADS [2]   wrk settings
#   BIG_MB [1024]        size of the scenario 3 download
#   SSE_EVENTS [1000] SSE_MS [2]   scenario 4 stream
#   IDLE_CONNS [10000]   scenario 5 connections
#   MANY_KEYS [1000000]  scenario 6 key count
#   STARTUP_TIMEOUT [120] STARTUP_MAX_RSS_MB [6144]  scenario 6 gives up (and kills
#                        that Signet) beyond these, so the shared machine survives
#   PORT_BASE [18100]    ports PORT_BASE+1..+7 must be free
#   PROFILE [0]          1: after scenario 1, perf-record Signet under the same load
#   OUT [/tmp/signet-bench]  where results.tsv, report.md, logs and the profile are kept
set -euo pipefail

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
BIG_MB=${BIG_MB:-1024}
SSE_EVENTS=${SSE_EVENTS:-1000}
SSE_MS=${SSE_MS:-2}
IDLE_CONNS=${IDLE_CONNS:-10000}
MANY_KEYS=${MANY_KEYS:-1000000}
PORT_BASE=${PORT_BASE:-18100}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-120}
STARTUP_MAX_RSS_MB=${STARTUP_MAX_RSS_MB:-6144}
PROFILE=${PROFILE:-0}
OUT=${OUT:-/tmp/signet-bench}

SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=(1 2 3 4 5 6 7)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/signet-bench.XXXXXX)
mkdir -p "$OUT"
RES=$OUT/results.tsv
: >"$RES"

UP_PORT=$((PORT_BASE + 1))
GW_PORT=$((PORT_BASE + 2))
NGX_PORT=$((PORT_BASE + 3))
NSL_PORT=$((PORT_BASE + 4))
GWM_PORT=$((PORT_BASE + 5))
FLOOR_PORT=$((PORT_BASE + 6))
FLOORRP_PORT=$((PORT_BASE + 7))
UP=http://127.0.0.1:$UP_PORT
GW=http://127.0.0.1:$GW_PORT
NGX=http://127.0.0.1:$NGX_PORT
NSL=http://127.0.0.1:$NSL_PORT
GWM=http://127.0.0.1:$GWM_PORT
FLOOR=http://127.0.0.1:$FLOOR_PORT
FLOORRP=http://127.0.0.1:$FLOORRP_PORT

KEY_ID=bench
KEY_SECRET=bench-secret-0123456789abcdef
NSL_SECRET=nginx-secure-link-secret
NSL_EXPIRES=$(($(date +%s) + 86400))

PIDS=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT INT TERM

log() { printf '\n== %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}
emit() { printf '%s\n' "$(
	IFS=$'\t'
	echo "$*"
)" >>"$RES"; }

for t in wrk nginx curl go; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install -y nginx wrk curl)"
done
for p in $UP_PORT $GW_PORT $NGX_PORT $NSL_PORT $GWM_PORT $FLOOR_PORT $FLOORRP_PORT; do
	if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then die "port $p is in use (set PORT_BASE)"; fi
done
# 10,000 idle connections need as many descriptors in the server and the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((IDLE_CONNS + 1000)) ] ||
	echo "bench: ulimit -n is $(ulimit -n): scenario 5 may fail to open $IDLE_CONNS connections" >&2

log "building into $W/bin"
mkdir -p "$W/bin"
(cd "$ROOT" && go build -o "$W/bin/signet" ./cmd/signet &&
	go build -o "$W/bin/" ./bench/upstream ./bench/sseclient ./bench/idleconns ./bench/benchutil ./bench/floorproxy)
BU=$W/bin/benchutil

# wait_http URL STATUS SECONDS: poll until URL answers STATUS.
wait_http() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1" || true)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# check URL STATUS [header...]: one request must answer STATUS before a target is measured.
check() {
	local url=$1 want=$2 got args=()
	shift 2
	for h in "$@"; do args+=(-H "$h"); done
	got=$(curl -s -o "$W/check.body" -w '%{http_code}' --max-time 10 "${args[@]}" "$url" || true)
	[ "$got" = "$want" ] || die "check $url: got status $got, want $want: $(head -c 300 "$W/check.body")"
}

# rss_kb PID...: the sum of VmRSS (or, with RSS_FIELD=VmHWM, the peak) in kB.
rss_kb() {
	local f=${RSS_FIELD:-VmRSS} sum=0 v p
	for p in "$@"; do
		v=$(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
# reset_hwm PID...: restart VmHWM from the current RSS (Linux clear_refs 5).
reset_hwm() { for p in "$@"; do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done; }

# ---------------------------------------------------------------- upstream
log "starting upstream on $UP"
"$W/bin/upstream" -addr "127.0.0.1:$UP_PORT" 2>"$OUT/upstream.log" &
PIDS+=($!)
wait_http "$UP/small" 200 10 || die "upstream did not start"

# ---------------------------------------------------------------- go-floor
# bench/floorproxy: net/http's server plus Signet's upstream transport and
# nothing else, the floor under any net/http-based proxy; go-floor-rp is the
# same with httputil.ReverseProxy, as Signet forwards (scenario 1 only).
log "starting floorproxy on $FLOOR and $FLOORRP (-reverseproxy)"
"$W/bin/floorproxy" -addr "127.0.0.1:$FLOOR_PORT" -upstream "$UP" 2>"$OUT/floorproxy.log" &
PIDS+=($!)
"$W/bin/floorproxy" -reverseproxy -addr "127.0.0.1:$FLOORRP_PORT" -upstream "$UP" 2>"$OUT/floorproxy-rp.log" &
PIDS+=($!)
wait_http "$FLOOR/small" 200 10 || die "floorproxy did not start: $(tail -3 "$OUT/floorproxy.log")"
wait_http "$FLOORRP/small" 200 10 || die "floorproxy -reverseproxy did not start: $(tail -3 "$OUT/floorproxy-rp.log")"

# ---------------------------------------------------------------- nginx
log "starting nginx on $NGX (proxy_pass) and $NSL (secure_link)"
mkdir -p "$W/nginx/tmp"
chmod -R 777 "$W/nginx"
cat >"$W/nginx/nginx.conf" <<EOF
worker_processes auto;
worker_rlimit_nofile 40000;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path $W/nginx/tmp/body;
    proxy_temp_path $W/nginx/tmp/proxy;
    fastcgi_temp_path $W/nginx/tmp/fastcgi;
    uwsgi_temp_path $W/nginx/tmp/uwsgi;
    scgi_temp_path $W/nginx/tmp/scgi;
    keepalive_timeout 300s;
    keepalive_requests 1000000;
    upstream up {
        server 127.0.0.1:$UP_PORT;
        keepalive 256;
        keepalive_requests 1000000;
    }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_buffer_size 64k;
    proxy_buffers 4 64k;
    server {
        listen 127.0.0.1:$NGX_PORT;
        location / { proxy_pass http://up; }
    }
    server {
        listen 127.0.0.1:$NSL_PORT;
        location / {
            secure_link \$arg_md5,\$arg_expires;
            secure_link_md5 "\$secure_link_expires\$uri $NSL_SECRET";
            if (\$secure_link = "") { return 403; }
            if (\$secure_link = "0") { return 410; }
            proxy_pass http://up;
        }
    }
}
EOF
nginx -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" -g 'daemon off;' &
NGINX_PID=$!
PIDS+=($NGINX_PID)
wait_http "$NGX/small" 200 10 || die "nginx did not start: $(cat "$W/nginx/error.log")"
nginx_workers() { pgrep -P "$NGINX_PID" | tr '\n' ' '; }

# ---------------------------------------------------------------- signet
# The clock shortcut: wrk replays one signature for the whole run, so the
# header schemes get a 24h window (cavage max_skew, rfc9421 max_skew and
# max_age); SW1 URLs are simply signed for 24h (X-Sw-Expires=86400).
signet_config() { # signet_config PORT WITH_RFC9421 [KEYS_FILE]
	local schemes="[sw1, cavage]"
	[ "$2" = 1 ] && schemes="[sw1, cavage, rfc9421]"
	cat <<EOF
listen: "127.0.0.1:$1"
keys:
  - id: $KEY_ID
    secrets: ["$KEY_SECRET"]
    schemes: $schemes
    upstreams:
      # Loopback: allowed only because it is listed.
      - origin: "$UP"
EOF
	[ -n "${3:-}" ] && cat "$3"
	cat <<EOF
routes:
  - path: /r/
    upstream: "$UP/"
    schemes: [cavage]
    require_headers: ["(request-target)", "host", "date"]
EOF
	[ "$2" = 1 ] && cat <<EOF
  - path: /r9/
    upstream: "$UP/"
    schemes: [rfc9421]
EOF
	cat <<EOF
limits:
  idle_timeout: 300s
  upstream_idle_timeout: 300s
  upstream_max_idle_conns_per_host: 256
schemes:
  sw1: { max_skew: 1m }
  cavage: { max_skew: 24h }
EOF
	[ "$2" = 1 ] && echo "  rfc9421: { max_skew: 24h, max_age: 24h }"
	# Request logs off, as nginx's access_log: the bench measures proxying.
	echo "log: { level: warn }"
}

# start_signet NAME CONFIG PORT SECONDS: starts, waits for /readyz; sets SIGNET_PID.
start_signet() {
	"$W/bin/signet" serve --config "$2" --watch-interval 0 2>"$OUT/$1.log" &
	SIGNET_PID=$!
	PIDS+=($SIGNET_PID)
	if ! wait_http "http://127.0.0.1:$3/readyz" 200 "$4"; then
		kill "$SIGNET_PID" 2>/dev/null || true
		wait "$SIGNET_PID" 2>/dev/null || true
		return 1
	fi
}

log "starting signet on $GW"
RFC9421=1
signet_config "$GW_PORT" 1 >"$W/signet.yaml"
if ! start_signet signet "$W/signet.yaml" "$GW_PORT" 15; then
	RFC9421=0
	echo "bench: signet refused the rfc9421 route ($(grep -o '"msg":"[^"]*".*' "$OUT/signet.log" | tail -1 | head -c 300)); RFC 9421 is skipped" >&2
	signet_config "$GW_PORT" 0 >"$W/signet.yaml"
	start_signet signet "$W/signet.yaml" "$GW_PORT" 15 || die "signet did not start: $(tail -5 "$OUT/signet.log")"
fi
GW_PID=$SIGNET_PID

# ---------------------------------------------------------------- signed requests
sw1_url() { "$BU" sign -scheme sw1 -id "${3:-$KEY_ID}" -secret "${4:-$KEY_SECRET}" -gateway "$1" -target "$2" ${5:+-tamper}; }
nsl_url() { # nsl_url PATH [QUERY] [tamper]
	local q
	q=$("$BU" securelink -secret "$NSL_SECRET" -uri "$1" -expires "$NSL_EXPIRES" ${3:+-tamper})
	if [ -n "${2:-}" ]; then echo "$NSL$1?$2&$q"; else echo "$NSL$1?$q"; fi
}

SW1_SMALL=$(sw1_url "$GW" "$UP/small")
SW1_BAD=$(sw1_url "$GW" "$UP/small" "" "" tamper)
NSL_SMALL=$(nsl_url /small)
NSL_BAD=$(nsl_url /small "" tamper)
mapfile -t CAV_H < <("$BU" sign -scheme cavage -id "$KEY_ID" -secret "$KEY_SECRET" -url "$GW/r/small")
mapfile -t CAV_BAD_H < <("$BU" sign -scheme cavage -id "$KEY_ID" -secret "$KEY_SECRET" -url "$GW/r/small" -tamper)
check "$UP/small" 200
check "$NGX/small" 200
check "$NSL_SMALL" 200
check "$NSL_BAD" 403
check "$SW1_SMALL" 200
check "$SW1_BAD" 401
check "$GW/r/small" 200 "${CAV_H[@]}"
check "$GW/r/small" 401 "${CAV_BAD_H[@]}"
if [ "$RFC9421" = 1 ]; then
	mapfile -t R9_H < <("$BU" sign -scheme rfc9421 -id "$KEY_ID" -secret "$KEY_SECRET" -url "$GW/r9/small")
	r9args=()
	for h in "${R9_H[@]}"; do r9args+=(-H "$h"); done
	st=$(curl -s -o "$W/check.body" -w '%{http_code}' --max-time 10 "${r9args[@]}" "$GW/r9/small" || true)
	if [ "$st" != 200 ]; then
		echo "bench: an RFC 9421-signed request got $st ($(head -c 200 "$W/check.body")); RFC 9421 is skipped" >&2
		RFC9421=0
	fi
fi

# ---------------------------------------------------------------- measurements
# to_ms VALUE: wrk's "512.00us" / "1.20ms" / "1.00s" in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN {
	n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
	if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
	printf "%.3f", n }'; }

# load SCENARIO TARGET ROUND EXPECT URL [header...]: one wrk run, recorded.
# EXPECT is ok (every answer 2xx) or reject (every answer an error).
load() {
	local sc=$1 tgt=$2 rd=$3 expect=$4 url=$5 args=() out rps p50 p99 bad total secs
	shift 5
	for h in "$@"; do args+=(-H "$h"); done
	secs=$(awk -v d="$DURATION" 'BEGIN { n = d + 0; if (d ~ /m$/) n *= 60; print int(n) + 30 }')
	out=$(timeout "$secs" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 5s --latency "${args[@]}" "$url") ||
		die "wrk $tgt failed: $out"
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
	total=$(awk '/requests in/ {print $1}' <<<"$out")
	bad=${bad:-0}
	if [ "$expect" = ok ] && [ "$bad" != 0 ]; then
		emit "#note" "$sc" "WARNING: $tgt round $rd: $bad of $total answers were not 2xx"
	elif [ "$expect" = reject ] && [ "$bad" != "$total" ]; then
		emit "#note" "$sc" "WARNING: $tgt round $rd: only $bad of $total answers were errors"
	fi
	if grep -q 'Socket errors' <<<"$out"; then
		emit "#note" "$sc" "$tgt round $rd: $(grep 'Socket errors' <<<"$out" | sed 's/^ *//')"
	fi
	emit "$sc" "$tgt" "$rd" "req/s" "$rps"
	emit "$sc" "$tgt" "$rd" "p50 ms" "$p50"
	emit "$sc" "$tgt" "$rd" "p99 ms" "$p99"
	printf '  %-10s %-22s round %s: %10s req/s  p50 %8s ms  p99 %8s ms\n' "($sc)" "$tgt" "$rd" "$rps" "$p50" "$p99" >&2
}

WRK_DESC="wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS rounds, targets interleaved"

scenario1() {
	log "scenario 1: small GET, SW1 pre-signed URL"
	emit "#title" 1 "(1) small GET (64 B), SW1 pre-signed URL — $WRK_DESC"
	emit "#baseline" 1 direct
	emit "#compare" 1 signet-sw1 nginx-sl req/s
	emit "#compare" 1 signet-sw1 nginx-sl "p99 ms"
	emit "#compare" 1 nginx-sl direct req/s
	emit "#compare" 1 go-floor nginx-sl req/s
	emit "#compare" 1 go-floor-rp go-floor req/s
	emit "#compare" 1 signet-sw1 go-floor-rp req/s
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		load 1 direct "$r" ok "$UP/small"
		load 1 nginx "$r" ok "$NGX/small"
		load 1 nginx-sl "$r" ok "$NSL_SMALL"
		load 1 go-floor "$r" ok "$FLOOR/small"
		load 1 go-floor-rp "$r" ok "$FLOORRP/small"
		load 1 signet-sw1 "$r" ok "$SW1_SMALL"
	done
	if [ "$PROFILE" = 1 ]; then profile_sw1; fi
}

profile_sw1() {
	command -v perf >/dev/null || {
		echo "bench: perf not found, no profile" >&2
		return
	}
	log "profile: perf record of signet under scenario 1's load (not counted)"
	perf record -F 999 -g -p "$GW_PID" -o "$OUT/perf.data" -- sleep 8 2>"$OUT/perf.log" &
	local pp=$!
	PIDS+=($pp)
	timeout 40 wrk -t"$THREADS" -c"$CONNS" -d10s "$SW1_SMALL" >/dev/null
	wait "$pp" || true
	perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -40 >"$OUT/perf-self.txt" || true
	perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep '%' | head -60 >"$OUT/perf-children.txt" || true
	echo "profile: $OUT/perf-self.txt, $OUT/perf-children.txt" >&2
}

scenario2() {
	log "scenario 2: small GET, header-signed request on a route"
	emit "#title" 2 "(2) small GET (64 B), header-signed on a route (cavage hmac-sha256; RFC 9421 hmac-sha256) — $WRK_DESC"
	emit "#baseline" 2 direct
	emit "#compare" 2 signet-cavage nginx-sl req/s
	[ "$RFC9421" = 1 ] && emit "#compare" 2 signet-rfc9421 nginx-sl req/s
	[ "$RFC9421" = 1 ] || emit "#note" 2 "RFC 9421: not run — the gateway does not serve rfc9421 routes yet"
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		load 2 direct "$r" ok "$UP/small"
		load 2 nginx-sl "$r" ok "$NSL_SMALL"
		load 2 signet-cavage "$r" ok "$GW/r/small" "${CAV_H[@]}"
		if [ "$RFC9421" = 1 ]; then load 2 signet-rfc9421 "$r" ok "$GW/r9/small" "${R9_H[@]}"; fi
	done
}

# download SCENARIO TARGET ROUND URL PID...: one curl download; MB/s and peak RSS of PIDs.
download() {
	local sc=$1 tgt=$2 rd=$3 url=$4 out code size speed hwm
	shift 4
	[ $# -gt 0 ] && reset_hwm "$@"
	out=$(curl -s -o /dev/null --max-time 300 -w '%{http_code} %{size_download} %{speed_download}' "$url") || die "download $tgt failed: $out"
	read -r code size speed <<<"$out"
	[ "$code" = 200 ] && [ "$size" = $((BIG_MB << 20)) ] || die "download $tgt: status $code, $size bytes"
	emit "$sc" "$tgt" "$rd" "MB/s" "$(awk -v s="$speed" 'BEGIN {printf "%.1f", s / 1e6}')"
	if [ $# -gt 0 ]; then
		hwm=$(RSS_FIELD=VmHWM rss_kb "$@")
		emit "$sc" "$tgt" "$rd" "peak RSS MB" "$(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}')"
	fi
	printf '  (%s) %-12s round %s: %s\n' "$sc" "$tgt" "$rd" "$out" >&2
}

scenario3() {
	log "scenario 3: ${BIG_MB} MiB download"
	emit "#title" 3 "(3) ${BIG_MB} MiB download, one curl at a time — MB/s (10^6 B/s) and the proxy's peak RSS during the download (VmHWM after clear_refs; nginx: sum of workers)"
	emit "#baseline" 3 direct
	emit "#compare" 3 signet-sw1 nginx-sl MB/s
	local r big_sw1 big_nsl
	big_sw1=$(sw1_url "$GW" "$UP/big?mb=$BIG_MB")
	big_nsl=$(nsl_url /big "mb=$BIG_MB")
	for ((r = 1; r <= ROUNDS; r++)); do
		download 3 direct "$r" "$UP/big?mb=$BIG_MB"
		# shellcheck disable=SC2046
		download 3 nginx "$r" "$NGX/big?mb=$BIG_MB" $(nginx_workers)
		# shellcheck disable=SC2046
		download 3 nginx-sl "$r" "$big_nsl" $(nginx_workers)
		download 3 signet-sw1 "$r" "$big_sw1" "$GW_PID"
	done
}

# sse SCENARIO TARGET ROUND URL: latency of SSE_EVENTS events.
sse() {
	local out med p99
	out=$("$W/bin/sseclient" -url "$4" -n "$SSE_EVENTS" -timeout 5m) || die "sse $2 failed"
	med=$(sed -n 's/.*median_us=\([0-9.]*\).*/\1/p' <<<"$out")
	p99=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$out")
	emit "$1" "$2" "$3" "median µs" "$med"
	emit "$1" "$2" "$3" "p99 µs" "$p99"
	if [ "$2" = direct ]; then
		SSE_D_MED=$med SSE_D_P99=$p99
	fi
	emit "$1" "$2" "$3" "added median µs" "$(awk -v a="$med" -v b="$SSE_D_MED" 'BEGIN {printf "%.1f", a - b}')"
	emit "$1" "$2" "$3" "added p99 µs" "$(awk -v a="$p99" -v b="$SSE_D_P99" 'BEGIN {printf "%.1f", a - b}')"
	printf '  (%s) %-12s round %s: %s\n' "$1" "$2" "$3" "$out" >&2
}

scenario4() {
	log "scenario 4: SSE latency, $SSE_EVENTS events every ${SSE_MS} ms"
	emit "#title" 4 "(4) SSE: $SSE_EVENTS events, one every $SSE_MS ms; receive time − send time per event (added = minus the direct run of the same round)"
	local r q="n=$SSE_EVENTS&ms=$SSE_MS" s_sw1 s_nsl
	s_sw1=$(sw1_url "$GW" "$UP/sse?$q")
	s_nsl=$(nsl_url /sse "$q")
	for ((r = 1; r <= ROUNDS; r++)); do
		sse 4 direct "$r" "$UP/sse?$q"
		sse 4 nginx "$r" "$NGX/sse?$q"
		sse 4 nginx-sl "$r" "$s_nsl"
		sse 4 signet-sw1 "$r" "$s_sw1"
	done
}

# idle SCENARIO TARGET ROUND ADDR PID...: RSS of PIDs with IDLE_CONNS idle keep-alive connections.
idle() {
	local sc=$1 tgt=$2 rd=$3 addr=$4 before after ip line
	shift 4
	before=$(rss_kb "$@")
	"$W/bin/idleconns" -addr "$addr" -n "$IDLE_CONNS" -hold 120s -path /small >"$W/idle.out" 2>&1 &
	ip=$!
	PIDS+=($ip)
	for ((i = 0; i < 1200; i++)); do
		line=$(head -1 "$W/idle.out")
		[ -n "$line" ] && break
		kill -0 "$ip" 2>/dev/null || break
		sleep 0.1
	done
	case "$line" in ready*) ;; *) die "idleconns $tgt: $(cat "$W/idle.out")" ;; esac
	sleep 1
	after=$(rss_kb "$@")
	kill "$ip" 2>/dev/null || true
	wait "$ip" 2>/dev/null || true
	emit "$sc" "$tgt" "$rd" "RSS before MB" "$(awk -v k="$before" 'BEGIN {printf "%.1f", k / 1024}')"
	emit "$sc" "$tgt" "$rd" "RSS idle MB" "$(awk -v k="$after" 'BEGIN {printf "%.1f", k / 1024}')"
	emit "$sc" "$tgt" "$rd" "KiB/conn" "$(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN {printf "%.2f", (a - b) / n}')"
	printf '  (%s) %-12s round %s: %s; RSS %s -> %s kB\n' "$sc" "$tgt" "$rd" "$line" "$before" "$after" >&2
	sleep 1
}

scenario5() {
	log "scenario 5: $IDLE_CONNS idle keep-alive client connections"
	emit "#title" 5 "(5) $IDLE_CONNS idle keep-alive client connections (one GET /small each, then held): the proxy's RSS (nginx: sum of workers)"
	# Through a proxy, /small is an unsigned request: nginx proxies it and
	# Signet answers 404 no_route; either way the connection stays open.
	emit "#note" 5 "Signet's RSS does not drop after the connections close (the Go runtime keeps the heap), so rounds after the first start higher: round 1's figures are the clean ones (in results.tsv)"
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		# shellcheck disable=SC2046
		idle 5 nginx "$r" "127.0.0.1:$NGX_PORT" $(nginx_workers)
		idle 5 signet "$r" "127.0.0.1:$GW_PORT" "$GW_PID"
	done
}

scenario6() {
	log "scenario 6: $MANY_KEYS keys in the config file"
	emit "#title" 6 "(6) key store of $MANY_KEYS keys (file config) vs 1 key: startup, RSS, SW1 verify throughput — $WRK_DESC"
	emit "#baseline" 6 direct
	emit "#compare" 6 signet-${MANY_KEYS}keys signet-1key req/s
	emit "#note" 6 "PostgreSQL variant: bench/pg1m.sh (its own import, schema and ports; run it separately)"
	local t0 t1 mid url_many r start_ms rss
	"$BU" keys -n "$MANY_KEYS" -origin "$UP" >"$W/keys.yaml"
	signet_config "$GWM_PORT" "$RFC9421" "$W/keys.yaml" >"$W/signet-many.yaml"
	echo "  config: $(du -h "$W/signet-many.yaml" | cut -f1)" >&2
	# A watchdog, not start_signet: a store that does not fit must not take
	# the shared machine down with it.
	t0=$(date +%s%N)
	"$W/bin/signet" serve --config "$W/signet-many.yaml" --watch-interval 0 2>"$OUT/signet-many.log" &
	local many_pid=$! peak=0 now i
	PIDS+=($many_pid)
	for ((i = 0; ; i++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$GWM/readyz" || true)" = 200 ] && break
		now=$(rss_kb "$many_pid")
		[ "$now" -gt "$peak" ] && peak=$now
		if ! kill -0 "$many_pid" 2>/dev/null || [ "$now" -gt $((STARTUP_MAX_RSS_MB * 1024)) ] || [ $((i / 10)) -ge "$STARTUP_TIMEOUT" ]; then
			kill -9 "$many_pid" 2>/dev/null || true
			wait "$many_pid" 2>/dev/null || true
			emit "#note" 6 "FAILED: Signet with $MANY_KEYS keys was not ready after $(((($(date +%s%N) - t0) / 1000000))) ms; RSS reached $((peak / 1024)) MB (limits: ${STARTUP_TIMEOUT}s, ${STARTUP_MAX_RSS_MB} MB); stopped. Log: $(tail -c 300 "$OUT/signet-many.log" | tr '\n\t' '  ')"
			echo "  signet with $MANY_KEYS keys: not ready after ${i}00 ms, RSS $((peak / 1024)) MB: stopped" >&2
			return 0
		fi
		sleep 0.1
	done
	t1=$(date +%s%N)
	start_ms=$(((t1 - t0) / 1000000))
	rss=$(rss_kb "$many_pid")
	emit "#note" 6 "startup with $MANY_KEYS keys (process start to /readyz 200): $(awk -v m="$start_ms" 'BEGIN {printf "%.2f s", m / 1000}'); RSS after startup $(awk -v k="$rss" 'BEGIN {printf "%.0f MB", k / 1024}'), peak during startup $(awk -v k="$(RSS_FIELD=VmHWM rss_kb "$many_pid")" 'BEGIN {printf "%.0f MB", k / 1024}'); 1-key Signet RSS now $(awk -v k="$(rss_kb "$GW_PID")" 'BEGIN {printf "%.0f MB", k / 1024}')"
	mid=$(printf 'k%07d' $((MANY_KEYS / 2))) # benchutil keys' id scheme
	url_many=$(sw1_url "$GWM" "$UP/small" "$mid" "secret-$mid")
	check "$url_many" 200
	for ((r = 1; r <= ROUNDS; r++)); do
		load 6 direct "$r" ok "$UP/small"
		load 6 signet-1key "$r" ok "$SW1_SMALL"
		load 6 "signet-${MANY_KEYS}keys" "$r" ok "$url_many"
	done
	emit "#note" 6 "RSS of the $MANY_KEYS-key Signet after the load: $(awk -v k="$(rss_kb "$many_pid")" 'BEGIN {printf "%.0f MB", k / 1024}')"
	kill "$many_pid" 2>/dev/null || true
	wait "$many_pid" 2>/dev/null || true
}

scenario7() {
	log "scenario 7: rejection path"
	emit "#title" 7 "(7) rejection path: invalid signatures (one character of the signature changed) vs valid — $WRK_DESC"
	emit "#baseline" 7 direct
	emit "#compare" 7 signet-sw1-invalid signet-sw1-valid req/s
	emit "#compare" 7 signet-cavage-invalid signet-cavage-valid req/s
	emit "#compare" 7 nginx-sl-invalid nginx-sl-valid req/s
	emit "#compare" 7 signet-sw1-invalid nginx-sl-invalid req/s
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		load 7 direct "$r" ok "$UP/small"
		load 7 nginx-sl-valid "$r" ok "$NSL_SMALL"
		load 7 nginx-sl-invalid "$r" reject "$NSL_BAD"
		load 7 signet-sw1-valid "$r" ok "$SW1_SMALL"
		load 7 signet-sw1-invalid "$r" reject "$SW1_BAD"
		load 7 signet-cavage-valid "$r" ok "$GW/r/small" "${CAV_H[@]}"
		load 7 signet-cavage-invalid "$r" reject "$GW/r/small" "${CAV_BAD_H[@]}"
	done
}

for s in "${SCENARIOS[@]}"; do
	case "$s" in
	1 | 2 | 3 | 4 | 5 | 6 | 7) "scenario$s" ;;
	*) die "unknown scenario $s (1..7)" ;;
	esac
done

{
	echo "## Results $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $(go version | cut -d' ' -f3), $(nginx -v 2>&1 | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f2)"
	echo
	echo "Command: \`ROUNDS=$ROUNDS DURATION=$DURATION ./bench/run.sh ${SCENARIOS[*]}\`"
	"$BU" report "$RES"
} >"$OUT/report.md"
cat "$OUT/report.md"
