"""`routeshift-sync check` and the cost ceiling (docs/design.md "Cost ceiling"): a served model with
no price in force while a ceiling is in force is a configuration error naming the model; the
ceiling default and max_output_tokens reach the snapshot."""

from __future__ import annotations

import json

from sync_helpers import Sync, psql


def configure(db: Sync) -> tuple[str, str]:
    db.run("provider", "add", "--name", "local", "--kind", "openai_compat", "--base-url", "http://127.0.0.1:9/v1")
    db.run("model", "add", "--provider", "local", "--model", "m1")
    db.sql("UPDATE models SET upstream_model = 'm1-up'")
    db.run("provider-key", "add", "--provider", "local", "--label", "main", input="sk-local-ceiling-1")
    return db.sql("SELECT id FROM providers"), db.sql("SELECT id FROM models")


def add_price(db: Sync, pid: str, model: str, effective_from: str = "now() - interval '1 day'",
              max_output_tokens: str = "NULL") -> None:
    db.sql("INSERT INTO model_prices (provider_id, model, input_microcents_per_mtok, output_microcents_per_mtok,"
           f" effective_from, max_output_tokens) VALUES ({pid}, '{model}', 250000000, 1000000000,"
           f" {effective_from}, {max_output_tokens})")


def test_unpriced_model_under_settings_ceiling_fails_check(db: Sync):
    pid, mid = configure(db)
    assert "valid" in db.run("check").stdout  # no ceiling: prices are not needed

    db.sql("UPDATE settings SET cost_ceiling_microcents = 5000000")
    r = db.run("check", expect=1)
    assert "INVALID" in r.stdout
    assert (f"models id {mid} (provider local, model m1, upstream model m1-up): no price in force for upstream "
            "model m1-up in model_prices, but a cost ceiling is in force (settings.cost_ceiling_microcents)") \
        in r.stderr, r.stderr

    # a price under the public name does not count: prices are keyed by the upstream model
    add_price(db, pid, "m1")
    r = db.run("check", expect=1)
    assert f"models id {mid} " in r.stderr

    # a price that only starts tomorrow is not in force yet
    add_price(db, pid, "m1-up", "now() + interval '1 day'")
    r = db.run("check", expect=1)
    assert "its first price applies from unix time" in r.stderr, r.stderr

    # in force now: valid, with a warning while the row has no max_output_tokens
    add_price(db, pid, "m1-up")
    r = db.run("check")
    assert "valid" in r.stdout
    assert "has no max_output_tokens" in r.stderr, r.stderr
    db.sql("UPDATE model_prices SET max_output_tokens = 16384 WHERE model = 'm1-up'")
    r = db.run("check", "--print")
    assert "max_output_tokens" not in r.stderr
    snap = json.loads(r.stdout.splitlines()[-1])
    assert snap["settings"]["cost_ceiling_microcents"] == 5000000
    assert {p["max_output_tokens"] for p in snap["model_prices"] if p["model"] == "m1-up"} == {16384}

    # disabled models are not served: no price needed
    db.run("model", "add", "--provider", "local", "--model", "m2")
    r = db.run("check", expect=1)
    assert "model m2): no price in force for upstream model m2" in r.stderr, r.stderr
    db.sql("UPDATE models SET enabled = false WHERE model = 'm2'")
    assert "valid" in db.run("check").stdout


def test_rule_ceiling_counts_too(db: Sync):
    pid, mid = configure(db)
    rule = db.sql("INSERT INTO routing_rules (name, action, cost_ceiling_microcents)"
                  " VALUES ('capped', '{\"route\": \"m1\"}', 1000) RETURNING id").splitlines()[0]
    r = db.run("check", expect=None)
    assert (f"models id {mid} (provider local, model m1, upstream model m1-up): no price in force"
            in r.stderr), r.stderr
    assert f"(routing_rules id {rule})" in r.stderr, r.stderr
    assert r.returncode == 1
    # a disabled rule's ceiling is not in force
    db.sql(f"UPDATE routing_rules SET enabled = false WHERE id = {rule}")
    r = db.run("check", expect=None)
    assert "no price in force" not in r.stderr, r.stderr


def test_ceiling_and_output_cap_must_be_positive(db: Sync):
    configure(db)
    for query in ("UPDATE settings SET cost_ceiling_microcents = 0",
                  "INSERT INTO model_prices (provider_id, model, input_microcents_per_mtok,"
                  " output_microcents_per_mtok, max_output_tokens) SELECT id, 'x', 1, 1, 0 FROM providers"):
        err = psql(db.db_url, query, check=False)
        assert "violates check constraint" in err, err
