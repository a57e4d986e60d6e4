"""Bounded fuzzing of the request path: mutated chat bodies (byte flips, truncations, junk,
deep nesting, odd types, invalid UTF-8) must each get a 200 or an OpenAI-shaped 4xx, and no
worker may die. Seeded, 400 requests, loopback only."""

from __future__ import annotations

import json
import random

from helpers import chat_body


def mutations(rng: random.Random, base: bytes):
    yield b""
    yield b"null"
    yield b"[]"
    yield b'{"model":"gpt-4o","messages":' + b"[" * 3000 + b"]" * 3000 + b"}"
    yield b'{"model":"gpt-4o","messages":[{"role":"user","content":"\xff\xfe"}]}'
    yield b'{"model":"gpt-4o","messages":[{"role":"user","content":"a"}],"n":1e999}'
    yield b'{"model":"gpt-4o","messages":[{"role":"user","content":"\\ud800"}]}'
    yield b'{"model":"gpt-4o","model":"x","messages":[{"role":"user","content":"a"}]}'
    yield b'{"model":"gpt-4o","messages":[{"role":"user","content":"a"}],"metadata":{"route_hint":7}}'
    while True:
        b = bytearray(base)
        op = rng.randrange(5)
        if op == 0:  # flip bytes
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1:  # truncate
            b = b[: rng.randrange(len(b))]
        elif op == 2:  # duplicate a slice
            i, j = sorted(rng.randrange(len(b)) for _ in range(2))
            b[i:i] = b[i:j]
        elif op == 3:  # insert JSON-ish junk
            i = rng.randrange(len(b))
            b[i:i] = rng.choice([b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"\x00", b"true", b"-0e"])
        else:  # replace a value with another type
            doc = json.loads(base)
            key = rng.choice(list(doc))
            doc[key] = rng.choice([None, 0, -1, 1.5, "", "x" * 300, [], {}, [None], {"a": {}}])
            b = bytearray(json.dumps(doc).encode())
        yield bytes(b)


def test_mutated_bodies_never_break_the_gateway(basic):
    gw = basic.gw
    pids = sorted(gw.worker_pids())
    base = json.dumps({**chat_body("gpt-4o", "fuzz me"), "temperature": 0.5,
                       "metadata": {"route_hint": "gpt-4o", "session_id": "s"},
                       "stream_options": {"include_usage": True}}).encode()
    rng = random.Random(20261121)
    seen = {}
    for i, body in zip(range(400), mutations(rng, base)):
        r = basic.chat(body)
        seen[r.status] = seen.get(r.status, 0) + 1
        assert r.status in (200, 400, 404, 413), f"case {i}: {body[:200]!r} -> {r.describe()}"
        if r.status != 200:
            err = r.json["error"]
            assert set(err) >= {"message", "type", "param", "code"}, f"case {i}: {r.describe()}"
            assert err["message"], f"case {i}: empty message"
    assert seen.get(400, 0) > 50 and seen.get(200, 0) >= 3, seen  # the fuzzer really varies its input
    assert sorted(gw.worker_pids()) == pids, "a worker died and was respawned"
