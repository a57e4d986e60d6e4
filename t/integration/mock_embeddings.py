"""Strict embeddings endpoints for the provider mocks (docs/design.md §22), installed as a mock's
`handler` (other paths fall through to the mock's own script):

    OpenAIEmbeddings(mock)      POST /v1/embeddings (and Azure's /openai/deployments/{d}/embeddings)
    GeminiEmbeddings(gemini)    POST /v1beta/models/{m}:embedContent | :batchEmbedContents | :countTokens
    BedrockEmbeddings(bedrock)  POST /model/{id}/invoke (Titan text v1/v2, Cohere embed v3/v4)

Each refuses what the real API refuses (unknown members, wrong types, a missing credential; the
Bedrock mock's SigV4 check runs before the handler) and answers with deterministic vectors:
`vector(text, dims)`; tests compare the vectors a client received with these."""

from __future__ import annotations

import base64
import re
import struct
import urllib.parse
from typing import Optional

from mock_bedrock import bedrock_error
from mock_gemini import google_error_body
from mock_provider import MockProvider, RecordedRequest, Reply

DEFAULT_DIMS = 4


def vector(text: str, dims: int = DEFAULT_DIMS) -> list:
    """The mock's embedding of `text`: doubles that float32 cannot hold exactly (0.1 steps)."""
    return [round((len(text) + i) / 10 + 0.1, 6) for i in range(dims)]


def float32(values: list) -> list:
    """`values` as the float32 numbers a base64 embedding carries."""
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]


def tokens(text: str) -> int:
    return max(1, len(text.split()))


def _openai_err(status: int, message: str, param=None, code=None) -> Reply:
    return Reply.error(status, message, param=param, code=code)


class _Scripted:
    """Scripted replies served before the handler's own answer (errors, failover)."""

    def __init__(self):
        self.queued: list = []

    def fail_next(self, *replies: Reply) -> None:
        self.queued.extend(replies)

    def _next_queued(self) -> Optional[Reply]:
        return self.queued.pop(0) if self.queued else None


class OpenAIEmbeddings(_Scripted):
    MEMBERS = {"model", "input", "encoding_format", "dimensions", "user"}
    PATH = re.compile(r"^(/v1/embeddings|/openai/deployments/[^/]+/embeddings|/openai/v1/embeddings)$")

    def __init__(self, mock: MockProvider, dims: int = DEFAULT_DIMS, azure_deployments: Optional[set] = None):
        super().__init__()
        self.mock = mock
        self.dims = dims
        # Azure's v1 API (/openai/v1/embeddings) takes the deployment's name as the body's model
        self.azure_deployments = azure_deployments or set()
        self.calls: list = []   # the JSON bodies served
        mock.handler = self.handle

    def handle(self, req: RecordedRequest) -> Optional[Reply]:
        if not self.PATH.match(req.path):
            return None
        if self.queued:
            return self._next_queued()
        if req.method != "POST":
            return _openai_err(405, "Method not allowed.")
        if not req.auth_secret():
            return _openai_err(401, "You didn't provide an API key.", code="invalid_api_key")
        if (req.header("content-type") or "").split(";")[0].strip() != "application/json":
            return _openai_err(400, "Content-Type must be application/json.")
        body = req.json
        if not isinstance(body, dict):
            return _openai_err(400, "We could not parse the JSON body of your request.")
        unknown = set(body) - self.MEMBERS
        if unknown:
            return _openai_err(400, f"Unrecognized request argument supplied: {sorted(unknown)[0]}")
        if req.path == "/v1/embeddings" and not isinstance(body.get("model"), str):
            return _openai_err(400, "you must provide a model parameter", param="model")
        if req.path == "/openai/v1/embeddings" and body.get("model") not in self.azure_deployments:
            return _openai_err(404, "The API deployment for this resource does not exist.", code="DeploymentNotFound")
        inp = body.get("input")
        if isinstance(inp, str):
            texts = [inp]
        elif isinstance(inp, list) and inp and all(isinstance(x, str) and x for x in inp):
            texts = inp
        elif isinstance(inp, list) and inp and all(isinstance(x, int) for x in inp):
            texts = ["t" * len(inp)]
        elif isinstance(inp, list) and inp and all(isinstance(x, list) and x for x in inp):
            texts = ["t" * len(x) for x in inp]
        else:
            return _openai_err(400, "'$.input' is invalid. Please check the API reference.", param="input")
        if not texts or any(t == "" for t in texts):
            return _openai_err(400, "'$.input' is invalid.", param="input")
        fmt = body.get("encoding_format", "float")
        if fmt not in ("float", "base64"):
            return _openai_err(400, "'encoding_format' must be float or base64.", param="encoding_format")
        dims = body.get("dimensions", self.dims)
        if not isinstance(dims, int) or dims < 1:
            return _openai_err(400, "'dimensions' must be a positive integer.", param="dimensions")
        self.calls.append(body)
        data = []
        for i, t in enumerate(texts):
            v = vector(t, dims)
            emb = base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if fmt == "base64" else v
            data.append({"object": "embedding", "index": i, "embedding": emb})
        n = sum(tokens(t) for t in texts)
        return Reply.json({"object": "list", "data": data, "model": body.get("model", "azure-deployment"),
                           "usage": {"prompt_tokens": n, "total_tokens": n}})


class GeminiEmbeddings(_Scripted):
    REQUEST_MEMBERS = {"model", "content", "taskType", "title", "outputDimensionality"}

    def __init__(self, mock: MockProvider, dims: int = DEFAULT_DIMS, total_tokens: int = 42):
        super().__init__()
        self.mock = mock
        self.dims = dims
        self.total_tokens = total_tokens   # countTokens' answer
        self.calls: list = []              # (method, body)
        mock.handler = self.handle

    @staticmethod
    def _bad(message: str) -> Reply:
        return Reply.json(google_error_body(400, message, "INVALID_ARGUMENT"), status=400)

    def _one(self, request: dict, model: str, where: str, batch: bool):
        if not isinstance(request, dict):
            return self._bad(f"{where}: must be an object")
        unknown = set(request) - self.REQUEST_MEMBERS
        if unknown:
            return self._bad(f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" at \'{where}\': Cannot find field.')
        if batch and request.get("model") != f"models/{model}":
            return self._bad(f"{where}.model: model must be models/{model}, got {request.get('model')!r}")
        parts = (request.get("content") or {}).get("parts")
        if not isinstance(parts, list) or not parts or not all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in parts):
            return self._bad(f"{where}.content: text parts are required")
        dims = request.get("outputDimensionality", self.dims)
        if not isinstance(dims, int) or dims < 1:
            return self._bad(f"{where}.outputDimensionality: must be positive")
        return {"values": vector("".join(p["text"] for p in parts), dims)}

    def handle(self, req: RecordedRequest) -> Optional[Reply]:
        m = re.match(r"^(?:/[^:]*?)?/models/([^/:]+):(embedContent|batchEmbedContents|countTokens)$", urllib.parse.unquote(req.path))
        if not m:
            return None
        model, method = m.group(1), m.group(2)
        if self.queued:
            return self._next_queued()
        body = req.json
        if not isinstance(body, dict):
            return self._bad("Invalid JSON payload received.")
        self.calls.append((method, body))
        if method == "countTokens":
            unknown = set(body) - {"contents", "generateContentRequest"}
            if unknown:
                return self._bad(f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}": Cannot find field.')
            return Reply.json({"totalTokens": self.total_tokens, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": self.total_tokens}]})
        if method == "embedContent":
            one = self._one(body, model, "", False)
            return one if isinstance(one, Reply) else Reply.json({"embedding": one})
        if set(body) != {"requests"} or not isinstance(body["requests"], list) or not body["requests"]:
            return self._bad("requests: a non-empty list is required")
        out = []
        for i, r in enumerate(body["requests"]):
            one = self._one(r, model, f"requests[{i}]", True)
            if isinstance(one, Reply):
                return one
            out.append(one)
        return Reply.json({"embeddings": out})


class BedrockEmbeddings(_Scripted):
    TITAN_MEMBERS = {"inputText", "dimensions", "normalize", "embeddingTypes"}
    COHERE_MEMBERS = {"texts", "images", "input_type", "truncate", "embedding_types", "output_dimension"}

    def __init__(self, mock: MockProvider, dims: int = DEFAULT_DIMS):
        super().__init__()
        self.mock = mock
        self.dims = dims
        self.calls: list = []   # (model id, body)
        mock.handler = self.handle

    @staticmethod
    def _bad(message: str) -> Reply:
        return bedrock_error(400, "ValidationException", message)

    def handle(self, req: RecordedRequest) -> Optional[Reply]:
        m = re.match(r"^/model/([^/]+)/invoke$", req.path)
        if not m:
            return None
        model = urllib.parse.unquote(m.group(1))
        if self.queued:
            return self._next_queued()
        if (req.header("content-type") or "") != "application/json":
            return self._bad("Content-Type must be application/json")
        body = req.json
        if not isinstance(body, dict):
            return self._bad("Malformed input request, please reformat your input and try again.")
        self.calls.append((model, body))
        if "titan-embed-text" in model:
            unknown = set(body) - self.TITAN_MEMBERS
            if unknown:
                return self._bad(f"Malformed input request: extraneous key [{sorted(unknown)[0]}] is not permitted")
            if not isinstance(body.get("inputText"), str) or not body["inputText"]:
                return self._bad("Malformed input request: required key [inputText] not found")
            if "dimensions" in body and ("v1" in model or body["dimensions"] not in (256, 512, 1024)):
                return self._bad("Malformed input request: dimensions must be 256, 512 or 1024")
            text = body["inputText"]
            return Reply.json({"embedding": vector(text, body.get("dimensions", self.dims)),
                               "inputTextTokenCount": tokens(text)})
        if "cohere.embed" in model:
            unknown = set(body) - self.COHERE_MEMBERS
            if unknown:
                return self._bad(f"Malformed input request: extraneous key [{sorted(unknown)[0]}] is not permitted")
            texts = body.get("texts")
            if not isinstance(texts, list) or not texts or len(texts) > 96 or not all(isinstance(t, str) for t in texts):
                return self._bad("Malformed input request: texts must be a list of 1 to 96 strings")
            if body.get("input_type") not in ("search_document", "search_query", "classification", "clustering"):
                return self._bad("Malformed input request: input_type is required")
            vectors = [vector(t, body.get("output_dimension", self.dims)) for t in texts]
            if "embedding_types" in body:
                return Reply.json({"id": "emb-1", "embeddings": {"float": vectors}, "texts": texts,
                                   "response_type": "embeddings_by_type"})
            return Reply.json({"id": "emb-1", "embeddings": vectors, "texts": texts, "response_type": "embeddings_floats"})
        return self._bad(f"The provided model identifier is invalid: {model} does not support InvokeModel embeddings")
