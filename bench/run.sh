#!/usr/bin/env bash
# `make bench`: requests/s of stock nginx proxy_pass (a) vs nginx + RouteShift (b), both with one
# worker and upstream keepalive, in front of the same fast mock provider (a stock nginx returning a
# canned chat.completion).  Runs a, b, a, b (wrk -t2 -c50 -d10s --latency each), reports the
# median of each side, the ratio b/a and latency percentiles, and ends with one line:
#   BENCH proxy_pass_rps=<n> routeshift_rps=<n> ratio=<b/a>
# Env: ROUTESHIFT_MODULE (default build/ngx_http_routeshift_module.so), BENCH_DURATION (10s),
#      BENCH_CONNECTIONS (50), BENCH_THREADS (2), BENCH_ROUNDS (2), NGINX (/usr/sbin/nginx).
# Exit status: 0 ok; 1 module missing or a side failed (non-2xx answers, socket errors, no start).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
NGINX="${NGINX:-/usr/sbin/nginx}"
MODULE="${ROUTESHIFT_MODULE:-$REPO/build/ngx_http_routeshift_module.so}"
DURATION="${BENCH_DURATION:-10s}"
CONNS="${BENCH_CONNECTIONS:-50}"
THREADS="${BENCH_THREADS:-2}"
ROUNDS="${BENCH_ROUNDS:-2}"
WARMUP="${BENCH_WARMUP:-2s}"

for tool in wrk "$NGINX" curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found" >&2; exit 1; }
done

WORK="$(mktemp -d /tmp/routeshift-bench.XXXXXX)"
declare -a PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -QUIT "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  if [[ "${BENCH_KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; else echo "bench: kept $WORK"; fi
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {  # port, pid
  local i
  for i in $(seq 1 100); do
    if ! kill -0 "$2" 2>/dev/null; then return 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# render TEMPLATE OUT KEY=VALUE...
render() {
  local tmpl="$1" out="$2"; shift 2
  local text; text="$(cat "$tmpl")"
  local kv
  for kv in "$@"; do text="${text//@${kv%%=*}@/${kv#*=}}"; done
  printf '%s\n' "$text" > "$out"
}

# start_nginx NAME TEMPLATE PORT KEY=VALUE... ; sets STARTED_PID
start_nginx() {
  local name="$1" tmpl="$2" port="$3"; shift 3
  local prefix="$WORK/$name"
  mkdir -p "$prefix"/{client_body_temp,proxy_temp,fastcgi_temp,uwsgi_temp,scgi_temp,logs}
  render "$tmpl" "$prefix/nginx.conf" PREFIX="$prefix" PORT="$port" "$@"
  "$NGINX" -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/error.log" \
    >"$prefix/stderr.log" 2>&1 </dev/null &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  if ! wait_port "$port" "$STARTED_PID"; then
    echo "bench: $name did not start:" >&2
    cat "$prefix/stderr.log" "$prefix/error.log" >&2 2>/dev/null || true
    return 1
  fi
}

SECRET="sk-bench-upstream-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
VKEY="sk-proxy-bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
VKEY_HASH="$(printf '%s' "$VKEY" | sha256sum | cut -d' ' -f1)"
export BENCH_VKEY="$VKEY"

MOCK_PORT="$(free_port)"; PP_PORT="$(free_port)"; RS_PORT="$(free_port)"; RS_ADMIN="$(free_port)"

start_nginx mock "$HERE/mock_upstream.conf.tmpl" "$MOCK_PORT"
start_nginx proxy_pass "$HERE/proxy_pass.conf.tmpl" "$PP_PORT" MOCK_PORT="$MOCK_PORT" SECRET="$SECRET"

HAVE_MODULE=1
if [[ ! -f "$MODULE" ]]; then
  HAVE_MODULE=0
  echo "bench: RouteShift module not found at $MODULE (run make first); measuring (a) only" >&2
else
  start_nginx routeshift "$HERE/routeshift.conf.tmpl" "$RS_PORT" MODULE="$MODULE" \
    ADMIN_PORT="$RS_ADMIN" || exit 1
  wait_port "$RS_ADMIN" "$STARTED_PID"
  render "$HERE/snapshot.json.tmpl" "$WORK/snapshot.json" MOCK_PORT="$MOCK_PORT" SECRET="$SECRET" \
    VKEY_HASH="$VKEY_HASH"
  code="$(curl -s -o "$WORK/push.out" -w '%{http_code}' -X PUT --data-binary "@$WORK/snapshot.json" \
          -H 'Content-Type: application/json' "http://127.0.0.1:$RS_ADMIN/admin/snapshot")"
  if [[ "$code" != 200 ]]; then
    echo "bench: snapshot push failed: HTTP $code $(cat "$WORK/push.out")" >&2; exit 1
  fi
fi

# sanity: one request through each front must answer 200 with the canned completion
check_front() {  # name port
  local out code
  out="$WORK/check-$1.out"
  code="$(curl -s -o "$out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
          -H "Authorization: Bearer $VKEY" \
          --data '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' \
          "http://127.0.0.1:$2/v1/chat/completions")"
  if [[ "$code" != 200 ]] || ! grep -q '"chat.completion"' "$out"; then
    echo "bench: $1 sanity request failed: HTTP $code $(head -c 500 "$out")" >&2
    return 1
  fi
}
check_front proxy_pass "$PP_PORT"
if [[ $HAVE_MODULE == 1 ]]; then check_front routeshift "$RS_PORT"; fi

FAILED=0
declare -a RPS_A=() RPS_B=()
mock_accepts() {  # connections the mock has accepted so far (stub_status)
  curl -s "http://127.0.0.1:$MOCK_PORT/__status" | awk 'NR==3 {print $1}'
}

# run_wrk LABEL PORT ROUND -> appends rps
run_wrk() {
  local label="$1" port="$2" round="$3" out acc0 acc1
  out="$WORK/wrk-$label-$round.txt"
  acc0="$(mock_accepts)"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$HERE/chat.lua" \
    "http://127.0.0.1:$port/v1/chat/completions" > "$out" 2>&1 || true
  acc1="$(mock_accepts)"
  local rps p50 p75 p90 p99 bad errs
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
  p50="$(awk '$1=="50%" {print $2}' "$out")"; p75="$(awk '$1=="75%" {print $2}' "$out")"
  p90="$(awk '$1=="90%" {print $2}' "$out")"; p99="$(awk '$1=="99%" {print $2}' "$out")"
  bad="$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$out")"
  errs="$(grep -E '^ *Socket errors' "$out" || true)"
  printf '%-11s round %s: %10s req/s  latency p50 %-8s p75 %-8s p90 %-8s p99 %-8s upstream conns opened %s%s%s\n' \
    "$label" "$round" "${rps:-?}" "${p50:-?}" "${p75:-?}" "${p90:-?}" "${p99:-?}" \
    "$(( ${acc1:-0} - ${acc0:-0} - 1 ))" "${bad:+  NON-2XX: $bad}" "${errs:+  $errs}"
  if [[ -z "$rps" || -n "$bad" ]]; then
    FAILED=1; echo "--- wrk output ($label round $round) ---"; cat "$out"
    echo "--- one request now ---"
    curl -s -i -X POST -H 'Content-Type: application/json' -H "Authorization: Bearer $VKEY" \
      --data '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}' \
      "http://127.0.0.1:$port/v1/chat/completions" | head -c 1500; echo
    echo "--- $label error.log (warn and above, last 15) ---"
    grep -v '\[notice\]' "$WORK/$label/error.log" | tail -15 || true
  fi
  # a round with non-2xx answers measured errors, not proxying: keep it out of the median
  if [[ -n "$rps" && -z "$bad" ]]; then
    if [[ "$label" == proxy_pass ]]; then RPS_A+=("$rps"); else RPS_B+=("$rps"); fi
  fi
}

median() { printf '%s\n' "$@" | { grep . || true; } | sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "NA"} else if (NR%2) {print a[(NR+1)/2]} else {printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}}'; }

echo "bench: wrk -t$THREADS -c$CONNS -d$DURATION, ~1 KB chat body, 1 nginx worker per front, $ROUNDS rounds"
# warm-up (connections, caches); not reported
wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$HERE/chat.lua" "http://127.0.0.1:$PP_PORT/v1/chat/completions" >/dev/null 2>&1 || true
if [[ $HAVE_MODULE == 1 ]]; then
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" -s "$HERE/chat.lua" "http://127.0.0.1:$RS_PORT/v1/chat/completions" >/dev/null 2>&1 || true
fi
for round in $(seq 1 "$ROUNDS"); do
  run_wrk proxy_pass "$PP_PORT" "$round"
  if [[ $HAVE_MODULE == 1 ]]; then run_wrk routeshift "$RS_PORT" "$round"; fi
done

A="$(median "${RPS_A[@]+"${RPS_A[@]}"}")"
if [[ $HAVE_MODULE == 1 ]]; then
  B="$(median "${RPS_B[@]+"${RPS_B[@]}"}")"
  RATIO="$(awk -v a="$A" -v b="$B" 'BEGIN { if (a != "NA" && b != "NA" && a > 0) printf "%.3f", b / a; else print "NA" }')"
else
  B=NA; RATIO=NA; FAILED=1
fi

for log in "$WORK"/*/error.log; do
  if grep -E '\[(alert|crit|emerg)\]' "$log" >/dev/null 2>&1; then
    echo "bench: problems in $log:"; grep -E '\[(alert|crit|emerg)\]' "$log" | head -20
    FAILED=1
  fi
done

echo "median proxy_pass: $A req/s   routeshift: $B req/s   ratio routeshift/proxy_pass: $RATIO"
echo "BENCH proxy_pass_rps=$A routeshift_rps=$B ratio=$RATIO"
exit "$FAILED"
