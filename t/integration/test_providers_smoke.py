"""First end-to-end checks of the non-OpenAI wire formats through the gateway (issue 4)."""

from __future__ import annotations

from helpers import Snapshot, chat_body
from mock_anthropic import AReply, MockAnthropic
from mock_provider import Reply


def test_anthropic_plain_and_stream_and_failover(gw, mocks, sdk):
    m = MockAnthropic(name="claude").start()
    o = mocks.new("oa")
    try:
        s = Snapshot()
        pa = s.provider("anthropic", "anthropic", m.base_url())
        ka = s.key(pa, weight=1000, label="A")
        po = s.provider("openai", "openai", o.base_url())
        s.key(po, weight=1, label="O")
        s.model(pa, "smart-model", "claude-sonnet-4-5")
        s.model(po, "smart-model", "gpt-4o")
        vk = s.vkey()
        gw.push(s)
        res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain",
                   "request": chat_body("anthropic/smart-model", "Hi")})
        assert "error" not in res, res
        c = res["completion"]
        assert c["object"] == "chat.completion" and c["choices"][0]["message"]["content"], c
        req = m.requests[-1]
        assert req.path.endswith("/v1/messages") and req.header("x-api-key") == ka
        assert req.json["model"] == "claude-sonnet-4-5" and req.json["max_tokens"] > 0

        res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "stream",
                   "request": chat_body("anthropic/smart-model", "Hi")})
        assert res.get("completed") and "error" not in res, res
        text = "".join((ch["chunk"]["choices"][0]["delta"].get("content") or "")
                       for ch in res["chunks"] if ch["chunk"]["choices"])
        assert text, res

        # 529 on Anthropic -> retried on OpenAI with the body rebuilt in OpenAI's shape
        m.enqueue(AReply.overloaded())
        o.set_default(Reply.completion("from openai"))
        res = sdk({"baseURL": gw.base_url, "apiKey": vk, "mode": "plain",
                   "request": chat_body("smart-model", "Hi")})
        assert "error" not in res, res
        assert res["completion"]["choices"][0]["message"]["content"] == "from openai"
        oreq = o.requests[-1]
        assert oreq.path == "/v1/chat/completions" and oreq.json["model"] == "gpt-4o"
        assert oreq.json["messages"] == [{"role": "user", "content": "Hi"}], oreq.json
        assert "system" not in oreq.json and oreq.header("authorization", ) .startswith("Bearer ")
        e = gw.wait_access(3)[-1]
        assert e["statuses"] == "529,200", e
    finally:
        m.stop()
