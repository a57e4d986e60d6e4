"""Every variable of docs/design.md §7 exists and carries the request's facts."""

from __future__ import annotations

from helpers import Snapshot, chat_body
from mock_provider import Reply

ALL_VARS = ["provider", "provider_key", "requested_model", "resolved_model", "virtual_key_id",
            "team_id", "attempts", "attempt_statuses", "stream", "prompt_tokens",
            "completion_tokens", "ttfb_ms", "error", "generation"]


def test_all_design_variables(gw_factory, mocks):
    extra = "".join(f',"v_{v}":"$routeshift_{v}"' for v in ALL_VARS)
    gw = gw_factory(extra_log_fields=extra)
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    ka = s.key(p, weight=1000, label="first")
    s.key(p, weight=1, label="second")
    s.model(p, "gpt-4o", "gpt-4o-2024-11-20")
    team = s.team("t2")
    s.alias("smart", "openai/gpt-4o", team_id=team)
    vk = s.vkey(team)
    gw.push(s)
    m.enqueue(Reply.error(429, "rl", headers={"Retry-After": "3"}), key=ka)
    m.set_default(Reply.stream(["a", "b"]))
    r = gw.chat(chat_body("smart", stream=True), key=vk)
    assert r.status == 200, r.describe()
    e = gw.wait_access(1)[-1]
    v = {k: e[f"v_{k}"] for k in ALL_VARS}
    assert v["provider"] == "openai", v
    assert v["provider_key"] == "second", v
    assert v["requested_model"] == "smart", v
    assert v["resolved_model"] in ("gpt-4o", "gpt-4o-2024-11-20", "openai/gpt-4o"), v
    assert v["virtual_key_id"] == str(s.vkey_id(vk)), v
    assert v["team_id"] == str(team), v
    assert v["attempts"] == "2" and v["attempt_statuses"] == "429,200", v
    assert v["stream"] in ("1", "true", "on"), v
    assert v["prompt_tokens"] == "11" and v["completion_tokens"] == "2", v
    assert v["ttfb_ms"].isdigit(), v
    assert v["generation"] == str(s.generation), v
    # ($routeshift_error after a retried success is not pinned down by the design; the module
    #  currently keeps the last attempt's error there)
    # a clean one-attempt success leaves $routeshift_error empty (a JSON answer: a non-streaming
    # request answered with a stream is now refused as malformed)
    m.set_default(Reply.completion("hello"))
    r = gw.chat(chat_body("smart"), key=vk)
    assert r.status == 200, r.describe()
    e = gw.wait_access(2)[-1]
    assert e["v_error"] in ("", "-") and e["v_stream"] in ("0", "false", "off", ""), e
    assert e["v_attempts"] == "1" and e["v_attempt_statuses"] == "200", e
    # an error request fills $routeshift_error
    r = gw.chat(chat_body("no-such-model"), key=vk)
    assert r.status == 404
    e = gw.wait_access(3)[-1]
    assert e["v_error"] not in ("", "-"), e
    assert e["v_requested_model"] == "no-such-model", e
