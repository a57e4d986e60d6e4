#!/usr/bin/env bash
# `make bench-instructions`: instructions per request of the front nginx, counted by callgrind, for
# each arm (stock proxy_pass, RouteShift OpenAI pass-through, RouteShift Anthropic translation) and
# prompt size. Deterministic on a noisy machine: no clocks are involved.
#
# For every arm and size the front runs twice as one process (`master_process off`, so the process
# counted is the worker) under `valgrind --tool=callgrind`; one run serves N1 requests, the other N2,
# all on one keep-alive client connection (curl). Startup, the first request's one-time costs and
# shutdown are the same in both runs, so
#     instructions per request = (Ir(N2) - Ir(N1)) / (N2 - N1).
# The module's extra is its arm's count minus proxy_pass's at the same size. Ends with lines
#   BENCH_IR arm=<arm> size=<bytes> ir_per_request=<n> extra_over_proxy_pass=<n>
# Env: BENCH_SIZES (bytes; default "1024 10240 102400 1048576"), BENCH_N1 (5), BENCH_N2 (25),
#      BENCH_ARMS (default "proxy_pass openai anthropic"), BENCH_KEEP=1, ROUTESHIFT_MODULE, NGINX.
# Exit status: 0 ok; 1 a tool is missing, a front did not start or an answer was not the expected 200.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=(${BENCH_SIZES:-1024 10240 102400 1048576})
N1="${BENCH_N1:-5}"
N2="${BENCH_N2:-25}"
read -r -a RUN_ARMS <<< "${BENCH_ARMS:-${ARMS[*]}}"
(( N2 > N1 && N1 >= 1 )) || { echo "bench: need BENCH_N2 > BENCH_N1 >= 1" >&2; exit 1; }
for tool in valgrind callgrind_annotate "$NGINX" curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (make deps)" >&2; exit 1; }
done
[[ -f "$MODULE" ]] || { echo "bench: module not found at $MODULE (run make first)" >&2; exit 1; }

start_mock

# ir_of_run ARM SIZE N -> prints the instructions the front executed, start to exit
ir_of_run() {
  local arm="$1" size="$2" n="$3" front port tag out body codes
  front="$(arm_front "$arm")"
  port="$(free_port)"
  tag="$arm-$size-$n"
  out="$WORK/callgrind.$tag.out"
  body="$WORK/body-$arm-$size.json"
  [[ -f "$body" ]] || write_body "$size" "$(arm_model "$arm")" "$body"
  LAUNCHER="valgrind -q --tool=callgrind --callgrind-out-file=$out" START_TRIES=1200 \
    start_nginx "cg-$tag" "$BENCH_DIR/$front.conf.tmpl" "$port" MASTER_PROCESS=off >&2
  local pid="$STARTED_PID"
  # one connection, N requests: curl repeats the POST for every URL given
  local urls=() i
  for (( i = 0; i < n; i++ )); do urls+=("http://127.0.0.1:$port/v1/chat/completions"); done
  curl -s -w '\n@@status %{http_code}\n' -H 'Expect:' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $VKEY" --data-binary "@$body" "${urls[@]}" > "$WORK/answer-$tag.txt" || true
  stop_nginx "$pid"
  codes="$(awk '/^@@status / {print $2}' "$WORK/answer-$tag.txt" | sort | uniq -c | tr -s ' ')"
  if [[ "$codes" != " $n 200" ]] || [[ "$(grep -c "$(arm_answer "$arm")" "$WORK/answer-$tag.txt")" != "$n" ]]; then
    echo "bench: $tag: expected $n answers 200, got:$codes; last answer: $(head -c 400 "$WORK/answer-$tag.txt")" >&2
    grep -v '\[notice\]' "$WORK/cg-$tag/error.log" | tail -5 >&2 || true
    return 1
  fi
  # the profile's "summary:" line is the total Ir of the whole run
  awk '/^summary:/ {print $2; found=1} END {exit !found}' "$out"
}

declare -A IR=()
echo "bench-instructions: callgrind, $N1 and $N2 requests per run, 1 nginx process, sizes: ${SIZES[*]}"
for arm in "${RUN_ARMS[@]}"; do
  for size in "${SIZES[@]}"; do
    ir1="$(ir_of_run "$arm" "$size" "$N1")"
    ir2="$(ir_of_run "$arm" "$size" "$N2")"
    IR[$arm,$size]=$(( (ir2 - ir1) / (N2 - N1) ))
    printf '  %-10s %7s: %12s instructions/request\n' "$arm" "$(size_label "$size")" "${IR[$arm,$size]}"
  done
done

echo
printf '%-22s' "instructions/request"
for size in "${SIZES[@]}"; do printf '%12s' "$(size_label "$size")"; done; echo
for arm in "${RUN_ARMS[@]}"; do
  printf '%-22s' "$arm"
  for size in "${SIZES[@]}"; do printf '%12s' "${IR[$arm,$size]}"; done; echo
  if [[ "$arm" != proxy_pass && -n "${IR[proxy_pass,${SIZES[0]}]:-}" ]]; then
    printf '%-22s' "  extra over proxy_pass"
    for size in "${SIZES[@]}"; do printf '%12s' "$(( IR[$arm,$size] - IR[proxy_pass,$size] ))"; done; echo
  fi
done
echo
for arm in "${RUN_ARMS[@]}"; do
  for size in "${SIZES[@]}"; do
    extra=NA
    if [[ -n "${IR[proxy_pass,$size]:-}" ]]; then extra=$(( IR[$arm,$size] - IR[proxy_pass,$size] )); fi
    echo "BENCH_IR arm=$arm size=$size ir_per_request=${IR[$arm,$size]} extra_over_proxy_pass=$extra"
  done
done
