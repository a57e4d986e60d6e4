"""Bad client input: authentication (401), body size (413), body validation (400), unknown model
(404), method (405).  None of these may reach the upstream."""

from __future__ import annotations

import json
import time

import pytest

from helpers import Snapshot, assert_openai_error, chat_body, raw_request

MSG = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("body,param", [
    (b'{"model": "gpt-4o", "messages": [', None),                       # invalid JSON
    (b'not json at all', None),
    (b'[1, 2, 3]', None),                                                # not an object
    (b'', None),                                                         # empty body
    ({"messages": MSG}, "model"),                                        # missing model
    ({"model": 42, "messages": MSG}, "model"),                           # ill-typed model
    ({"model": None, "messages": MSG}, "model"),
    ({"model": "", "messages": MSG}, "model"),
    ({"model": "gpt-4o"}, "messages"),                                   # missing messages
    ({"model": "gpt-4o", "messages": []}, "messages"),                   # empty messages
    ({"model": "gpt-4o", "messages": "hi"}, "messages"),
    ({"model": "gpt-4o", "messages": ["hi"]}, ("messages[0]", "messages")),
    ({"model": "gpt-4o", "messages": [{"content": "x"}]}, "messages[0].role"),
    ({"model": "gpt-4o", "messages": [MSG[0], {"role": "robot", "content": "x"}]},
     "messages[1].role"),
    ({"model": "gpt-4o", "messages": MSG, "stream": "yes"}, "stream"),   # bad stream type
    ({"model": "gpt-4o", "messages": MSG, "stream": 1}, "stream"),
    ({"model": "gpt-4o", "messages": MSG, "stream_options": {"include_usage": True}},
     "stream_options"),
    ({"model": "gpt-4o", "messages": MSG, "stream": True, "stream_options": "x"},
     "stream_options"),
    ({"model": "gpt-4o", "messages": MSG, "metadata": "x"}, "metadata"),
    ({"model": "gpt-4o", "messages": MSG, "metadata": {"route_hint": 5}},
     ("metadata.route_hint", "metadata")),
], ids=['truncated_json', 'not_json', 'array_body', 'empty_body', 'missing_model', 'model_int', 'model_null', 'model_empty', 'missing_messages', 'messages_empty', 'messages_string', 'message_not_object', 'message_no_role', 'message_bad_role', 'stream_string', 'stream_int', 'stream_options_without_stream', 'stream_options_string', 'metadata_string', 'route_hint_int'])
def test_bad_body_400(basic, body, param):
    r = basic.chat(body)
    e = assert_openai_error(r, 400, type_="invalid_request_error")
    if isinstance(param, tuple):
        assert e["param"] in param, f"body {body!r}: {r.describe()}"
    elif param is not None:
        assert e["param"] == param, f"body {body!r}: {r.describe()}"
    assert not basic.mock.requests


def test_oversize_body_413(basic):
    big = json.dumps(chat_body("gpt-4o", "x" * (5 * 1024 * 1024))).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {basic.vkey}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(big)}\r\nConnection: close\r\n\r\n").encode()
    r = raw_request(basic.gw.port, head, big)
    assert_openai_error(r, 413)
    assert not basic.mock.requests


def test_body_between_1m_and_4m_accepted(basic):
    """nginx core's client_max_body_size defaults to 1m; routeshift_max_body_size defaults to 4m
    and is the limit that must apply."""
    r = basic.chat(chat_body("gpt-4o", "y" * (2 * 1024 * 1024)), timeout=60)
    assert r.status == 200, r.describe()
    assert len(basic.mock.requests[0].body) > 2 * 1024 * 1024


def test_max_body_size_directive(gw_factory, mocks):
    gw = gw_factory(location_extra="routeshift_max_body_size 64k;")
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o", "z" * 60000), key=vk)
    assert r.status == 200, r.describe()
    r = gw.chat(chat_body("gpt-4o", "z" * 70000), key=vk)
    assert_openai_error(r, 413)
    # chunked request body over the limit (no Content-Length to check up front)
    payload = json.dumps(chat_body("gpt-4o", "z" * 70000)).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 8192]), payload[i:i + 8192])
                      for i in range(0, len(payload), 8192)) + b"0\r\n\r\n"
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {vk}\r\n"
            f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            f"Connection: close\r\n\r\n").encode()
    r = raw_request(gw.port, head, chunks)
    assert_openai_error(r, 413)
    assert len(m.requests) == 1


@pytest.fixture
def keys(gw, mocks):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url())
    s.key(p)
    s.model(p, "gpt-4o")
    good = s.vkey()
    disabled = s.vkey(enabled=False)
    expired = s.vkey(expires_at=int(time.time()) - 3600)
    future = s.vkey(expires_at=int(time.time()) + 3600)
    unknown = "sk-proxy-" + "0" * 32
    gw.secrets.add(unknown)
    gw.push(s)
    return dict(gw=gw, m=m, good=good, disabled=disabled, expired=expired, future=future,
                unknown=unknown)


@pytest.mark.parametrize("case", ["missing", "unknown", "disabled", "expired", "empty_bearer",
                                  "basic_scheme", "provider_style"])
def test_bad_virtual_key_401(keys, case):
    gw = keys["gw"]
    headers = {}
    key = None
    if case == "missing":
        pass
    elif case == "empty_bearer":
        headers["Authorization"] = "Bearer "
    elif case == "basic_scheme":
        headers["Authorization"] = f"Basic {keys['good']}"
    elif case == "provider_style":
        key = "sk-" + "1" * 40
    else:
        key = keys[case]
    r = gw.chat(chat_body("gpt-4o"), key=key, headers=headers)
    e = assert_openai_error(r, 401, type_="authentication_error")
    if key:
        assert key not in e["message"], "the presented key must not be echoed"
    if case == "disabled":
        assert e["code"] == "key_disabled", r.describe()
    if case == "expired":
        assert e["code"] == "key_expired", r.describe()
    if case == "unknown":
        assert e["code"] == "invalid_api_key", r.describe()
    assert not keys["m"].requests


def test_auth_checked_before_body(keys):
    """An unauthenticated caller gets 401 even for a garbage body (auth runs first)."""
    r = keys["gw"].chat(b"{garbage", key=keys["unknown"])
    assert_openai_error(r, 401)


def test_future_expiry_accepted(keys):
    r = keys["gw"].chat(chat_body("gpt-4o"), key=keys["future"])
    assert r.status == 200, r.describe()


def test_unknown_model_404(basic):
    r = basic.chat(chat_body("definitely-not-a-model"))
    e = assert_openai_error(r, 404, code="model_not_found")
    assert "definitely-not-a-model" in e["message"], r.describe()
    assert not basic.mock.requests


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_wrong_method_405(basic, method):
    r = basic.gw.chat(None if method != "PUT" else chat_body(), key=basic.vkey, method=method)
    assert_openai_error(r, 405)
    allow = r.header("Allow")
    assert allow is None or "POST" in allow, r.describe()
    assert not basic.mock.requests
