"""Issue 13 through a running gateway: bounded model names (clear 400s in the OpenAI dialect, the
upstream never reached), no dot segment in an upstream path, and provider errors that quote the key
in an escaped form or across a truncation point reach the client without it, as valid JSON."""

from __future__ import annotations

from helpers import Snapshot, assert_openai_error
from mock_provider import Reply
from mock_gemini import GeminiReply
from provider_matrix import SPEC_BY_ID, add_provider, text_request, tag, wire_mocks  # noqa: F401

MSG = [{"role": "user", "content": "hi"}]
MAX_MODEL = 256


def test_model_name_limit(basic):
    # the "*" model of the basic provider serves any name asked as "openai/<name>"
    longest = "openai/" + "m" * (MAX_MODEL - len("openai/"))
    ok = basic.chat({"model": longest, "messages": MSG})
    assert ok.status == 200, ok.describe()
    assert len(ok.header("x-routeshift-resolved-model") or "") <= MAX_MODEL
    assert len(basic.mock.requests) == 1
    r = basic.chat({"model": longest + "m", "messages": MSG})
    e = assert_openai_error(r, 400, type_="invalid_request_error", param="model")
    assert "256" in e["message"]
    r = basic.chat({"model": "x" * 70000, "messages": MSG})
    assert_openai_error(r, 400, param="model")
    assert len(basic.mock.requests) == 1  # the refused ones never went upstream


def test_dot_and_control_models_refused(basic):
    for model in (".", "..", "gpt\r\nX-Evil: 1", "a\nb"):
        r = basic.chat({"model": model, "messages": MSG})
        assert_openai_error(r, 400, type_="invalid_request_error", param="model")
    assert not basic.mock.requests


def test_escaped_secret_in_openai_error_is_redacted(basic):
    # not JSON, and the key's first character written as a \u escape: no raw occurrence at all
    s = basic.secret
    body = f"upstream says: bad key \\u{ord(s[0]):04x}{s[1:].replace('/', chr(92) + '/')} ({{".encode()
    basic.mock.set_default(Reply.raw(400, body, headers={"Content-Type": "text/plain"}))
    r = basic.chat({"model": "gpt-4o", "messages": MSG})
    e = assert_openai_error(r, 400)
    assert s[1:] not in r.body.decode(errors="replace"), r.describe()
    assert s[1:13] not in e["message"]
    assert "[redacted]" in e["message"]


def test_gemini_plain_text_error_redacted_before_cut(gw, wire_mocks):
    spec = SPEC_BY_ID["gemini"]
    m = wire_mocks(spec.wire)
    s = Snapshot()
    pid, secret = add_provider(s, spec, m, "g-plain")
    s.model(pid, "plain", spec.upstream_model)
    vk = s.vkey()
    gw.push(s)
    # a proxy's plain-text error with the key starting 8 bytes before Gemini's 512-byte cut
    m.set_default(Reply.raw(400, "x" * 504 + secret + " trailing", headers={"Content-Type": "text/plain"}))
    r = gw.chat(text_request("plain", tag("harden", "plain")), key=vk)
    e = assert_openai_error(r, 400)
    text = r.body.decode()
    assert secret[:4] not in e["message"][500:], e["message"][490:]
    assert secret[:8] not in text


def test_provider_headers_allow_listed_and_scrubbed(basic):
    # a provider echoing the key in headers of every kind, 2xx and 4xx: only the allow-list reaches
    # the client (rate limits, request ids, content headers), with the key masked there too
    s = basic.secret
    echo = {"Location": f"https://provider.example/redirect?key={s}", "WWW-Authenticate": f'Bearer "{s}"',
            "X-Debug-Key": s, "x-ratelimit-remaining-requests": "41", "x-ratelimit-note": f"for {s}",
            "x-request-id": "req-upstream-7"}
    for reply, stream in ((Reply.completion("hi", headers=echo), False),
                          (Reply.error(400, "bad request", headers=echo), False),
                          (Reply.stream(["a", "b"], headers=echo), True)):
        basic.mock.set_default(reply)
        r = basic.chat({"model": "gpt-4o", "messages": MSG, "stream": stream})
        raw = "\n".join(f"{k}: {v}" for k, v in r.headers) + r.body.decode(errors="replace")
        assert s not in raw, raw
        names = {k.lower() for k, _ in r.headers}
        assert not names & {"location", "www-authenticate", "x-debug-key"}, r.headers
        assert r.header("x-ratelimit-remaining-requests") == "41" and r.header("x-request-id") == "req-upstream-7"
        assert (r.header("x-ratelimit-note") or "").startswith("for "), r.headers
