# Shared helpers of bench/run.sh and bench/instructions.sh (sourced, not run).
# Sets WORK (a temp dir, removed on exit unless BENCH_KEEP=1), SECRET, VKEY, VKEY_HASH and
# MOCK_PORT, and starts the mock provider (a stock nginx answering both wire formats).

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
NGINX="${NGINX:-/usr/sbin/nginx}"
MODULE="${ROUTESHIFT_MODULE:-$REPO/build/ngx_http_routeshift_module.so}"

WORK="$(mktemp -d /tmp/routeshift-bench.XXXXXX)"
declare -a PIDS=()
bench_cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -QUIT "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  if [[ "${BENCH_KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; else echo "bench: kept $WORK"; fi
}
trap bench_cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {  # port pid [tries of 0.05 s]
  local i
  for i in $(seq 1 "${3:-100}"); do
    if ! kill -0 "$2" 2>/dev/null; then return 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

# render TEMPLATE OUT KEY=VALUE...: replaces every @KEY@
render() {
  local tmpl="$1" out="$2"; shift 2
  local text; text="$(cat "$tmpl")"
  local kv
  for kv in "$@"; do text="${text//@${kv%%=*}@/${kv#*=}}"; done
  printf '%s\n' "$text" > "$out"
}

# start_nginx NAME TEMPLATE PORT KEY=VALUE... ; sets STARTED_PID. With LAUNCHER set (e.g. a valgrind
# command line), nginx runs under it. The config gets MASTER_PROCESS=on unless given.
start_nginx() {
  local name="$1" tmpl="$2" port="$3"; shift 3
  local prefix="$WORK/$name"
  mkdir -p "$prefix"/{client_body_temp,proxy_temp,fastcgi_temp,uwsgi_temp,scgi_temp,logs}
  render "$tmpl" "$prefix/nginx.conf" PREFIX="$prefix" PORT="$port" MODULE="$MODULE" \
    MOCK_PORT="${MOCK_PORT:-0}" SECRET="$SECRET" SNAPSHOT="${SNAPSHOT_FILE:-$WORK/snapshot.json}" "$@" MASTER_PROCESS=on
  # shellcheck disable=SC2086
  ${LAUNCHER:-} "$NGINX" -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/error.log" \
    >"$prefix/stderr.log" 2>&1 </dev/null &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  if ! wait_port "$port" "$STARTED_PID" "${START_TRIES:-100}"; then
    echo "bench: $name did not start:" >&2
    cat "$prefix/stderr.log" "$prefix/error.log" >&2 2>/dev/null || true
    return 1
  fi
}

# stop_nginx PID: graceful stop (the exit of a process under valgrind writes its profile)
stop_nginx() {
  kill -QUIT "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# write_body SIZE MODEL FILE: an OpenAI chat body of exactly SIZE bytes (ASCII prose)
write_body() {
  /usr/bin/python3 "$BENCH_DIR/make_body.py" "$1" "$2" > "$3"
}

SECRET="sk-bench-upstream-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
VKEY="sk-proxy-bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
VKEY_HASH="$(printf '%s' "$VKEY" | sha256sum | cut -d' ' -f1)"

# The mock provider always runs normally (never under a launcher) and the snapshot names it.
start_mock() {
  MOCK_PORT="$(free_port)"
  LAUNCHER="" start_nginx mock "$BENCH_DIR/mock_upstream.conf.tmpl" "$MOCK_PORT"
  render "$BENCH_DIR/snapshot.json.tmpl" "$WORK/snapshot.json" MOCK_PORT="$MOCK_PORT" SECRET="$SECRET" \
    VKEY_HASH="$VKEY_HASH"
}

# The arms: a name, the front that serves it, and the model its body names.
ARMS=(proxy_pass openai anthropic)
# openai_rules (run.sh and instructions.sh): the openai arm with 100 routing rules, its own front and snapshot.
arm_front() { case "$1" in proxy_pass) echo proxy_pass ;; openai_rules) echo routeshift_rules ;; *) echo routeshift ;; esac; }
arm_model() { if [[ "$1" == anthropic ]]; then echo claude-bench; else echo gpt-4o-mini; fi; }
arm_answer() { if [[ "$1" == anthropic ]]; then echo 'Hello! This is a canned Anthropic answer.'; else echo '"chat.completion"'; fi; }

size_label() {  # 1024 -> 1KB, 1048576 -> 1MB
  if (( $1 % 1048576 == 0 )); then echo "$(( $1 / 1048576 ))MB"
  elif (( $1 % 1024 == 0 )); then echo "$(( $1 / 1024 ))KB"
  else echo "${1}B"; fi
}
