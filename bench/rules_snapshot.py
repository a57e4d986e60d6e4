#!/usr/bin/python3
"""Prints the benchmark snapshot with 100 routing rules added, none of which matches the benchmark
request until the last (docs/routing-rules.md): the `openai_rules` arm of `make bench` measures
what evaluating a realistic rule table costs per request. The 99 misses cycle through the match
kinds (exact, glob and regex model names, metadata, stream, message count, token estimate,
a content regex behind a model test, an environment gate); the 100th routes gpt-4o-mini to itself.
Usage: rules_snapshot.py SNAPSHOT.json"""
import json
import sys

snapshot = json.load(open(sys.argv[1]))
misses = [
    lambda n: {"match": {"model": f"other-model-{n}"}},
    lambda n: {"match": {"model_glob": f"claude-*-{n}"}},
    lambda n: {"match": {"model_regex": f"^mistral-{n}$"}},
    lambda n: {"match": {"metadata": {"tier": f"gold-{n}"}}},
    lambda n: {"match": {"stream": True}},
    lambda n: {"match": {"messages_min": 50 + n}},
    lambda n: {"match": {"tokens_min": 10_000_000 + n}},
    lambda n: {"match": {"model": f"other-{n}", "content_regex": f"(?i)secret-{n}"}},
    lambda n: {"conditions": {"environments": ["staging"]}},
]
actions = [
    {"tag": {"labels": ["bench"]}},
    {"route": {"model": "gpt-4o-mini"}},
    {"block": {"status": 403, "message": "blocked"}},
]
rules = []
for n in range(1, 100):
    rule = {"id": n, "name": f"miss {n}", "priority": n, "action": actions[n % len(actions)]}
    rule.update(misses[n % len(misses)](n))
    rules.append(rule)
rules.append({"id": 100, "name": "hit", "priority": 100, "match": {"model": "gpt-4o-mini"},
              "action": {"route": {"models": ["gpt-4o-mini"]}}})
snapshot["routing_rules"] = rules
json.dump(snapshot, sys.stdout, indent=1)
