"""What reaches the upstream: the provider's credential in the provider's shape, the right URL,
the rewritten body, and nothing of the client's own credentials or headers."""

from __future__ import annotations

import json

import pytest

from helpers import Snapshot, chat_body, sse_events
from mock_provider import Reply

CLIENT_HEADERS = {
    "X-Client-Secret": "client-private-value",
    "Cookie": "session=client-cookie",
    "OpenAI-Organization": "org-from-client",
    "X-Forwarded-For": "10.9.8.7",
}

# kind, base path on the mock, auth header shape
KINDS = [
    ("openai", "/v1", "bearer"),
    ("together", "/v1", "bearer"),
    ("groq", "/openai/v1", "bearer"),
    ("zai", "/api/paas/v4", "bearer"),
    ("dashscope", "/compatible-mode/v1", "bearer"),
    ("openai_compat", "/v1", "bearer"),
    ("mimo", "/v1", "api-key"),
]


def _one(gw, mocks, kind, path="/v1", metadata=None, base_url=None, model="m-public",
         upstream_model="m-upstream"):
    m = mocks.new(kind)
    s = Snapshot()
    p = s.provider(f"prov-{kind}", kind, base_url if base_url is not None else m.base_url(path=path))
    sec = s.key(p, metadata=metadata or {})
    s.model(p, model, upstream_model)
    vk = s.vkey()
    gw.push(s)
    return m, s, sec, vk


def _assert_clean(q, vk, sec):
    """No client credential / header reached the upstream."""
    assert not q.carries(vk), f"virtual key forwarded upstream: {q.header_list} {q.body[:300]!r}"
    for name in ("x-client-secret", "cookie", "x-forwarded-for"):
        assert q.header(name) is None, f"client header {name} copied upstream: {q.header_list}"
    assert "client-private-value" not in str(q.header_list)
    assert q.header_count("authorization") <= 1 and q.header_count("api-key") <= 1
    assert (q.header("content-type") or "").startswith("application/json"), q.header_list
    assert int(q.header("content-length") or -1) == len(q.body), "Content-Length mismatch"
    assert q.carries(sec)


@pytest.mark.parametrize("kind,path,shape", KINDS, ids=[k[0] for k in KINDS])
def test_auth_shape_per_provider(gw, mocks, kind, path, shape):
    m, s, sec, vk = _one(gw, mocks, kind, path)
    r = gw.chat(chat_body("m-public"), key=vk, headers=CLIENT_HEADERS)
    assert r.status == 200, r.describe()
    (q,) = m.requests
    assert q.method == "POST"
    assert q.path == f"{path}/chat/completions" and q.query == "", q.target
    assert q.header("host") == f"127.0.0.1:{m.port}", q.header_list
    if shape == "bearer":
        assert q.header("authorization") == f"Bearer {sec}", q.header_list
        assert q.header("api-key") is None
    else:
        assert q.header("api-key") == sec, q.header_list
        assert q.header("authorization") is None, q.header_list
    assert q.header("x-api-key") is None
    assert q.header("openai-organization") is None, "client's OpenAI-Organization copied"
    assert q.json["model"] == "m-upstream"
    _assert_clean(q, vk, sec)


def test_client_x_api_key_not_forwarded(gw, mocks):
    m, s, sec, vk = _one(gw, mocks, "openai")
    r = gw.chat(chat_body("m-public"), headers={"x-api-key": vk})
    assert r.status == 200, r.describe()
    (q,) = m.requests
    assert q.header("x-api-key") is None
    _assert_clean(q, vk, sec)


def test_azure_dated_api_version_url(gw, mocks):
    # base_url = the resource root (what replaces https://{resource_name}.openai.azure.com)
    m, s, sec, vk = _one(gw, mocks, "azure", path="", metadata={
        "api_version": "2024-10-21", "deployment": "my-gpt4o-deploy"})
    r = gw.chat(chat_body("m-public"), key=vk, headers=CLIENT_HEADERS)
    assert r.status == 200, r.describe()
    (q,) = m.requests
    assert q.path == "/openai/deployments/my-gpt4o-deploy/chat/completions", q.target
    assert q.query_params == {"api-version": ["2024-10-21"]}, q.target
    assert q.header("api-key") == sec and q.header("authorization") is None, q.header_list
    _assert_clean(q, vk, sec)


def test_azure_version_without_stream_options(gw, mocks):
    """Azure dated versions before 2024-09-01 answer 400 "Unrecognized request argument supplied:
    stream_options": the gateway sends none there (the client's own included), and the stream works."""
    m, s, sec, vk = _one(gw, mocks, "azure", path="", metadata={
        "api_version": "2024-06-01", "deployment": "old-deploy"})

    def azure_2024_06(req):
        if isinstance(req.json, dict) and "stream_options" in req.json:
            return Reply.error(400, "Unrecognized request argument supplied: stream_options",
                               type_="invalid_request_error")
        return Reply.stream(["Hel", "lo"])
    m.handler = azure_2024_06
    for extra in ({}, {"stream_options": {"include_usage": True}}):
        r = gw.chat(chat_body("m-public", stream=True, **extra), key=vk)
        assert r.status == 200, r.describe()
        events = sse_events(r.body)
        assert events[-1] == "[DONE]", events
        text = "".join((e["choices"][0]["delta"].get("content") or "") for e in events[:-1] if e.get("choices"))
        assert text == "Hello", events
        q = m.requests[-1]
        assert "stream_options" not in q.json and q.query_params == {"api-version": ["2024-06-01"]}, q.json


@pytest.mark.parametrize("meta,expect_model", [
    ({"api_version": "v1", "deployment": "dep-v1"}, "dep-v1"),
    ({"deployment": "dep-noversion"}, "dep-noversion"),
    ({}, "m-upstream"),                                 # deployment defaults to the upstream model
], ids=["v1", "absent_version", "default_deployment"])
def test_azure_v1_url(gw, mocks, meta, expect_model):
    m, s, sec, vk = _one(gw, mocks, "azure", path="",
                         metadata={"resource_name": "ignored-when-base-url", **meta})
    r = gw.chat(chat_body("m-public"), key=vk)
    assert r.status == 200, r.describe()
    (q,) = m.requests
    assert q.path == "/openai/v1/chat/completions" and q.query == "", q.target
    assert q.json["model"] == expect_model, q.json
    assert q.header("api-key") == sec and q.header("authorization") is None, q.header_list
    _assert_clean(q, vk, sec)


@pytest.mark.parametrize("auth_header,expect", [
    ("authorization", ("authorization", "Bearer {}")),
    ("api-key", ("api-key", "{}")),
    ("x-api-key", ("x-api-key", "{}")),
    ("none", None),
])
def test_openai_compat_auth_header(gw, mocks, auth_header, expect):
    m, s, sec, vk = _one(gw, mocks, "openai_compat", metadata={"auth_header": auth_header})
    r = gw.chat(chat_body("m-public"), key=vk)
    assert r.status == 200, r.describe()
    (q,) = m.requests
    present = {h: q.header(h) for h in ("authorization", "api-key", "x-api-key")}
    if expect is None:
        assert present == {"authorization": None, "api-key": None, "x-api-key": None}, present
        assert not q.carries(sec)
    else:
        name, fmt = expect
        assert present.pop(name) == fmt.format(sec), q.header_list
        assert all(v is None for v in present.values()), present
    assert not q.carries(vk)


def test_openai_organization_and_project(gw, mocks):
    m, s, sec, vk = _one(gw, mocks, "openai", metadata={"organization": "org-abc",
                                                        "project": "proj_xyz"})
    r = gw.chat(chat_body("m-public"), key=vk, headers=CLIENT_HEADERS)
    assert r.status == 200, r.describe()
    (q,) = m.requests
    assert q.header("openai-organization") == "org-abc", q.header_list
    assert q.header("openai-project") == "proj_xyz", q.header_list
    assert q.header_count("openai-organization") == 1


def test_zai_developer_role_becomes_system(gw, mocks):
    m, s, sec, vk = _one(gw, mocks, "zai", "/api/paas/v4")
    body = {"model": "m-public", "messages": [{"role": "developer", "content": "be terse"},
                                              {"role": "user", "content": "hi"}]}
    r = gw.chat(body, key=vk)
    assert r.status == 200, r.describe()
    assert [x["role"] for x in m.requests[0].json["messages"]] == ["system", "user"]


def test_body_fields_preserved(gw, mocks):
    m, s, sec, vk = _one(gw, mocks, "openai")
    body = chat_body("m-public", temperature=0.3, max_tokens=17, tools=[
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        user="end-user-1", metadata={"session_id": "abc"})
    r = gw.chat(body, key=vk)
    assert r.status == 200, r.describe()
    got = m.requests[0].json
    for k in ("temperature", "max_tokens", "tools", "user", "messages"):
        assert got[k] == body[k], (k, got)
    assert "metadata" not in got and got["model"] == "m-upstream"


def test_body_json_fidelity(gw, mocks):
    """The gateway rewrites the body (model, metadata): every other value must survive exactly:
    big integers, float precision, unicode, escapes, nested structures, nulls."""
    m, s, sec, vk = _one(gw, mocks, "openai")
    raw = ('{"model":"m-public","seed":9007199254740993,"temperature":0.1,"top_p":1e-8,'
           '"presence_penalty":-0.0,"logit_bias":{"50256":-100},"n":1,"stop":["\\u0000x","\\n"],'
           '"messages":[{"role":"user","content":"h\\u00e9llo \\u2713 \\ud83d\\ude00 \\"q\\" \\\\ /"},'
           '{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",'
           '"function":{"name":"f","arguments":"{\\"a\\":[1,2.5,true,null]}"}}]},'
           '{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"ok"}]}],'
           '"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":'
           '{"type":"object","properties":{}},"strict":true}},"user":"u-\\u4e2d"}')
    r = gw.chat(raw.encode(), key=vk)
    assert r.status == 200, r.describe()
    sent = json.loads(raw)
    got = m.requests[0].json
    assert got["model"] == "m-upstream"
    sent.pop("model"), got.pop("model")
    assert got.get("stream_options") is None
    assert got == sent, f"body changed in transit:\nsent {sent}\ngot  {got}"
    assert isinstance(got["seed"], int) and got["seed"] == 9007199254740993


def test_trailing_slash_base_url(gw, mocks):
    m = mocks.new("a")
    s = Snapshot()
    p = s.provider("openai", "openai", m.base_url() + "/")
    s.key(p)
    s.model(p, "gpt-4o")
    vk = s.vkey()
    gw.push(s)
    r = gw.chat(chat_body("gpt-4o"), key=vk)
    assert r.status == 200, r.describe()
    assert m.requests[0].path == "/v1/chat/completions", m.requests[0].target
