#!/usr/bin/env bash
# make bench-cpu: CPU time per request of the front worker (user and kernel apart) and of the mock,
# per arm, under the same wrk load as `make bench`. Where `make bench` says how much slower an arm
# is, this says where the time goes: user time is the module's code (and nginx's), kernel time the
# sockets and the wake-ups of wrk and the mock. Clock ticks of /proc/<pid>/stat (utime, stime) over
# one run: coarse (10 ms a tick), so runs are several seconds long.
#
#   BENCH_ARMS (proxy_pass openai anthropic), BENCH_SIZE (1024), BENCH_DURATION (6s),
#   BENCH_CONNECTIONS (50), BENCH_THREADS (2); ROUTESHIFT_MODULE, NGINX as for bench/run.sh.
#
# Prints, per arm:
#   BENCH_CPU arm=<arm> size=<bytes> rps=<n> user_us=<n> kernel_us=<n> mock_us=<n>
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

ARMS="${BENCH_ARMS:-proxy_pass openai anthropic}"
SIZE="${BENCH_SIZE:-1024}"
DURATION="${BENCH_DURATION:-6s}"
CONNECTIONS="${BENCH_CONNECTIONS:-50}"
THREADS="${BENCH_THREADS:-2}"
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# user and kernel clock ticks of a process: fields 14 and 15 of /proc/<pid>/stat
ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
per_request_us() { awk -v t="$1" -v n="$2" -v us="$TICK_US" 'BEGIN { printf "%.1f", t * us / n }'; }

start_mock
mock_worker="$(pgrep -P "$STARTED_PID" | head -1)"
echo "bench-cpu: wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $SIZE-byte bodies, 1 nginx worker per front"
printf '%-12s %10s %12s %12s %12s\n' arm "req/s" "user µs" "kernel µs" "mock µs"
for arm in $ARMS; do
  body="$WORK/body-$arm-$SIZE.json"
  write_body "$SIZE" "$(arm_model "$arm")" "$body"
  port="$(free_port)"
  SNAPSHOT_FILE="$WORK/snapshot.json" start_nginx "cpu-$arm" "$BENCH_DIR/$(arm_front "$arm").conf.tmpl" "$port" >/dev/null
  front="$STARTED_PID"
  worker="$(pgrep -P "$front" | head -1)"
  url="http://127.0.0.1:$port/v1/chat/completions"
  BENCH_VKEY="$VKEY" BENCH_BODY_FILE="$body" wrk -t"$THREADS" -c"$CONNECTIONS" -d1s -s bench/chat.lua "$url" >/dev/null
  read -r user0 kernel0 < <(ticks "$worker")
  read -r mu0 mk0 < <(ticks "$mock_worker")
  out="$(BENCH_VKEY="$VKEY" BENCH_BODY_FILE="$body" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s bench/chat.lua "$url")"
  read -r user1 kernel1 < <(ticks "$worker")
  read -r mu1 mk1 < <(ticks "$mock_worker")
  requests="$(awk '/requests in/ {print $1}' <<<"$out")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  if [[ -z "$requests" || "$requests" == 0 ]] || grep -q "Non-2xx\|Socket errors" <<<"$out"; then
    echo "bench-cpu: $arm: errors or no requests" >&2
    echo "$out" >&2
    exit 1
  fi
  user_us="$(per_request_us $((user1 - user0)) "$requests")"
  kernel_us="$(per_request_us $((kernel1 - kernel0)) "$requests")"
  mock_us="$(per_request_us $((mu1 - mu0 + mk1 - mk0)) "$requests")"
  printf '%-12s %10.0f %12s %12s %12s\n' "$arm" "$rps" "$user_us" "$kernel_us" "$mock_us"
  echo "BENCH_CPU arm=$arm size=$SIZE rps=$rps user_us=$user_us kernel_us=$kernel_us mock_us=$mock_us"
  stop_nginx "$front"
done
