"""Embeddings (docs/design.md §22) with the official SDKs (t/js/embeddings.mjs: openai,
AzureOpenAI, @google/genai) through the gateway to strict embeddings mocks of every wire
(mock_embeddings): OpenAI (spliced body, relayed answer), Gemini (:batchEmbedContents), Bedrock
Titan and Cohere (SigV4, InvokeModel). The SDK's default base64 encoding is checked to decode to
the mock's floats; usage, cost and the request log; errors in the client's dialect; the virtual
key never upstream."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from helpers import Snapshot, http_request, run_sdk
from mock_anthropic import MockAnthropic
from mock_bedrock import MockBedrock
from mock_embeddings import BedrockEmbeddings, GeminiEmbeddings, OpenAIEmbeddings, float32, tokens, vector
from mock_gemini import MockGemini
from mock_provider import Reply
from provider_matrix import BEDROCK_REGION, akid_for

PER_TOKEN = 1_000_000


def price(provider_id: int, model: str, input_per_token: int) -> dict:
    return {"id": 900 + provider_id * 10 + len(model), "provider_id": provider_id, "model": model,
            "input_microcents_per_mtok": input_per_token * PER_TOKEN,
            "output_microcents_per_mtok": 50 * PER_TOKEN, "cached_input_microcents_per_mtok": None,
            "effective_from": 0}




class World:
    def __init__(self, gw, mocks, spool: Path):
        self.gw = gw
        self.spool = spool
        self.oa = mocks.new("oa")
        self.oa_emb = OpenAIEmbeddings(self.oa)
        self.gem = MockGemini(name="gem").start()
        self.gem_emb = GeminiEmbeddings(self.gem)
        self.bed = MockBedrock(name="bed", credentials={}, region=BEDROCK_REGION).start()
        self.bed_emb = BedrockEmbeddings(self.bed)
        self.claude = MockAnthropic(name="claude").start()
        s = Snapshot()
        self.po = s.provider("openai", "openai", self.oa.base_url())
        self.openai_secrets = [s.key(self.po, label="O"), s.key(self.po, label="O2")]
        s.model(self.po, "text-embedding-3-small")
        s.model(self.po, "oa-emb", "text-embedding-3-small")
        self.pg = s.provider("google", "gemini", self.gem.base_url(path="/v1beta"))
        self.gemini_secret = s.key(self.pg, label="G")
        s.model(self.pg, "gemini-embedding-001")
        s.model(self.pg, "gem-emb", "gemini-embedding-001")
        self.pb = s.provider("aws", "bedrock", self.bed.base_url(path=""))
        self.bedrock_secret = "rsSecret/embeddings0123456789+KEY"
        self.bed.credentials[akid_for(self.bedrock_secret)] = self.bedrock_secret
        s.key(self.pb, self.bedrock_secret, label="B",
              metadata={"region": BEDROCK_REGION, "access_key_id": akid_for(self.bedrock_secret)})
        s.model(self.pb, "titan", "amazon.titan-embed-text-v2:0")
        s.model(self.pb, "cohere", "cohere.embed-english-v3")
        s.model(self.pb, "claude-on-bedrock", "anthropic.claude-3-haiku-20240307-v1:0")
        pa = s.provider("anthropic", "anthropic", self.claude.base_url())
        s.key(pa, label="A")
        s.model(pa, "claude-only", "claude-sonnet-4-5")
        self.vk = s.vkey()
        snap = s.to_dict()
        snap["model_prices"] = [price(self.po, "text-embedding-3-small", 2), price(self.pg, "gemini-embedding-001", 3)]
        gw.push(snap)

    def openai(self, request: dict, api_key: str | None = None) -> dict:
        return run_sdk({"sdk": "openai", "baseURL": self.gw.base_url, "apiKey": api_key or self.vk,
                        "request": request}, script="embeddings.mjs")

    def azure(self, deployment: str, request: dict) -> dict:
        base = self.gw.base_url[: -len("/v1")]
        return run_sdk({"sdk": "azure", "endpoint": base, "apiKey": self.vk, "apiVersion": "2024-10-21",
                        "deployment": deployment, "request": request}, script="embeddings.mjs")

    def genai(self, request: dict) -> dict:
        base = self.gw.base_url[: -len("/v1")]
        return run_sdk({"sdk": "genai", "baseUrl": base, "apiKey": self.vk, "request": request},
                       script="embeddings.mjs")

    def records(self) -> list:
        out = []
        for f in sorted(self.spool.glob("rs-*")):
            out += [json.loads(line) for line in f.read_text().splitlines()]
        return out

    def no_virtual_key_upstream(self):
        for m in (self.oa, self.gem, self.bed, self.claude):
            for req in m.requests:
                assert not req.carries(self.vk), (m.name, req.path)

    def stop(self):
        for m in (self.gem, self.bed, self.claude):
            m.stop()


@pytest.fixture
def world(spool, gw_factory, mocks, sdk):  # `sdk` installs the npm clients
    gw = gw_factory(http_extra=f"routeshift_log_spool {spool} file_size=4k file_time=1s;",
                    extra_log_fields=',"cost":"$routeshift_cost_microcents","prompt":"$routeshift_prompt_tokens"')
    w = World(gw, mocks, spool)
    yield w
    w.stop()
    w.no_virtual_key_upstream()


TEXTS = ["hello", "a longer text to embed"]


def test_openai_wire_sdk_default_base64_decodes_to_the_mocks_floats(world):
    res = world.openai({"model": "oa-emb", "input": TEXTS})
    assert "error" not in res, res
    assert res["vectors"] == [float32(vector(t)) for t in TEXTS]
    # the SDK asked for base64 (its default) and the spliced body kept it; only the model changed
    sent = world.oa_emb.calls[-1]
    assert sent == {"model": "text-embedding-3-small", "input": TEXTS, "encoding_format": "base64"}, sent
    req = world.oa.requests[-1]
    assert req.path == "/v1/embeddings" and req.header("authorization") in [f"Bearer {k}" for k in world.openai_secrets]
    n = sum(tokens(t) for t in TEXTS)
    assert res["result"]["usage"] == {"prompt_tokens": n, "total_tokens": n}
    e = world.gw.wait_access(1)[-1]
    assert e["prompt"] == str(n) and e["cost"] == str(2 * n), e


def test_openai_wire_float_and_options(world):
    res = world.openai({"model": "text-embedding-3-small", "input": "one", "encoding_format": "float",
                        "dimensions": 3, "user": "u-1"})
    assert "error" not in res, res
    assert res["vectors"] == [vector("one", 3)]
    assert world.oa_emb.calls[-1]["dimensions"] == 3 and world.oa_emb.calls[-1]["user"] == "u-1"
    # token-id input reaches an OpenAI-wire provider as sent
    res = world.openai({"model": "oa-emb", "input": [[1, 2, 3], [4]], "encoding_format": "float"})
    assert "error" not in res and len(res["vectors"]) == 2, res


def test_gemini_wire_translated_both_encodings(world):
    res = world.openai({"model": "gem-emb", "input": TEXTS, "dimensions": 6})
    assert "error" not in res, res
    assert res["vectors"] == [float32(vector(t, 6)) for t in TEXTS]
    method, body = world.gem_emb.calls[-1]
    assert method == "batchEmbedContents"
    assert body == {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]},
                                  "outputDimensionality": 6} for t in TEXTS]}, body
    req = world.gem.requests[-1]
    assert req.header("x-goog-api-key") == world.gemini_secret
    assert res["result"]["model"] == "gemini-embedding-001"
    # Gemini reports no usage: the estimate (characters / 4), priced at the input price
    est = (sum(len(t) for t in TEXTS) + 3) // 4
    assert res["result"]["usage"] == {"prompt_tokens": est, "total_tokens": est}, res["result"]
    e = world.gw.wait_access(1)[-1]
    assert e["cost"] == str(3 * est), e

    res = world.openai({"model": "gemini-embedding-001", "input": "x", "encoding_format": "float"})
    assert res["vectors"] == [vector("x")], res


def test_bedrock_titan_and_cohere(world):
    res = world.openai({"model": "titan", "input": "hello titan", "dimensions": 256})
    assert "error" not in res, res
    assert res["vectors"] == [float32(vector("hello titan", 256))]
    model, body = world.bed_emb.calls[-1]
    assert model == "amazon.titan-embed-text-v2:0" and body == {"inputText": "hello titan", "dimensions": 256}
    req = world.bed.requests[-1]
    assert req.path == "/model/amazon.titan-embed-text-v2%3A0/invoke" and req.sigv4["ok"], req.sigv4
    assert res["result"]["usage"]["prompt_tokens"] == tokens("hello titan")  # Titan's inputTextTokenCount

    res = world.openai({"model": "cohere", "input": TEXTS, "encoding_format": "float"})
    assert "error" not in res, res
    assert res["vectors"] == [vector(t) for t in TEXTS]
    model, body = world.bed_emb.calls[-1]
    assert body == {"texts": TEXTS, "input_type": "search_document", "embedding_types": ["float"]}, body


def test_titan_array_and_other_wires_refused_clearly(world):
    res = world.openai({"model": "titan", "input": TEXTS})
    assert res["error"]["status"] == 400 and "one text per request" in res["error"]["message"], res
    assert res["error"]["code"] == "embeddings_not_available_for_model"
    res = world.openai({"model": "claude-only", "input": "x"})
    assert res["error"]["status"] == 400 and "no embeddings endpoint" in res["error"]["message"], res
    res = world.openai({"model": "claude-on-bedrock", "input": "x"})
    assert res["error"]["status"] == 400 and "not a Titan or Cohere" in res["error"]["message"], res
    res = world.openai({"model": "gem-emb", "input": [1, 2, 3]})
    assert res["error"]["status"] == 400 and "token ids" in res["error"]["message"], res
    assert not world.bed_emb.calls and not world.gem_emb.calls and not world.claude.requests


def test_bad_input_is_400_in_openai_shape(world):
    port = world.gw.port
    auth = {"Authorization": f"Bearer {world.vk}"}
    for body, param in (({"model": "oa-emb"}, "input"), ({"model": "oa-emb", "input": ""}, "input"),
                        ({"model": "oa-emb", "input": []}, "input"), ({"model": "oa-emb", "input": [1, "a"]}, "input"),
                        ({"model": "oa-emb", "input": "x", "encoding_format": "hex"}, "encoding_format"),
                        ({"model": "oa-emb", "input": "x", "dimensions": -1}, "dimensions"),
                        ({"model": "oa-emb", "input": "x", "temperature": 1}, "temperature"),
                        ({"input": "x"}, "model"),
                        ({"model": "oa-emb", "input": ["x"] * 2049}, "input")):
        r = http_request(port, "POST", "/v1/embeddings", body, headers=auth)
        assert r.status == 400, (body, r.describe())
        assert r.json["error"]["type"] == "invalid_request_error" and r.json["error"]["param"] == param, r.json
    r = http_request(port, "POST", "/v1/embeddings", {"model": "nope", "input": "x"}, headers=auth)
    assert r.status == 404, r.describe()
    r = http_request(port, "GET", "/v1/embeddings", headers=auth)
    assert r.status == 405 and r.header("allow") == "POST"
    r = http_request(port, "POST", "/v1/embeddings", {"model": "oa-emb", "input": "x"},
                     headers={"Authorization": "Bearer sk-proxy-wrong"})
    assert r.status == 401
    assert not world.oa_emb.calls


def test_provider_error_relayed_and_retry_before_first_byte(world):
    world.oa_emb.fail_next(Reply.error(500, "boom"))
    before = len(world.oa.requests)
    res = world.openai({"model": "oa-emb", "input": "x"})
    assert "error" not in res and res["vectors"] == [float32(vector("x"))], res
    tried = world.oa.requests[before:]
    assert len(tried) == 2 and tried[0].header("authorization") != tried[1].header("authorization")
    world.oa_emb.fail_next(Reply.error(400, "bad model for embeddings", param="model"))
    res = world.openai({"model": "oa-emb", "input": "x"})
    assert res["error"]["status"] == 400 and "bad model" in res["error"]["message"], res
    # a Gemini provider's error reaches an OpenAI client in OpenAI's shape
    world.gem_emb.fail_next(Reply.json({"error": {"code": 400, "message": "Request payload size exceeds the limit",
                                                  "status": "INVALID_ARGUMENT"}}, status=400))
    res = world.openai({"model": "gem-emb", "input": "x"})
    assert res["error"]["status"] == 400 and "payload size" in res["error"]["message"], res


def test_request_log_names_embeddings(world):
    res = world.openai({"model": "gem-emb", "input": "logged"})
    assert "error" not in res, res
    deadline = time.time() + 10
    recs = []
    while time.time() < deadline:
        recs = [r for r in world.records() if r.get("endpoint") == "embeddings"]
        if recs:
            break
        time.sleep(0.2)
    assert recs, world.records()
    rec = recs[-1]
    est = (len("logged") + 3) // 4
    assert rec["requested_model"] == "gem-emb" and rec["resolved_model"] == "gemini-embedding-001", rec
    assert rec["status"] == 200 and rec["prompt_tokens"] == est and rec["cost_microcents"] == 3 * est, rec
    assert rec["usage_estimated"] is True, rec  # Gemini reports no count: the gateway's chars/4
    # Cohere reports none either; OpenAI and Titan count themselves
    for model, estimated in (("cohere", True), ("oa-emb", False), ("titan", False)):
        res = world.openai({"model": model, "input": "logged " + model})
        assert "error" not in res, res
        while time.time() < deadline + 10:
            recs = [r for r in world.records() if r.get("endpoint") == "embeddings" and r["requested_model"] == model]
            if recs:
                break
            time.sleep(0.2)
        assert recs and recs[-1]["usage_estimated"] is estimated, (model, recs)


def test_azure_sdk_deployment_path(world):
    res = world.azure("text-embedding-3-small", {"model": "ignored", "input": TEXTS})
    assert "error" not in res, res
    assert res["vectors"] == [float32(vector(t)) for t in TEXTS]
    assert world.oa_emb.calls[-1]["model"] == "text-embedding-3-small"
    res = world.azure("gem-emb", {"model": "ignored", "input": "x"})
    assert res["vectors"] == [float32(vector("x"))], res


def test_genai_sdk_every_wire(world):
    contents = ["first text", "second"]
    res = world.genai({"model": "gem-emb", "contents": contents, "config": {"outputDimensionality": 5,
                                                                            "taskType": "RETRIEVAL_QUERY"}})
    assert "error" not in res, res
    assert res["vectors"] == [vector(t, 5) for t in contents]
    method, body = world.gem_emb.calls[-1]
    assert method == "batchEmbedContents"
    assert all(r["taskType"] == "RETRIEVAL_QUERY" and r["model"] == "models/gemini-embedding-001" for r in body["requests"])
    # an OpenAI-wire provider serves a Gemini client (translated both ways)
    res = world.genai({"model": "oa-emb", "contents": contents})
    assert "error" not in res and res["vectors"] == [vector(t) for t in contents], res
    assert world.oa_emb.calls[-1]["encoding_format"] == "float"
    # Cohere on Bedrock: the task type picks the input type
    res = world.genai({"model": "cohere", "contents": contents, "config": {"taskType": "RETRIEVAL_QUERY"}})
    assert "error" not in res and res["vectors"] == [vector(t) for t in contents], res
    assert world.bed_emb.calls[-1][1]["input_type"] == "search_query"


def test_gemini_native_single_embed_content_and_errors(world):
    port = world.gw.port
    body = {"content": {"parts": [{"text": "single"}]}}
    for path in ("/v1beta/models/titan:embedContent", "/v1/models/gemini/titan:embedContent"):
        r = http_request(port, "POST", path, body, headers={"x-goog-api-key": world.vk})
        assert r.status == 200, r.describe()
        assert r.json == {"embedding": {"values": vector("single")}}, r.json
    r = http_request(port, "POST", "/v1beta/models/gem-emb:embedContent", {"content": {"parts": [{"text": "x"}]}, "bogus": 1},
                     headers={"x-goog-api-key": world.vk})
    assert r.status == 400 and r.json["error"]["status"] == "INVALID_ARGUMENT" and "bogus" in r.json["error"]["message"], r.json
    r = http_request(port, "POST", "/v1beta/models/claude-only:batchEmbedContents",
                     {"requests": [{"model": "models/claude-only", "content": {"parts": [{"text": "x"}]}}]},
                     headers={"x-goog-api-key": world.vk})
    assert r.status == 400 and r.json["error"]["status"] == "INVALID_ARGUMENT", r.json
    r = http_request(port, "POST", "/v1beta/models/gem-emb:embedContent", body, headers={"x-goog-api-key": "sk-proxy-no"})
    assert r.status in (401, 403) and "status" in r.json["error"], r.json


def test_gemini_count_tokens_relayed_to_gemini_wire_only(world):
    port = world.gw.port
    body = {"contents": [{"role": "user", "parts": [{"text": "one two three four"}]}]}
    r = http_request(port, "POST", "/v1beta/models/gem-emb:countTokens", body, headers={"x-goog-api-key": world.vk})
    assert r.status == 200, r.describe()
    assert r.json["totalTokens"] == world.gem_emb.total_tokens, r.json  # the provider's own count
    method, sent = world.gem_emb.calls[-1]
    req = world.gem.requests[-1]
    assert method == "countTokens" and sent == body, sent
    assert req.path == "/v1beta/models/gemini-embedding-001:countTokens"
    assert req.header("x-goog-api-key") == world.gemini_secret
    # another wire: the gateway's estimate, no provider asked
    calls = len(world.oa.requests)
    r = http_request(port, "POST", "/v1beta/models/oa-emb:countTokens", body, headers={"x-goog-api-key": world.vk})
    assert r.status == 200 and r.json["totalTokens"] != world.gem_emb.total_tokens, r.json
    assert len(world.oa.requests) == calls
    # a provider error reaches the client in Google's shape
    world.gem_emb.fail_next(Reply.json({"error": {"code": 400, "message": "bad contents", "status": "INVALID_ARGUMENT"}},
                                       status=400))
    r = http_request(port, "POST", "/v1beta/models/gem-emb:countTokens", body, headers={"x-goog-api-key": world.vk})
    assert r.status == 400 and r.json["error"]["status"] == "INVALID_ARGUMENT" and "bad contents" in r.json["error"]["message"], r.json


def test_azure_v1_key_names_its_deployment_in_the_body(gw_factory, mocks, sdk):
    # Azure's v1 API (/openai/v1/embeddings) reads the deployment from the body's model: a key
    # whose metadata names one must send it, not the upstream model (§22)
    gw = gw_factory()
    m = mocks.new("az")
    OpenAIEmbeddings(m, azure_deployments={"emb-dep"})
    s = Snapshot()
    p = s.provider("azure", "azure", m.base_url(path=""))
    secret = s.key(p, metadata={"resource_name": "ignored-when-base-url", "api_version": "v1", "deployment": "emb-dep"})
    s.model(p, "az-emb", "text-embedding-3-small")
    vk = s.vkey()
    gw.push(s)
    res = run_sdk({"sdk": "openai", "baseURL": gw.base_url, "apiKey": vk, "request": {"model": "az-emb", "input": TEXTS}},
                  script="embeddings.mjs")
    assert "error" not in res, res
    assert res["vectors"] == [float32(vector(t)) for t in TEXTS]
    q = m.requests[-1]
    assert q.path == "/openai/v1/embeddings" and q.json["model"] == "emb-dep", (q.target, q.json)
    assert q.header("api-key") == secret and not q.carries(vk)
