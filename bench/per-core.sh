#!/usr/bin/env bash
# How many requests one client core sends, for sizing a sharded run (README, "How many pods"):
# peakrps against a fixed-200 nginx pinned to core 0, the client pinned to core 1, for plain
# http://, https:// (TLS, keep-alive) and sagemaker:// (every request SigV4-signed; sent to
# nginx over http with throwaway credentials, so only the client's signing is measured).
# Prints requests per client CPU-second (user + sys, from GNU time): the figure that depends
# least on what else the machine runs; closed loop (32 connections, as fast as nginx answers)
# and open loop at a rate nginx keeps up with (OPEN_RATE, 20000 req/s), as a shard sends.
# Traffic goes to 127.0.0.1 only.
#
#   bench/per-core.sh                 # 3 interleaved rounds of 10 s, 32 connections
#   ROUNDS=5 DURATION=20 OPEN_RATE=10000 bench/per-core.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
OPEN_RATE=${OPEN_RATE:-20000}
WORK=$(mktemp -d)
NGINX_PID=
# nginx must be gone before its directory: it removes its pid file as it exits.
trap '[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
# Ports of our own (another bench may hold bench/nginx.conf's 18080), and nginx's pid file in
# $WORK, so this script stops only the nginx it started.
read -r PORT TLS_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')

cargo build --release --quiet
PEAKRPS=${CARGO_TARGET_DIR:-target}/release/peakrps

# nginx with TLS beside bench/nginx.conf's plain port: a self-signed certificate for 127.0.0.1
# (an end-entity one: webpki refuses a CA certificate as the server's).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:FALSE -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
sed -e "s|listen 127.0.0.1:18080;|listen 127.0.0.1:$PORT; listen 127.0.0.1:$TLS_PORT ssl; ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;|" \
  -e "s|^pid .*|pid $WORK/nginx.pid;|" -e "s|/tmp/peakrps-bench-nginx-|$WORK/nginx-|" \
  bench/nginx.conf >"$WORK/nginx.conf"
taskset -c 0 nginx -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done

printf '{"instances": [[5.9, 3.0, 4.2, 1.5]]}' >"$WORK/body.json"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

# kind → the target and its flags
target() {
  case $1 in
    http) echo "http://127.0.0.1:$PORT/invocations" ;;
    https) echo "https://127.0.0.1:$TLS_PORT/invocations --ca-cert $WORK/cert.pem" ;;
    sagemaker) echo "sagemaker://bench --endpoint-url http://127.0.0.1:$PORT" ;;
  esac
}

# kind load… → "requests cpu_seconds achieved_rps"
measure() {
  local kind=$1
  shift
  # shellcheck disable=SC2046
  /usr/bin/time -f "%U %S" -o "$WORK/time" taskset -c 1 "$PEAKRPS" run $(target "$kind") \
    --payload "$WORK/body.json" "$@" -d "${DURATION}s" --quiet --json "$WORK/r.json" >/dev/null 2>"$WORK/err" \
    || { cat "$WORK/err" >&2; exit 1; }
  read -r user sys <"$WORK/time"
  python3 - "$WORK/r.json" "$user" "$sys" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(s["requests"], float(sys.argv[2]) + float(sys.argv[3]), s["rps"])
PY
}

echo "round kind requests/s requests/cpu-s"
: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  for kind in http https sagemaker; do
    read -r n cpu rps < <(measure "$kind" -c "$CONNECTIONS")
    python3 -c "import sys; r,k,n,c,rps=sys.argv[1:]; print(r, k, f'{float(rps):.0f}', f'{int(n)/float(c):.0f}')" \
      "$round" "$kind" "$n" "$cpu" "$rps" | tee -a "$WORK/results"
  done
done

python3 - "$WORK/results" >"$WORK/medians" <<'PY'
import statistics, sys
by = {}
for line in open(sys.argv[1]):
    _, kind, rps, per_cpu = line.split()
    by.setdefault(kind, []).append(float(per_cpu))
for kind, values in by.items():
    print(kind, round(statistics.median(values)))
PY
echo
echo "median requests per client CPU-second:"
cat "$WORK/medians"

echo
echo "open loop at --rate $OPEN_RATE (what a shard sends), requests per client CPU-second:"
for kind in http https sagemaker; do
  read -r n cpu rps < <(measure "$kind" --rate "$OPEN_RATE" --max-inflight 256)
  python3 -c "import sys; k,r,rps,n,c,d=sys.argv[1:]; print(f'  {k:10} offered {r:>6} achieved {float(rps):8.1f} ({float(rps)/int(r)*100:5.1f}%), {int(n)/float(c):7.0f} requests per CPU-second, client CPU {float(c)/int(d)*100:3.0f}% of a core')" \
    "$kind" "$OPEN_RATE" "$rps" "$n" "$cpu" "$DURATION"
done
