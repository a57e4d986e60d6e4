"""The context fallback's columns (sql/011, docs/design.md §20): they reach the snapshot, the
database refuses bad names, and `routeshift-sync check` fails for a fallback that names no model."""

from __future__ import annotations

import json

import pytest

from sync_helpers import Sync, psql


def configure(db: Sync) -> str:
    db.run("provider", "add", "--name", "local", "--kind", "openai_compat", "--base-url", "http://127.0.0.1:9/v1")
    db.run("model", "add", "--provider", "local", "--model", "short")
    db.run("model", "add", "--provider", "local", "--model", "long")
    db.run("provider-key", "add", "--provider", "local", "--label", "main", input="sk-local-fallback-1")
    return db.sql("SELECT id FROM models WHERE model = 'short'")


def test_fallback_reaches_the_snapshot_and_check_knows_the_names(db: Sync):
    short = configure(db)
    db.sql("UPDATE models SET context_fallback_model = 'long' WHERE model = 'short'")
    db.sql("INSERT INTO model_aliases (team_id, alias, target) VALUES (NULL, 'roomy', 'local/long')")
    db.sql("INSERT INTO routing_rules (name, priority, match, action, context_fallback_model) VALUES "
           "('r', 1, '{\"model\": \"short\"}', '{\"route\": {\"model\": \"short\"}}', 'roomy')")
    r = db.run("check", "--print")
    assert "valid" in r.stdout
    snap = json.loads(r.stdout.splitlines()[-1])
    rows = {m["model"]: m for m in snap["models"]}
    assert rows["short"]["context_fallback_model"] == "long"
    assert "context_fallback_model" not in rows["long"]
    assert [x.get("context_fallback_model") for x in snap["routing_rules"]] == ["roomy"]

    # a name that is no model, provider/model or alias: check fails naming the row
    db.sql("UPDATE models SET context_fallback_model = 'nowhere' WHERE model = 'short'")
    r = db.run("check", expect=1)
    assert "INVALID" in r.stdout
    assert f'models id {short} (short): context_fallback_model "nowhere" is no enabled model' in r.stderr, r.stderr
    db.sql("UPDATE models SET context_fallback_model = 'local/long' WHERE model = 'short'")
    db.sql("UPDATE routing_rules SET context_fallback_model = 'local/missing'")
    r = db.run("check", expect=1)
    assert 'context_fallback_model "local/missing"' in r.stderr, r.stderr


@pytest.mark.parametrize("bad", ["'with space'", "''", "E'new\\nline'"])
def test_database_refuses_bad_names(db: Sync, bad: str):
    configure(db)
    out = psql(db.db_url, f"UPDATE models SET context_fallback_model = {bad} WHERE model = 'short'", check=False)
    assert "violates check constraint" in out, out
