#!/usr/bin/env bash
# Compares peakrps's load generator with wrk and oha on this machine, in the same run:
# a fixed-200 nginx pinned to core 0, each client pinned to core 1 with the same connections
# and duration, interleaved over several rounds. Prints requests/s, requests per client
# CPU-second (user + sys), the median ratios, peakrps's peak memory on a long run, and the
# achieved vs offered rate of --rate. Installs wrk, nginx and GNU time (Debian) and oha
# (cargo) when missing. Traffic goes to 127.0.0.1 only.
#
#   bench/vs-peers.sh                  # 3 rounds of 10 s, 32 connections
#   ROUNDS=5 DURATION=20 bench/vs-peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
LONG=${LONG:-60}
BODY='{"instances": [[5.9, 3.0, 4.2, 1.5]]}'
WORK=$(mktemp -d)
NGINX_PID=
# nginx must be gone before its directory: it removes its pid file as it exits.
trap '[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
# A port of our own (another bench may hold bench/nginx.conf's 18080), and nginx's pid file
# in $WORK, so this script stops only the nginx it started.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/invocations

need_apt() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need_apt wrk wrk
need_apt nginx nginx-light
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
command -v oha >/dev/null || cargo install oha --locked
cargo build --release --quiet
PEAKRPS=$PWD/target/release/peakrps

sed -e "s|listen 127.0.0.1:18080;|listen 127.0.0.1:$PORT;|" -e "s|^pid .*|pid $WORK/nginx.pid;|" \
  -e "s|/tmp/peakrps-bench-nginx-|$WORK/nginx-|" bench/nginx.conf >"$WORK/nginx.conf"
taskset -c 0 nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "$URL" 2>/dev/null && break; sleep 0.1; done

# Each runner prints "requests" on stdout; GNU time writes "user sys maxrss_kb" to $WORK/time.
timed() { /usr/bin/time -f "%U %S %M" -o "$WORK/time" taskset -c 1 "$@"; }

run_peakrps() {
  timed "$PEAKRPS" run "$URL" -c "$CONNECTIONS" -d "${DURATION}s" --payload "$WORK/body.json" \
    --quiet --json "$WORK/p.json" >/dev/null
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["requests"])' "$WORK/p.json"
}
run_wrk() {
  timed wrk -t1 -c "$CONNECTIONS" -d "${DURATION}s" -s bench/post.lua "$URL" >"$WORK/wrk.txt"
  awk '/requests in/ {print $1}' "$WORK/wrk.txt"
}
run_oha() {
  timed oha --no-tui -c "$CONNECTIONS" -z "${DURATION}s" -m POST -T application/json -d "$BODY" \
    --output-format json "$URL" >"$WORK/oha.json"
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(d["statusCodeDistribution"].values()))' "$WORK/oha.json"
}

printf '%s' "$BODY" >"$WORK/body.json"
echo "round tool requests/s requests/cpu-s cpu-s"
: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  for tool in peakrps wrk oha; do
    requests=$("run_$tool")
    read -r user sys _ <"$WORK/time"
    python3 - "$round" "$tool" "$requests" "$user" "$sys" "$DURATION" <<'PY' | tee -a "$WORK/results"
import sys
r, tool, n, user, sys_, d = sys.argv[1:]
cpu = float(user) + float(sys_)
print(f"{r} {tool} {int(n)/float(d):.0f} {int(n)/cpu if cpu else 0:.0f} {cpu:.2f}")
PY
  done
done

python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for r, tool, rps, per_cpu, _ in rows:
    by.setdefault(int(r), {})[tool] = (float(rps), float(per_cpu))
def median_ratio(other, i):
    return statistics.median(v["peakrps"][i] / v[other][i] for v in by.values() if v[other][i])
print()
for other in ("wrk", "oha"):
    print(f"median peakrps/{other}: requests/s {median_ratio(other, 0):.2f}x, "
          f"requests per client CPU-second {median_ratio(other, 1):.2f}x")
PY

echo
echo "peakrps memory, ${LONG} s closed loop at $CONNECTIONS connections:"
timed "$PEAKRPS" run "$URL" -c "$CONNECTIONS" -d "${LONG}s" --payload "$WORK/body.json" --quiet \
  --json "$WORK/long.json" >/dev/null
read -r _ _ rss <"$WORK/time"
python3 - "$WORK/long.json" "$rss" <<'PY'
import json, sys
requests = json.load(open(sys.argv[1]))["summary"]["requests"]
print(f"  {requests} requests, peak resident {int(sys.argv[2]) / 1024:.1f} MB")
PY

echo
echo "peakrps --rate: offered vs achieved (10 s each)"
for rate in 1000 10000 20000 50000; do
  taskset -c 1 "$PEAKRPS" run "$URL" --rate "$rate" -d 10s --payload "$WORK/body.json" --quiet \
    --json "$WORK/rate.json" >/dev/null
  python3 - "$WORK/rate.json" "$rate" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]; rate = float(sys.argv[2])
print(f"  offered {rate:>7.0f}  achieved {s['rps']:>9.1f} ({s['rps']/rate*100:5.1f}%)  dropped {s['dropped']}  p50 {s['latency_ms']['p50']} ms  p99 {s['latency_ms']['p99']} ms")
PY
done
