#!/usr/bin/python3
"""Prints an OpenAI chat request body of exactly SIZE bytes: a system and a user message of
ASCII prose (the user message is padded to the size). Usage: make_body.py SIZE MODEL"""
import json
import sys

size, model = int(sys.argv[1]), sys.argv[2]
prose = "The quick brown fox jumps over the lazy dog while the gateway routes the request. "


def body(text: str) -> bytes:
    return json.dumps({
        "model": model, "temperature": 0.2, "max_tokens": 64,
        "messages": [
            {"role": "system", "content": "You are a terse assistant used for benchmarking."},
            {"role": "user", "content": text},
        ]}, separators=(",", ":")).encode()


base = len(body(""))
if size < base + 1:
    sys.exit(f"make_body.py: size {size} is below the minimum {base + 1}")
text = (prose * (size // len(prose) + 1))[: size - base]
out = body(text)
assert len(out) == size, (len(out), size)
sys.stdout.buffer.write(out)
