#!/usr/bin/env bash
# `make bench-instructions`: instructions per request of the front nginx, counted by callgrind, for
# each arm (stock proxy_pass, RouteShift OpenAI pass-through, RouteShift Anthropic translation,
# OpenAI with 100 routing rules) and
# prompt size. Deterministic on a noisy machine: no clocks are involved, only instruction counts
# (nginx's once-a-second time refresh, whose count follows the wall clock, is left out).
#
# For every arm and size the front runs twice as one process (`master_process off`: the process
# counted is the worker) under `valgrind --tool=callgrind`; one run serves N1 requests, the other N2,
# all on one keep-alive client connection (curl). Startup, the first request's one-time costs and
# shutdown are the same in both runs, so
#     instructions per request = (Ir(N2) - Ir(N1)) / (N2 - N1).
# (Each pair serves one size only: a run mixing sizes measured the small requests with the large
# ones' heap state and chunking noise.)
# The module's extra is its arm's count minus proxy_pass's at the same size. Ends with lines
#   BENCH_IR arm=<arm> size=<bytes> ir_per_request=<n> extra_over_proxy_pass=<n>
# Env: BENCH_SIZES (bytes; default "1024 10240 102400 1048576"), BENCH_N1 (3), BENCH_N2 (13),
#      BENCH_ARMS (default "proxy_pass openai anthropic openai_rules": the openai arm with the
#      100 routing rules of rules_snapshot.py), BENCH_JOBS (valgrind runs at a time, 2),
#      BENCH_KEEP=1, ROUTESHIFT_MODULE, NGINX.
# Exit status: 0 ok; 1 a tool is missing, a front did not start or an answer was not the expected 200.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a SIZES <<< "${BENCH_SIZES:-1024 10240 102400 1048576}"
N1="${BENCH_N1:-3}"
N2="${BENCH_N2:-13}"
JOBS="${BENCH_JOBS:-2}"
read -r -a RUN_ARMS <<< "${BENCH_ARMS:-${ARMS[*]} openai_rules}"
(( N2 > N1 && N1 >= 1 )) || { echo "bench: need BENCH_N2 > BENCH_N1 >= 1" >&2; exit 1; }
for tool in valgrind callgrind_annotate "$NGINX" curl sha256sum; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (make deps)" >&2; exit 1; }
done
[[ -f "$MODULE" ]] || { echo "bench: module not found at $MODULE (run make first)" >&2; exit 1; }

start_mock
/usr/bin/python3 "$BENCH_DIR/rules_snapshot.py" "$WORK/snapshot.json" > "$WORK/snapshot-rules.json"

# run_plan ARM TAG SIZE:COUNT...: one front under callgrind serving COUNT requests of each SIZE in
# order; writes its total Ir to $WORK/ir-TAG (nothing on failure, reported on stderr)
run_plan() {
  local arm="$1" tag="$2"; shift 2
  local front port out pid step size n i expected=0 codes
  front="$(arm_front "$arm")"
  port="$(free_port)"
  out="$WORK/callgrind.$tag.out"
  # the openai_rules arm is the routeshift front with the 100-rule snapshot (as in run.sh)
  local snapshot="$WORK/snapshot.json"
  if [[ "$front" == routeshift_rules ]]; then front=routeshift; snapshot="$WORK/snapshot-rules.json"; fi
  SNAPSHOT_FILE="$snapshot" LAUNCHER="valgrind -q --tool=callgrind --callgrind-out-file=$out" START_TRIES=2400 \
    start_nginx "cg-$tag" "$BENCH_DIR/$front.conf.tmpl" "$port" MASTER_PROCESS=off >&2 || return 1
  pid="$STARTED_PID"
  trap 'stop_nginx "$pid"' EXIT
  for step in "$@"; do
    size="${step%%:*}"; n="${step#*:}"
    # one connection, n requests: curl repeats the POST for every URL given
    local urls=()
    for (( i = 0; i < n; i++ )); do urls+=("http://127.0.0.1:$port/v1/chat/completions"); done
    curl -s -w '\n@@status %{http_code}\n' -H 'Expect:' -H 'Content-Type: application/json' \
      -H "Authorization: Bearer $VKEY" --data-binary "@$WORK/body-$arm-$size.json" "${urls[@]}" \
      >> "$WORK/answers-$tag.txt" || true
    expected=$(( expected + n ))
  done
  stop_nginx "$pid"
  trap - EXIT
  codes="$(awk '/^@@status / {print $2}' "$WORK/answers-$tag.txt" | sort | uniq -c | tr -s ' ')"
  if [[ "$codes" != " $expected 200" ]] || \
     [[ "$(grep -c "$(arm_answer "$arm")" "$WORK/answers-$tag.txt")" != "$expected" ]]; then
    echo "bench: $tag: expected $expected answers 200, got:$codes; last: $(tail -c 400 "$WORK/answers-$tag.txt")" >&2
    grep -v '\[notice\]' "$WORK/cg-$tag/error.log" | tail -5 >&2 || true
    return 1
  fi
  # the profile's "summary:" line is the total Ir of the whole run, less nginx's cached-time
  # refresh: ngx_time_update reformats its time strings when the second changes, and under
  # valgrind how many seconds a run spans depends on the machine's load, not on the requests
  # (±2k instructions per request seen at 1 KB between two runs of the same code)
  local total refresh
  total="$(awk '/^summary:/ {print $2; found=1} END {exit !found}' "$out")" || return 1
  refresh="$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
             awk '/ngx_time_update/ {gsub(",", "", $1); print $1; exit}')"
  echo $(( total - ${refresh:-0} )) > "$WORK/ir-$tag"
}

# all runs of all arms, JOBS at a time (each is one single-threaded valgrind)
declare -a RUNS=()
for arm in "${RUN_ARMS[@]}"; do
  for size in "${SIZES[@]}"; do
    write_body "$size" "$(arm_model "$arm")" "$WORK/body-$arm-$size.json"
    RUNS+=("$arm $arm-$size-n1 $size:$N1" "$arm $arm-$size-n2 $size:$N2")
  done
done
echo "bench-instructions: callgrind, 1 nginx process per run, $N1 and $N2 requests per size, sizes: ${SIZES[*]}, ${#RUNS[@]} runs, $JOBS at a time"
declare -a RUN_PIDS=()
# runs still going (the mock nginx is a background job too, so `jobs` cannot be counted)
running_runs() {
  local n=0 pid
  for pid in "${RUN_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && n=$((n + 1)); done
  echo "$n"
}
for run in "${RUNS[@]}"; do
  while (( $(running_runs) >= JOBS )); do sleep 0.2; done
  # shellcheck disable=SC2086
  run_plan $run &
  RUN_PIDS+=("$!")
done
for pid in "${RUN_PIDS[@]}"; do wait "$pid" || true; done

declare -A IR=()
FAILED=0
for arm in "${RUN_ARMS[@]}"; do
  for size in "${SIZES[@]}"; do
    if [[ -s "$WORK/ir-$arm-$size-n1" && -s "$WORK/ir-$arm-$size-n2" ]]; then
      IR[$arm,$size]=$(( ($(cat "$WORK/ir-$arm-$size-n2") - $(cat "$WORK/ir-$arm-$size-n1")) / (N2 - N1) ))
    else
      IR[$arm,$size]=NA; FAILED=1
    fi
  done
done
num() { [[ "$1" =~ ^-?[0-9]+$ ]]; }
extra() { if num "$1" && num "${2:-}"; then echo $(( $1 - $2 )); else echo NA; fi; }

echo
printf '%-22s' "instructions/request"
for size in "${SIZES[@]}"; do printf '%12s' "$(size_label "$size")"; done; echo
for arm in "${RUN_ARMS[@]}"; do
  printf '%-22s' "$arm"
  for size in "${SIZES[@]}"; do printf '%12s' "${IR[$arm,$size]}"; done; echo
  if [[ "$arm" != proxy_pass && -n "${IR[proxy_pass,${SIZES[0]}]:-}" ]]; then
    printf '%-22s' "  extra over proxy_pass"
    for size in "${SIZES[@]}"; do printf '%12s' "$(extra "${IR[$arm,$size]}" "${IR[proxy_pass,$size]}")"; done; echo
  fi
done
echo
for arm in "${RUN_ARMS[@]}"; do
  for size in "${SIZES[@]}"; do
    echo "BENCH_IR arm=$arm size=$size ir_per_request=${IR[$arm,$size]} extra_over_proxy_pass=$(extra "${IR[$arm,$size]}" "${IR[proxy_pass,$size]:-}")"
  done
done
exit "$FAILED"
