"""Sessions and cost in the response (docs/design.md §12): X-RouteShift-Session-Id,
X-RouteShift-Cost-Microcents, the stream trailers and $routeshift_session_id /
$routeshift_cost_microcents.

Prices are in microcents per 1M tokens: 1_000_000 = 1 microcent per token. The OpenAI mock reports
11 prompt + 7 completion tokens for a JSON answer, 11 + (number of text chunks) for a stream.
"""

from __future__ import annotations

import itertools
import json
import re
import socket

import pytest

from helpers import Snapshot, assert_openai_error, read_to_end
from mock_anthropic import AReply, MockAnthropic
from mock_gemini import GeminiReply, MockGemini
from mock_provider import Reply

PER_TOKEN = 1_000_000
LOG_FIELDS = ',"session":"$routeshift_session_id","cost":"$routeshift_cost_microcents"'
SESSION = "x-routeshift-session-id"
COST = "x-routeshift-cost-microcents"
_price_ids = itertools.count(700)


def price(provider_id: int, model: str, input_per_token: int, output_per_token: int) -> dict:
    return {"id": next(_price_ids), "provider_id": provider_id, "model": model,
            "input_microcents_per_mtok": input_per_token * PER_TOKEN,
            "output_microcents_per_mtok": output_per_token * PER_TOKEN,
            "cached_input_microcents_per_mtok": None, "effective_from": 0}


def push(gw, s: Snapshot, prices: list) -> None:
    snap = s.to_dict()
    snap["model_prices"] = prices
    gw.push(snap)


def body(messages: list, **extra) -> dict:
    return {"model": "m", "messages": messages, **extra}


OPENING = [{"role": "system", "content": "You are concise."}, {"role": "user", "content": "hi"}]


def next_turn(answer: str, question: str = "and then?") -> list:
    return OPENING + [{"role": "assistant", "content": answer}, {"role": "user", "content": question}]


def sdk_plain(sdk, gw, vk, request: dict) -> dict:
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain", "request": request})
    assert "error" not in res, res
    return res


def stream_raw(gw, vk: str, request: dict, te_trailers: bool) -> tuple[dict, bytes, dict]:
    """A streamed request over raw HTTP/1.1 (Connection: close): the headers, the de-chunked body
    and the trailers after the last chunk."""
    payload = json.dumps({**request, "stream": True}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {vk}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n"
            + ("TE: trailers\r\n" if te_trailers else "") + "\r\n").encode()
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=20)
    try:
        s.sendall(head + payload)
        data = read_to_end(s)
    finally:
        s.close()
    top, _, rest = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200"), data[:600]
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    assert headers.get("transfer-encoding") == "chunked", headers
    out, trailers = b"", {}
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            for ln in rest.decode("latin-1").split("\r\n"):
                if ln:
                    k, _, v = ln.partition(":")
                    trailers[k.strip().lower()] = v.strip()
            break
        out += rest[:size]
        rest = rest[size + 2:]
    return headers, out, trailers


def streamed_text(sse: bytes) -> str:
    text = ""
    for block in sse.split(b"\n\n"):
        for ln in block.split(b"\n"):
            if ln.startswith(b"data: {"):
                ch = json.loads(ln[6:])
                for c in ch.get("choices") or []:
                    text += (c.get("delta") or {}).get("content") or ""
    return text


@pytest.fixture
def one(gw_factory, mocks):
    """Model "m" on one openai provider (upstream m-up), price 2 / 5 microcents per token."""
    gw = gw_factory(extra_log_fields=LOG_FIELDS)
    ma = mocks.new("a")
    s = Snapshot()
    pa = s.provider("a", "openai", ma.base_url())
    s.key(pa, label="A")
    s.model(pa, "m", "m-up")
    vk = s.vkey()
    push(gw, s, [price(pa, "m-up", 2, 5)])
    return dict(gw=gw, ma=ma, s=s, pa=pa, vk=vk)


def test_cost_header_is_price_times_usage(one, sdk):
    gw, ma, vk = one["gw"], one["ma"], one["vk"]
    ma.set_default(Reply.completion("Hello! How can I help?"))
    res = sdk_plain(sdk, gw, vk, body(OPENING))
    h = res["headers"]
    assert h.get(COST) == str(11 * 2 + 7 * 5), h
    sid = h.get(SESSION)
    assert sid and re.fullmatch(r"ses_[0-9a-f]{32}", sid), h
    e = gw.wait_access(1)[-1]
    assert e["cost"] == "57" and e["session"] == sid, e

    # a priced answer reporting cached tokens bills them at the input price (NULL cached price)
    ma.enqueue(Reply.completion("x", usage={"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110,
                                            "prompt_tokens_details": {"cached_tokens": 40}}))
    r = gw.chat(body(OPENING), key=vk)
    assert r.status == 200 and r.header(COST) == str(100 * 2 + 10 * 5), r.describe()

    # the gateway's own errors carry the cost too (nothing spent), and no session when none is known
    r = gw.chat(body(OPENING, model="nope"), key=vk)
    assert_openai_error(r, 404)
    assert r.header(COST) == "0" and r.header(SESSION) is None, r.describe()
    r = gw.chat(body(OPENING), key="sk-proxy-unknown")
    assert_openai_error(r, 401)
    assert r.header(COST) == "0", r.describe()


def test_cost_sums_every_attempt(gw_factory, mocks):
    """A's 500 reported 1000 + 2000 tokens (billed); B answered 11 + 7: the header is the sum."""
    gw = gw_factory(extra_log_fields=LOG_FIELDS)
    ma, mb = mocks.new("a"), mocks.new("b")
    s = Snapshot()
    pa = s.provider("a", "openai", ma.base_url())
    pb = s.provider("b", "openai", mb.base_url())
    s.key(pa, weight=1000, label="A", cooldown_seconds=0)
    s.key(pb, weight=1, label="B", cooldown_seconds=0)
    s.model(pa, "m", "m-a")
    s.model(pb, "m", "m-b")
    vk = s.vkey()
    push(gw, s, [price(pa, "m-a", 1, 2), price(pb, "m-b", 3, 4)])
    ma.enqueue(Reply.json({"error": {"message": "broke after generating", "type": "server_error",
                                     "param": None, "code": None},
                           "usage": {"prompt_tokens": 1000, "completion_tokens": 2000, "total_tokens": 3000}},
                          status=500))
    mb.set_default(Reply.completion("from b"))
    r = gw.chat(body(OPENING), key=vk)
    assert r.status == 200 and r.header("X-RouteShift-Attempts") == "2", r.describe()
    want = (1000 * 1 + 2000 * 2) + (11 * 3 + 7 * 4)
    assert r.header(COST) == str(want), r.describe()
    e = gw.wait_access(1)[-1]
    assert e["statuses"] == "500,200" and e["cost"] == str(want), e

    # an error relayed to the client (no retry left) still says what was spent
    ma.enqueue(Reply.json({"error": {"message": "bad", "type": "invalid_request_error", "param": None,
                                     "code": None}}, status=400))
    r = gw.chat(body(OPENING), key=vk)
    assert_openai_error(r, 400)
    assert r.header(COST) == "0", r.describe()


def test_conversation_stitched_across_two_nodes(gw_factory, mocks, sdk):
    """Turn 1 on node A, turn 2 on node B, turn 3 on A again: one session id, no shared memory
    but the snapshot."""
    node_a = gw_factory(extra_log_fields=LOG_FIELDS)
    node_b = gw_factory(extra_log_fields=LOG_FIELDS)
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("a", "openai", m.base_url())
    s.key(p, label="A")
    s.model(p, "m", "m-up")
    vk = s.vkey()
    push(node_a, s, [])
    push(node_b, s, [])
    m.enqueue(Reply.completion("Hello! How can I help?"), Reply.completion("It is 4."),
              Reply.completion("You are welcome."))
    first = sdk_plain(sdk, node_a, vk, body(OPENING))
    answer = first["completion"]["choices"][0]["message"]
    sid = first["headers"].get(SESSION)
    assert sid and sid.startswith("ses_"), first["headers"]
    # the client sends back what the SDK gave it (content, and the null refusal the mock includes)
    messages = OPENING + [answer, {"role": "user", "content": "2+2?"}]
    second = sdk_plain(sdk, node_b, vk, body(messages))
    assert second["headers"].get(SESSION) == sid, (sid, second["headers"])
    messages += [second["completion"]["choices"][0]["message"], {"role": "user", "content": "thanks"}]
    third = sdk_plain(sdk, node_a, vk, body(messages))
    assert third["headers"].get(SESSION) == sid
    assert node_a.wait_access(2)[-1]["session"] == sid
    assert node_b.wait_access(1)[-1]["session"] == sid


def test_two_hi_conversations_diverge(one, sdk):
    gw, ma, vk = one["gw"], one["ma"], one["vk"]
    ma.enqueue(Reply.completion("Hi! What do you need?"), Reply.completion("Hello there."))
    a = sdk_plain(sdk, gw, vk, body(OPENING))["headers"][SESSION]
    b = sdk_plain(sdk, gw, vk, body(OPENING))["headers"][SESSION]
    assert a != b
    ma.set_default(Reply.completion("ok"))
    assert gw.chat(body(next_turn("Hi! What do you need?")), key=vk).header(SESSION) == a
    assert gw.chat(body(next_turn("Hello there.")), key=vk).header(SESSION) == b
    # the same answer to a different end user (`user`) is another conversation
    ma.enqueue(Reply.completion("Hello there."))
    c = gw.chat(body(OPENING, user="someone-else"), key=vk).header(SESSION)
    assert c not in (a, b) and c.startswith("ses_")


def test_forced_session_id(one, sdk):
    gw, ma, vk = one["gw"], one["ma"], one["vk"]
    ma.set_default(Reply.completion("ok"))
    res = sdk_plain(sdk, gw, vk, body(OPENING, metadata={"session_id": "conv-42", "team": "x"}))
    assert res["headers"].get(SESSION) == "conv-42", res["headers"]
    # session_id is ours and stays here; the client's own member reaches OpenAI (stored completions)
    assert ma.requests[-1].json.get("metadata") == {"team": "x"}, ma.requests[-1].json
    assert gw.wait_access(1)[-1]["session"] == "conv-42"
    for bad in ["x" * 129, "tab\there", "caf\u00e9", " lead"]:
        r = gw.chat(body(OPENING, metadata={"session_id": bad}), key=vk)
        assert_openai_error(r, 400, param="metadata.session_id")
        assert r.header(SESSION) is None, r.describe()
    assert len(ma.requests) == 1, "a rejected session id never reaches a provider"


def test_translated_providers_give_the_same_session(gw_factory, mocks, sdk):
    """The same conversation answered with the same text by OpenAI, Anthropic and Gemini wires
    (JSON and streamed) has one session id, and the next turn finds it whatever serves it."""
    gw = gw_factory(extra_log_fields=LOG_FIELDS)
    text = "Hello there, friend."
    ant = MockAnthropic(name="claude").start()
    gem = MockGemini(name="gem").start()
    try:
        oa = mocks.new("oa")
        s = Snapshot()
        po = s.provider("oa", "openai", oa.base_url())
        pa = s.provider("an", "anthropic", ant.base_url())
        pg = s.provider("ge", "gemini", gem.base_url())
        for p in (po, pa, pg):
            s.key(p, label=f"k{p}")
            s.model(p, "m", "m-up")
        vk = s.vkey()
        push(gw, s, [])
        oa.set_default(Reply.completion(text))
        ant.set_default(AReply.auto(text))
        gem.set_default(GeminiReply.text(text, chunks=["Hello there,", " friend."]))
        ids = {}
        for prov in ("oa", "an", "ge"):
            res = sdk_plain(sdk, gw, vk, body(OPENING, model=f"{prov}/m"))
            assert res["completion"]["choices"][0]["message"]["content"] == text, res
            ids[prov] = res["headers"].get(SESSION)
        assert len(set(ids.values())) == 1 and ids["oa"].startswith("ses_"), ids
        sid = ids["oa"]
        # streamed first turns: the id comes as a trailer (the OpenAI mock streams when asked to)
        oa.set_default(Reply.stream(["Hello there,", " friend."]))
        for prov in ("oa", "an", "ge"):
            headers, sse, trailers = stream_raw(gw, vk, body(OPENING, model=f"{prov}/m"), te_trailers=True)
            assert streamed_text(sse) == text, sse
            # in the trailers; or in the headers when the whole stream arrived before its first
            # content went out (held whole, everything is known up front, as for a JSON answer)
            assert (trailers.get(SESSION) or headers.get(SESSION)) == sid, (prov, headers, trailers)
        # the next turn, served by each wire
        oa.set_default(Reply.completion(text))
        for prov in ("oa", "an", "ge"):
            r = gw.chat(body(next_turn(text), model=f"{prov}/m"), key=vk)
            assert r.status == 200 and r.header(SESSION) == sid, r.describe()
    finally:
        ant.stop()
        gem.stop()


def test_stream_trailers_with_te(one):
    gw, ma, vk = one["gw"], one["ma"], one["vk"]
    ma.set_default(Reply.stream(["Hello", " there", "."]))
    headers, sse, trailers = stream_raw(gw, vk, body(OPENING), te_trailers=True)
    assert streamed_text(sse) == "Hello there.", sse
    assert sse.rstrip().endswith(b"data: [DONE]"), sse
    cost = str(11 * 2 + 3 * 5)
    if COST in headers:
        # the whole stream arrived before its first content went out: held whole, everything is
        # known up front and said in the headers, as for a JSON answer (nothing announced)
        assert headers.get(COST) == cost and "trailer" not in headers and trailers == {}, (headers, trailers)
        sid = headers.get(SESSION)
    else:
        # a first turn: the id is known only at the end, so the header is omitted and announced
        announced = {x.strip().lower() for x in headers.get("trailer", "").split(",")}
        assert announced == ({COST} if SESSION in headers else {SESSION, COST}), headers
        assert trailers.get(COST) == cost, trailers
        sid = headers.get(SESSION) or trailers.get(SESSION)
    assert sid and sid.startswith("ses_"), (headers, trailers)
    assert gw.wait_access(1)[-1]["session"] == sid
    # the next turn replays the streamed answer: the same session, known at once (header)
    ma.set_default(Reply.completion("ok"))
    r = gw.chat(body(next_turn("Hello there.")), key=vk)
    assert r.header(SESSION) == sid, r.describe()
    # a streamed later turn: the header carries it, only the cost is left for the trailer
    ma.set_default(Reply.stream(["more"]))
    headers, _, trailers = stream_raw(gw, vk, body(next_turn("Hello there.")), te_trailers=True)
    assert headers.get(SESSION) == sid, headers
    if COST in headers:  # held whole (see above): the cost up front too
        assert headers[COST] == str(11 * 2 + 1 * 5) and trailers == {}, (headers, trailers)
    else:
        assert headers.get("trailer", "").lower() == COST, headers
        assert trailers == {COST: str(11 * 2 + 1 * 5)}, trailers


def test_stream_without_te_has_no_trailers(one, sdk):
    gw, ma, vk = one["gw"], one["ma"], one["vk"]
    ma.set_default(Reply.stream(["Hi", " you"]))
    headers, sse, trailers = stream_raw(gw, vk, body(OPENING), te_trailers=False)
    assert streamed_text(sse) == "Hi you"
    assert trailers == {} and "trailer" not in headers, (headers, trailers)
    e = gw.wait_access(1)[-1]
    assert e["cost"] == str(11 * 2 + 2 * 5) and e["session"].startswith("ses_"), e
    # nothing in the headers, unless the whole stream arrived before its first content went out
    # (then everything is known up front, and right)
    if COST in headers:
        assert headers.get(SESSION) == e["session"] and headers.get(COST) == e["cost"], (headers, e)
    else:
        assert headers.get(SESSION) in (None, e["session"]), (headers, e)
    # the SDK (no TE: trailers) reads the stream normally; its next turn finds the logged session
    res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream", "request": body(OPENING)})
    assert res.get("completed"), res
    assert res["headers"].get(SESSION) in (None, e["session"]), res
    ma.set_default(Reply.completion("ok"))
    r = gw.chat(body(next_turn("Hi you")), key=vk)
    assert r.header(SESSION) == e["session"], r.describe()
