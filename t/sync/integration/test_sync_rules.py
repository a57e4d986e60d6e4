"""Routing rules through routeshift-sync (docs/routing-rules.md): `rule add` validates with the
module's parser before inserting, `rule list|rm|enable|disable`, `check` validates rules and embeds
the TZif data of every time zone a rule names, the 003 constraints reject malformed SQL rows."""

from __future__ import annotations

import base64
import json

from sync_helpers import Sync, psql


def add_provider(db: Sync) -> None:
    db.run("provider", "add", "--name", "local", "--kind", "openai_compat", "--base-url", "http://127.0.0.1:9/v1")
    db.run("model", "add", "--provider", "local", "--model", "m1")
    db.run("model", "add", "--provider", "local", "--model", "m2")
    db.run("provider-key", "add", "--provider", "local", "--label", "main", input="sk-local-rules-1")


def test_rule_add_list_disable_enable_rm(db: Sync):
    add_provider(db)
    r = db.run("rule", "add", "--name", "ping", "--priority", "5", "--match", '{"model": "ping"}',
               "--action", '{"static": {"content": "pong"}}')
    rid = db.sql("SELECT id FROM routing_rules WHERE name = 'ping'")
    assert f"rule {rid} added" in r.stdout
    db.run("rule", "add", "--name", "to m2", "--action", '{"route": {"models": ["m2", "m1"]}}',
           "--retry-budget", "2", "--cost-ceiling-microcents", "5000", "--disabled")
    assert db.sql("SELECT enabled::text || ',' || retry_budget || ',' || cost_ceiling_microcents"
                  " FROM routing_rules WHERE name = 'to m2'") == "false,2,5000"
    listing = db.run("rule", "list").stdout
    assert listing.splitlines()[0].startswith("id\tpriority\tname")
    assert f"{rid}\t5\tping\t(all)\tt" in listing, listing
    db.run("rule", "disable", "--id", rid)
    assert db.sql(f"SELECT enabled FROM routing_rules WHERE id = {rid}") == "f"
    db.run("rule", "enable", "--id", rid)
    assert db.sql(f"SELECT enabled FROM routing_rules WHERE id = {rid}") == "t"
    db.run("rule", "rm", "--id", rid)
    assert db.run("rule", "rm", "--id", rid, expect=1).returncode == 1
    db.run("rule", "enable", "--id", "99999", expect=1)
    assert db.sql("SELECT count(*) FROM routing_rules") == "1"


def test_rule_stream_continuation_flag(db: Sync):
    """--stream-continuation on|off on `rule add` and `rule set` (sql/010, docs/design.md §19), shipped
    in the snapshot only when off; a tag rule never decides, so it cannot turn it off."""
    add_provider(db)
    db.run("rule", "add", "--name", "no-cont", "--action", '{"route": {"model": "m2"}}', "--stream-continuation", "off")
    db.run("rule", "add", "--name", "default", "--priority", "7", "--action", '{"route": {"model": "m1"}}')
    assert db.sql("SELECT string_agg(name || '=' || stream_continuation, ',' ORDER BY name) FROM routing_rules") == \
        "default=true,no-cont=false"
    listing = db.run("rule", "list").stdout
    assert listing.splitlines()[0].endswith("\tstream_continuation"), listing
    snap = json.loads(db.run("check", "--print").stdout.splitlines()[1])
    by_name = {x["name"]: x for x in snap["routing_rules"]}
    assert by_name["no-cont"]["stream_continuation"] is False and "stream_continuation" not in by_name["default"]
    rid = db.sql("SELECT id FROM routing_rules WHERE name = 'default'")
    r = db.run("rule", "set", "--id", rid, "--stream-continuation", "off")
    assert "stream continuation off" in r.stdout
    assert db.sql(f"SELECT stream_continuation FROM routing_rules WHERE id = {rid}") == "f"
    db.run("rule", "set", "--id", rid, "--stream-continuation", "on")
    assert db.sql(f"SELECT stream_continuation FROM routing_rules WHERE id = {rid}") == "t"
    db.run("rule", "add", "--action", "{}", "--stream-continuation", "maybe", expect=2)
    db.run("rule", "set", "--id", rid, expect=2)  # nothing to set
    db.run("rule", "set", "--id", "99999", "--stream-continuation", "off", expect=1)
    r = db.run("rule", "add", "--name", "tagger", "--action", '{"tag": {"labels": ["x"]}}', "--stream-continuation", "off",
               expect=1)
    assert "stream_continuation" in r.stderr and "does not validate" in r.stderr, r.stderr
    db.run("rule", "add", "--name", "tagger", "--action", '{"tag": {"labels": ["x"]}}')
    tid = db.sql("SELECT id FROM routing_rules WHERE name = 'tagger'")
    r = db.run("rule", "set", "--id", tid, "--stream-continuation", "off", expect=1)
    assert "would not validate" in r.stderr, r.stderr
    assert db.sql(f"SELECT stream_continuation FROM routing_rules WHERE id = {tid}") == "t"


def test_rule_add_validates_before_insert(db: Sync):
    add_provider(db)
    cases = [
        (["--match", '{"content_regex": "(unclosed"}', "--action", '{"tag": {"labels": ["x"]}}'], "content_regex"),
        (["--match", '{"colour": "red"}', "--action", '{"tag": {"labels": ["x"]}}'], "colour"),
        (["--action", '{"route": {"model": "nope"}}'], "does not resolve"),
        (["--action", '{"block": {"status": 200}}'], "400..599"),
        (["--action", '{"tag": {"labels": ["x"]}}', "--conditions", '{"time_zone": "Nowhere/Atlantis"}'],
         "unknown time zone"),
        (["--action", '{"tag": {"labels": ["x"]}}', "--retry-budget", "2"], "never decides"),
    ]
    for args, words in cases:
        r = db.run("rule", "add", *args, expect=1)
        assert words in r.stderr and "does not validate" in r.stderr, (args, r.stderr)
    assert db.sql("SELECT count(*) FROM routing_rules") == "0"
    db.run("rule", "add", expect=2)  # --action is required
    db.run("rule", "add", "--action", "{}", "--priority", "high", expect=2)


def test_check_embeds_time_zones_and_reports_bad_rules(db: Sync):
    add_provider(db)
    db.run("rule", "add", "--name", "office", "--action", '{"route": {"model": "m2"}}', "--conditions",
           '{"time_zone": "Europe/Berlin", "time_windows": [{"start": "09:00", "end": "17:00"}], "days": ["mon"]}')
    r = db.run("check", "--print")
    assert "valid" in r.stdout
    snap = json.loads(r.stdout.splitlines()[1])
    assert [x["name"] for x in snap["routing_rules"]] == ["office"]
    tzif = base64.b64decode(snap["time_zones"]["Europe/Berlin"])
    with open("/usr/share/zoneinfo/Europe/Berlin", "rb") as f:
        assert tzif == f.read()
    # a row written with plain SQL that the parser refuses: check names it
    db.sql("INSERT INTO routing_rules (name, match, action) VALUES ('bad', '{\"model_regex\": \"[\"}',"
           " '{\"tag\": {\"labels\": [\"x\"]}}')")
    bad = db.sql("SELECT id FROM routing_rules WHERE name = 'bad'")
    r = db.run("check", expect=1)
    assert f"(id {bad}).match.model_regex" in r.stderr, r.stderr
    db.run("rule", "disable", "--id", bad)  # disabled rows are not shipped
    assert "valid" in db.run("check").stdout


def test_sql_constraints_on_actions(db: Sync):
    add_provider(db)
    for action in ('{"route": {"model": "m1"}, "tag": {"labels": ["x"]}}', '{"redirect": {}}',
                   '{"block": {"status": 200}}', '{"block": {"status": "403"}}'):
        out = psql(db.db_url, f"INSERT INTO routing_rules (action) VALUES ('{action}')", check=False)
        assert "violates check constraint" in out, (action, out)
    psql(db.db_url, """INSERT INTO routing_rules (action) VALUES ('{"block": {"status": 403}}')""")
    assert db.sql("SELECT count(*) FROM routing_rules") == "1"
