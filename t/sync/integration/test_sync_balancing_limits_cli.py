"""Issue 8: the CLI for balancing (strategy, weights, failover tiers, latency window) and limits
(RPM/TPM of keys, virtual keys and teams; circuit-breaker threshold, cooldown, the limits' window):
list/set/clear, validated before anything is written, and carried into the snapshot."""

from __future__ import annotations

import json

from sync_helpers import Sync


def seed_config(db: Sync) -> None:
    db.run("provider", "add", "--name", "openai", "--kind", "openai")
    db.run("provider", "add", "--name", "azure", "--kind", "openai_compat", "--base-url", "http://127.0.0.1:9/v1")
    db.run("model", "add", "--provider", "openai", "--model", "gpt-4o")
    db.run("model", "add", "--provider", "azure", "--model", "gpt-4o")
    db.run("provider-key", "add", "--provider", "openai", "--label", "primary", input="sk-primary-0001")
    db.run("provider-key", "add", "--provider", "openai", "--label", "backup", input="sk-backup-0002")
    db.run("team", "add", "--name", "research")


def snapshot(db: Sync) -> dict:
    return json.loads(db.run("check", "--print").stdout.splitlines()[1])


def key(snap: dict, label: str) -> dict:
    return next(k for k in snap["provider_keys"] if k["label"] == label)


def test_balancing_set_list_clear(db: Sync):
    seed_config(db)
    gen = db.generation()
    assert "latency" in db.run("balancing", "set", "--provider", "openai", "--strategy", "latency").stdout
    db.run("balancing", "set", "--provider", "openai", "--label", "backup", "--priority", "1", "--weight", "7")
    db.run("balancing", "set", "--provider", "azure", "--model", "gpt-4o", "--priority", "2")
    db.run("balancing", "set", "--defaults", "--latency-window", "120")
    assert db.generation() > gen  # every change is a new generation for nginx
    snap = snapshot(db)
    providers = {p["name"]: p for p in snap["providers"]}
    assert providers["openai"]["balancing"] == "latency"
    assert providers["azure"].get("balancing", "weighted_round_robin") == "weighted_round_robin"
    assert key(snap, "backup")["priority"] == 1 and key(snap, "backup")["weight"] == 7
    assert key(snap, "primary").get("priority", 0) == 0
    azure_id = providers["azure"]["id"]
    assert [m["priority"] for m in snap["models"] if m["provider_id"] == azure_id] == [2]
    assert snap["settings"]["latency_window_seconds"] == 120

    listing = db.run("balancing", "list").stdout
    assert "latency window: 120 s" in listing
    lines = [line.split() for line in listing.splitlines()]
    assert ["provider", "openai", "-", "latency", "-", "-"] in lines
    assert ["key", "openai", "backup", "-", "7", "1"] in lines
    assert ["model", "azure", "gpt-4o", "-", "-", "2"] in lines
    only_azure = db.run("balancing", "list", "--provider", "azure").stdout
    assert "openai" not in only_azure and "azure" in only_azure

    db.run("balancing", "clear", "--provider", "openai")
    db.run("balancing", "clear", "--provider", "openai", "--label", "backup")
    db.run("balancing", "clear", "--provider", "azure", "--model", "gpt-4o")
    db.run("balancing", "clear", "--defaults")
    assert db.sql("SELECT balancing FROM providers WHERE name = 'openai'") == "weighted_round_robin"
    assert db.sql("SELECT weight, priority FROM provider_keys WHERE label = 'backup'") == "1|0"
    assert db.sql("SELECT priority FROM models m JOIN providers p ON p.id = m.provider_id WHERE p.name = 'azure'") == "0"
    assert db.sql("SELECT latency_window_seconds FROM settings") == "300"


def test_balancing_validation(db: Sync):
    seed_config(db)
    before = db.generation()
    cases = [
        (["balancing", "set", "--provider", "openai", "--strategy", "fastest"], 2, "--strategy must be weighted_round_robin, latency or least_busy"),
        (["balancing", "set", "--provider", "openai"], 2, "missing --strategy"),
        (["balancing", "set", "--provider", "openai", "--weight", "3"], 2, "--weight does not apply to a provider"),
        (["balancing", "set", "--provider", "openai", "--label", "primary"], 2, "give --weight"),
        (["balancing", "set", "--provider", "openai", "--label", "primary", "--weight", "1001"], 2, "--weight must be an integer in 0..1000"),
        (["balancing", "set", "--provider", "openai", "--label", "primary", "--priority", "-1"], 2, "--priority must be an integer in 0..1000"),
        (["balancing", "set", "--provider", "openai", "--label", "primary", "--strategy", "latency"], 2, "--strategy does not apply to a key"),
        (["balancing", "set", "--provider", "openai", "--label", "nope", "--weight", "2"], 1, "has no key labelled 'nope'"),
        (["balancing", "set", "--provider", "ghost", "--strategy", "latency"], 1, "no provider named 'ghost'"),
        (["balancing", "set", "--provider", "openai", "--model", "gpt-5", "--priority", "1"], 1, "does not serve model 'gpt-5'"),
        (["balancing", "set", "--model", "gpt-4o", "--priority", "1"], 2, "--model needs --provider"),
        (["balancing", "set", "--defaults", "--latency-window", "4"], 2, "--latency-window must be an integer in 5..86400"),
        (["balancing", "set", "--defaults", "--provider", "openai", "--latency-window", "60"], 2, "--defaults takes no --provider"),
        (["balancing", "set", "--strategy", "latency"], 2, "say what to change"),
        (["balancing", "set", "--id", "1", "--model", "gpt-4o", "--priority", "1"], 2, "address one thing"),
        (["balancing", "frob"], 2, "unknown subcommand 'frob'"),
    ]
    for args, rc, message in cases:
        r = db.run(*args, expect=rc)
        assert message in r.stderr, (args, r.stderr)
    assert db.generation() == before  # nothing was written


def test_limit_set_list_clear(db: Sync):
    seed_config(db)
    vk = db.run("virtual-key", "create", "--team", "research", "--name", "ci").stdout
    vk_id = db.sql("SELECT id FROM virtual_keys WHERE name = 'ci'")
    assert "sk-proxy-" in vk
    db.run("limit", "set", "--provider", "openai", "--label", "primary", "--rpm", "500", "--tpm", "200000",
           "--breaker-threshold", "3", "--cooldown", "20")
    db.run("limit", "set", "--key", vk_id, "--rpm", "60", "--tpm", "50000")
    db.run("limit", "set", "--team", "research", "--rpm", "600")
    db.run("limit", "set", "--defaults", "--breaker-threshold", "4", "--rate-window", "30", "--cooldown", "15")
    snap = snapshot(db)
    primary = key(snap, "primary")
    assert (primary["rpm"], primary["tpm"], primary["circuit_breaker_threshold"], primary["cooldown_seconds"]) == \
        (500, 200000, 3, 20)
    assert key(snap, "backup").get("rpm") is None
    v = next(v for v in snap["virtual_keys"] if str(v["id"]) == vk_id)
    assert (v["rpm_limit"], v["tpm_limit"]) == (60, 50000)
    team = next(t for t in snap["teams"] if t["name"] == "research")
    assert team["rpm_limit"] == 600 and team.get("tpm_limit") is None
    s = snap["settings"]
    assert (s["circuit_breaker_threshold"], s["rate_limit_window_seconds"], s["default_cooldown_seconds"]) == (4, 30, 15)

    listing = db.run("limit", "list").stdout
    assert "defaults: breaker threshold 4, cooldown 15 s, rate-limit window 30 s" in listing
    rows = [line.split() for line in listing.splitlines()]
    assert any(r[:1] == ["provider_key"] and r[2:] == ["openai/primary", "500", "200000", "3", "20"] for r in rows)
    assert any(r[:1] == ["provider_key"] and r[2:] == ["openai/backup", "-", "-", "default", "default"] for r in rows)
    assert ["virtual_key", vk_id, "ci", "60", "50000", "-", "-"] in rows
    assert any(r[:1] == ["team"] and r[2:] == ["research", "600", "-", "-", "-"] for r in rows)

    db.run("limit", "clear", "--provider", "openai", "--label", "primary", "--limit", "tpm")
    assert db.sql("SELECT rpm, tpm, circuit_breaker_threshold FROM provider_keys WHERE label = 'primary'") == "500||3"
    db.run("limit", "clear", "--provider", "openai", "--label", "primary")
    assert db.sql("SELECT rpm, tpm, circuit_breaker_threshold, cooldown_seconds FROM provider_keys"
                  " WHERE label = 'primary'") == "|||"
    db.run("limit", "clear", "--key", vk_id)
    db.run("limit", "clear", "--team", "research", "--limit", "rpm")
    assert db.sql(f"SELECT rpm_limit, tpm_limit FROM virtual_keys WHERE id = {vk_id}") == "|"
    assert db.sql("SELECT rpm_limit FROM teams WHERE name = 'research'") == ""
    db.run("limit", "clear", "--defaults", "--limit", "breaker")
    assert db.sql("SELECT circuit_breaker_threshold, rate_limit_window_seconds FROM settings") == "5|30"
    db.run("limit", "clear", "--defaults")
    assert db.sql("SELECT circuit_breaker_threshold, default_cooldown_seconds, rate_limit_window_seconds"
                  " FROM settings") == "5|30|60"


def test_limit_validation(db: Sync):
    seed_config(db)
    before = db.generation()
    cases = [
        (["limit", "set", "--provider", "openai", "--label", "primary", "--rpm", "0"], 2, "--rpm must be an integer in 1..2147483647"),
        (["limit", "set", "--provider", "openai", "--label", "primary", "--tpm", "x"], 2, "--tpm must be an integer"),
        (["limit", "set", "--provider", "openai", "--label", "primary", "--breaker-threshold", "1001"], 2, "--breaker-threshold must be an integer in 0..1000"),
        (["limit", "set", "--provider", "openai", "--label", "primary", "--rate-window", "10"], 2, "--rate-window does not apply to a provider key"),
        (["limit", "set", "--provider", "openai", "--label", "primary"], 2, "give at least one limit"),
        (["limit", "set", "--provider", "openai", "--rpm", "5"], 2, "limits belong to a key"),
        (["limit", "set", "--team", "research", "--breaker-threshold", "2"], 2, "--breaker-threshold does not apply to a virtual key or a team"),
        (["limit", "set", "--team", "nobody", "--rpm", "2"], 1, "no team 'nobody'"),
        (["limit", "set", "--key", "424242", "--rpm", "2"], 1, "no virtual key with id 424242"),
        (["limit", "set", "--defaults", "--rpm", "2"], 2, "--rpm does not apply to the defaults"),
        (["limit", "set", "--defaults", "--rate-window", "0"], 2, "--rate-window must be an integer in 1..86400"),
        (["limit", "set", "--team", "research", "--defaults", "--rpm", "2"], 2, "address one thing"),
        (["limit", "clear", "--team", "research", "--limit", "breaker"], 2, "--limit breaker does not apply"),
        (["limit", "clear", "--team", "research", "--limit", "everything"], 2, "--limit must be rpm, tpm, breaker"),
        (["limit", "set", "--rpm", "5"], 2, "address one thing"),
    ]
    for args, rc, message in cases:
        r = db.run(*args, expect=rc)
        assert message in r.stderr, (args, r.stderr)
    assert db.generation() == before
