-- wrk script: POST a ~1 KB OpenAI chat body with a RouteShift virtual key.
local vkey = os.getenv("BENCH_VKEY") or "sk-proxy-bench"
local filler = string.rep("The quick brown fox jumps over the lazy dog. ", 17)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. vkey
wrk.body = '{"model":"gpt-4o-mini","temperature":0.2,"max_tokens":64,"messages":['
  .. '{"role":"system","content":"You are a terse assistant used for benchmarking."},'
  .. '{"role":"user","content":"' .. filler .. 'Summarise this in one word."}]}'

