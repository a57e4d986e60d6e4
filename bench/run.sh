#!/usr/bin/env bash
# `make bench`: requests/s and latency of three arms, each with one nginx worker and upstream
# keepalive, in front of the same fast mock provider (a stock nginx returning canned answers):
#   proxy_pass  stock nginx proxy_pass (the baseline)
#   openai      nginx + RouteShift, OpenAI pass-through (model gpt-4o-mini -> an openai provider)
#   anthropic   nginx + RouteShift, translation to Anthropic Messages and back (model claude-bench)
# at each prompt size (default 1 KB and 100 KB bodies). wrk (-t2 -c50 --latency) runs every arm in
# turn, sizes and rounds alternated, so a machine that slows down mid-run affects all arms alike.
# Prints per arm and size the median requests/s, p50 and p99 and the ratio to proxy_pass, the
# module's per-request overhead over proxy_pass (1/rps difference) and how it grows with the
# prompt, then machine-readable lines:
#   BENCH arm=<arm> size=<bytes> rps=<n> p50_ms=<n> p99_ms=<n> ratio_to_proxy_pass=<n>
#   BENCH_OVERHEAD arm=<arm> size=<bytes> us_per_request=<n> vs_smallest_size=<n>
# Env: BENCH_DURATION (8s), BENCH_ROUNDS (2), BENCH_WARMUP (1s), BENCH_CONNECTIONS (50),
#      BENCH_THREADS (2), BENCH_TIMEOUT (10s, wrk's per-request timeout), BENCH_SIZES
#      ("1024 102400"), BENCH_ARMS ("proxy_pass openai anthropic"), BENCH_KEEP=1 (keep the work
#      dir), ROUTESHIFT_MODULE, NGINX.  About 2 minutes by default.
# Exit status: 0 ok; 1 module missing, a front did not start, or a round had non-2xx answers or
# socket errors (that round is left out of the medians).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DURATION="${BENCH_DURATION:-8s}"
ROUNDS="${BENCH_ROUNDS:-2}"
WARMUP="${BENCH_WARMUP:-1s}"
CONNS="${BENCH_CONNECTIONS:-50}"
THREADS="${BENCH_THREADS:-2}"
TIMEOUT="${BENCH_TIMEOUT:-10s}"  # a slow arm must not turn into socket errors
read -r -a SIZES <<< "${BENCH_SIZES:-1024 102400}"
read -r -a RUN_ARMS <<< "${BENCH_ARMS:-${ARMS[*]} openai_rules}"

for tool in wrk "$NGINX" curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (make deps)" >&2; exit 1; }
done
[[ -f "$MODULE" ]] || { echo "bench: module not found at $MODULE (run make first)" >&2; exit 1; }
export BENCH_VKEY="$VKEY"

start_mock
declare -A PORT=()
PORT[proxy_pass]="$(free_port)"; PORT[routeshift]="$(free_port)"
start_nginx proxy_pass "$BENCH_DIR/proxy_pass.conf.tmpl" "${PORT[proxy_pass]}"
start_nginx routeshift "$BENCH_DIR/routeshift.conf.tmpl" "${PORT[routeshift]}"
PORT[routeshift_rules]="$(free_port)"  # the openai_rules arm: 100 rules, the last one matching
/usr/bin/python3 "$BENCH_DIR/rules_snapshot.py" "$WORK/snapshot.json" > "$WORK/snapshot-rules.json"
SNAPSHOT_FILE="$WORK/snapshot-rules.json" start_nginx routeshift_rules "$BENCH_DIR/routeshift.conf.tmpl" "${PORT[routeshift_rules]}"
arm_port() { echo "${PORT[$(arm_front "$1")]}"; }

for arm in "${RUN_ARMS[@]}"; do
  for size in "${SIZES[@]}"; do write_body "$size" "$(arm_model "$arm")" "$WORK/body-$arm-$size.json"; done
done

# sanity: one request per arm must answer 200 with that arm's canned answer
for arm in "${RUN_ARMS[@]}"; do
  out="$WORK/check-$arm.out"
  code="$(curl -s -o "$out" -w '%{http_code}' -H 'Expect:' -H 'Content-Type: application/json' \
          -H "Authorization: Bearer $VKEY" --data-binary "@$WORK/body-$arm-${SIZES[0]}.json" \
          "http://127.0.0.1:$(arm_port "$arm")/v1/chat/completions")"
  if [[ "$code" != 200 ]] || ! grep -q "$(arm_answer "$arm")" "$out"; then
    echo "bench: $arm sanity request failed: HTTP $code $(head -c 500 "$out")" >&2; exit 1
  fi
done

to_ms() {  # wrk latency (850.00us, 1.23ms, 1.02s) -> milliseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

FAILED=0
declare -A RPS=() P50=() P99=()
# run_wrk ARM SIZE ROUND [DURATION]: appends to RPS/P50/P99[arm,size] unless it is a warm-up
run_wrk() {
  local arm="$1" size="$2" round="$3" duration="${4:-$DURATION}" out rps p50 p99 bad errs
  out="$WORK/wrk-$arm-$size-$round.txt"
  BENCH_BODY_FILE="$WORK/body-$arm-$size.json" wrk -t"$THREADS" -c"$CONNS" -d"$duration" --timeout "$TIMEOUT" --latency \
    -s "$BENCH_DIR/chat.lua" "http://127.0.0.1:$(arm_port "$arm")/v1/chat/completions" > "$out" 2>&1 || true
  [[ "$round" == warmup ]] && return 0
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
  p50="$(awk '$1=="50%" {print $2}' "$out")"; p99="$(awk '$1=="99%" {print $2}' "$out")"
  bad="$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$out")"
  errs="$(grep -E '^ *Socket errors' "$out" || true)"
  printf '  round %s %-10s %6s: %10s req/s  p50 %-9s p99 %-9s%s%s\n' "$round" "$arm" "$(size_label "$size")" \
    "${rps:-?}" "${p50:-?}" "${p99:-?}" "${bad:+  NON-2XX: $bad}" "${errs:+  $errs}"
  if [[ -z "$rps" || -n "$bad" || -n "$errs" ]]; then
    FAILED=1
    echo "--- wrk output ($arm $size round $round) ---"; cat "$out"
    echo "--- error.log of $(arm_front "$arm") (warn and above, last 10) ---"
    grep -v '\[notice\]' "$WORK/$(arm_front "$arm")/error.log" | tail -10 || true
    return 0
  fi
  RPS[$arm,$size]+=" $rps"; P50[$arm,$size]+=" $(to_ms "$p50")"; P99[$arm,$size]+=" $(to_ms "$p99")"
}

median() { printf '%s\n' $@ | { grep . || true; } | sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "NA"} else if (NR%2) {print a[(NR+1)/2]} else {printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "NA" && b != "NA" && b > 0) printf "%.3f", a / b; else print "NA" }'; }

echo "bench: wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds, 1 nginx worker per front, arms: ${RUN_ARMS[*]}, bodies: ${SIZES[*]} bytes"
for size in "${SIZES[@]}"; do
  for arm in "${RUN_ARMS[@]}"; do run_wrk "$arm" "$size" warmup "$WARMUP"; done
done
for round in $(seq 1 "$ROUNDS"); do
  for size in "${SIZES[@]}"; do
    for arm in "${RUN_ARMS[@]}"; do run_wrk "$arm" "$size" "$round"; done
  done
done

for log in "$WORK"/*/error.log; do
  if grep -E '\[(alert|crit|emerg)\]' "$log" >/dev/null 2>&1; then
    echo "bench: problems in $log:"; grep -E '\[(alert|crit|emerg)\]' "$log" | head -20
    FAILED=1
  fi
done

declare -A MED=()
echo
printf '%-11s %7s %12s %10s %10s %16s\n' arm size "req/s" "p50 ms" "p99 ms" "vs proxy_pass"
for size in "${SIZES[@]}"; do
  for arm in "${RUN_ARMS[@]}"; do MED[$arm,$size]="$(median ${RPS[$arm,$size]:-})"; done
  for arm in "${RUN_ARMS[@]}"; do
    printf '%-11s %7s %12s %10s %10s %16s\n' "$arm" "$(size_label "$size")" "${MED[$arm,$size]}" \
      "$(median ${P50[$arm,$size]:-})" "$(median ${P99[$arm,$size]:-})" "$(ratio "${MED[$arm,$size]}" "${MED[proxy_pass,$size]:-NA}")"
  done
done

# the module's cost per request beyond proxy_pass's: 1/rps(arm) - 1/rps(proxy_pass), in µs of the
# single worker (wrk and the mock share the machine, so this is an estimate, not a CPU count)
declare -A OVER=()
echo
echo "module overhead per request over proxy_pass (1e6/rps(arm) - 1e6/rps(proxy_pass), µs):"
for arm in "${RUN_ARMS[@]}"; do
  [[ "$arm" == proxy_pass ]] && continue
  line="  $arm:"
  for size in "${SIZES[@]}"; do
    OVER[$arm,$size]="$(awk -v a="${MED[$arm,$size]}" -v b="${MED[proxy_pass,$size]:-NA}" \
      'BEGIN { if (a != "NA" && b != "NA" && a > 0 && b > 0) printf "%.2f", 1e6 / a - 1e6 / b; else print "NA" }')"
    line+="  $(size_label "$size") ${OVER[$arm,$size]}"
  done
  last="${SIZES[${#SIZES[@]}-1]}"
  echo "$line   ($(size_label "$last") / $(size_label "${SIZES[0]}"): $(ratio "${OVER[$arm,$last]}" "${OVER[$arm,${SIZES[0]}]}"))"
done

echo
for size in "${SIZES[@]}"; do
  for arm in "${RUN_ARMS[@]}"; do
    echo "BENCH arm=$arm size=$size rps=${MED[$arm,$size]} p50_ms=$(median ${P50[$arm,$size]:-}) p99_ms=$(median ${P99[$arm,$size]:-}) ratio_to_proxy_pass=$(ratio "${MED[$arm,$size]}" "${MED[proxy_pass,$size]:-NA}")"
  done
done
for arm in "${RUN_ARMS[@]}"; do
  [[ "$arm" == proxy_pass ]] && continue
  for size in "${SIZES[@]}"; do
    echo "BENCH_OVERHEAD arm=$arm size=$size us_per_request=${OVER[$arm,$size]} vs_smallest_size=$(ratio "${OVER[$arm,$size]}" "${OVER[$arm,${SIZES[0]}]}")"
  done
done
for size in "${SIZES[@]}"; do  # the cost of 100 routing rules (goal >= 0.95)
  if [[ -n "${MED[openai_rules,$size]:-}" && -n "${MED[openai,$size]:-}" ]]; then
    echo "BENCH_RULES size=$size rules=100 ratio_to_openai=$(ratio "${MED[openai_rules,$size]}" "${MED[openai,$size]}")"
  fi
done
exit "$FAILED"
