-- wrk script: POST the chat body in $BENCH_BODY_FILE (written by bench/make_body.py) with a
-- RouteShift virtual key ($BENCH_VKEY; proxy_pass ignores it).
local vkey = os.getenv("BENCH_VKEY") or "sk-proxy-bench"
local file = assert(io.open(assert(os.getenv("BENCH_BODY_FILE"), "BENCH_BODY_FILE unset"), "rb"))
local body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. vkey
wrk.body = body
