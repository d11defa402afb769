#!/usr/bin/env bash
# Do four shard processes, merged, report what one process reports for the same load?
# (README, "Sharded runs on Kubernetes"; issue 14's "done when".) The same `run` against a
# fixed-200 nginx on loopback, alternately as one process and as SHARDS processes with
# --shard K/N --start-at +2s merged by `peakrps merge`; prints both documents' figures side
# by side. Traffic goes to 127.0.0.1 only.
#
#   bench/shards-vs-one.sh                        # --rate 4000, 20 s, 4 shards, 2 rounds
#   RATE=8000 DURATION=30 SHARDS=4 ROUNDS=3 bench/shards-vs-one.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-4000}
DURATION=${DURATION:-20}
SHARDS=${SHARDS:-4}
ROUNDS=${ROUNDS:-2}
WORK=$(mktemp -d)
NGINX_PID=
# nginx must be gone before its directory: it removes its pid file as it exits.
trap '[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

cargo build --release --quiet
PEAKRPS=${CARGO_TARGET_DIR:-target}/release/peakrps

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s|listen 127.0.0.1:18080;|listen 127.0.0.1:$PORT;|" -e "s|^pid .*|pid $WORK/nginx.pid;|" \
  -e "s|/tmp/peakrps-bench-nginx-|$WORK/nginx-|" bench/nginx.conf >"$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
TARGET="http://127.0.0.1:$PORT/invocations"
LOAD=(--rate "$RATE" --duration "${DURATION}s" --quiet)

figures() { # document → one line of its figures
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[2]))
s, l = d["summary"], d["summary"]["latency_ms"]
print(f"{sys.argv[1]:<22} requests {s['requests']:>7}  achieved {s['rps']:8.1f} req/s  "
      f"errors {sum(s['errors'].values())}  "
      f"dropped {s['dropped']}  p50 {l['p50']:.3f}  p90 {l['p90']:.3f}  p99 {l['p99']:.3f}  max {l['max']:.1f} ms")
PY
}

for round in $(seq "$ROUNDS"); do
  "$PEAKRPS" run "$TARGET" "${LOAD[@]}" --json "$WORK/one.json" >/dev/null
  figures "round $round: one" "$WORK/one.json"

  base=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
  pids=()
  for k in $(seq 0 $((SHARDS - 1))); do
    "$PEAKRPS" run "$TARGET" "${LOAD[@]}" --shard "$k/$SHARDS" --start-at +2s --start-base "$base" \
      --json "$WORK/shard-$k.json" >/dev/null &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  "$PEAKRPS" merge "$WORK"/shard-*.json --json "$WORK/merged.json" >/dev/null
  figures "round $round: $SHARDS merged" "$WORK/merged.json"
done
