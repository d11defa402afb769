#!/usr/bin/env bash
# What an open-loop load costs the client at low rates: CPU seconds per request at 1, 10, 100
# and 1000 req/s, with the p99 of latency counted from each request's due time against a
# fixed-200 nginx (so it is the send lateness plus nginx's ~0.1 ms), and a traffic profile
# played fast. A client that sleeps between requests spends little CPU per request at any
# rate; one that polls spends more per request the lower the rate. Traffic goes to 127.0.0.1.
#
#   bench/idle-cost.sh                          # 10 s per rate
#   DURATION=30 bench/idle-cost.sh
#   BASELINE=/path/to/older/peakrps bench/idle-cost.sh   # the same table for another build
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
WORK=$(mktemp -d)
NGINX_PID=
trap '[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/invocations

command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet

sed -e "s|listen 127.0.0.1:18080;|listen 127.0.0.1:$PORT;|" -e "s|^pid .*|pid $WORK/nginx.pid;|" \
  -e "s|/tmp/peakrps-bench-nginx-|$WORK/nginx-|" bench/nginx.conf >"$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "$URL" 2>/dev/null && break; sleep 0.1; done
printf '{"instances": [[5.9, 3.0, 4.2, 1.5]]}' >"$WORK/body.json"

# One row: the build, the load, requests, CPU seconds, CPU ms a request, p50/p99 from due time.
measure() {
  local bin=$1 name=$2
  shift 2
  /usr/bin/time -f "%U %S" -o "$WORK/time" "$bin" run "$URL" --payload "$WORK/body.json" \
    --quiet --json "$WORK/r.json" "$@" >/dev/null
  python3 - "$name" "$*" "$WORK/r.json" "$WORK/time" <<'PY'
import json, sys
name, load, doc, times = sys.argv[1:]
s = json.load(open(doc))["summary"]
user, sys_ = map(float, open(times).read().split()[:2])
cpu, n = user + sys_, s["requests"]
lat = s["latency_ms"]
print(f"{name:9} {load:40} {n:7} {cpu:7.2f} {1000 * cpu / max(n, 1):9.3f} {lat['p50']:7.2f} {lat['p99']:7.2f}")
PY
}

table() {
  local bin=$1 name=$2
  for rate in 1 10 100 1000; do
    measure "$bin" "$name" --rate "$rate" -d "${DURATION}s"
  done
  measure "$bin" "$name" --profile examples/traffic-llm.toml --speed 90
}

echo "build     load                                     requests   cpu-s  cpu-ms/req  p50-ms  p99-ms"
table target/release/peakrps this
[ -n "${BASELINE:-}" ] && table "$BASELINE" baseline
exit 0
