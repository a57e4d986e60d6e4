"""The admin CLI against a real Postgres: provider keys (secret from stdin, encrypted at rest, never
shown), virtual keys (printed once, hash stored), aliases, `check` reporting bad rows, exit codes."""

from __future__ import annotations

import hashlib
import json
import re

from sync_helpers import Sync, new_master_secret, new_provider_secret, pg_dump, psql


def setup_provider(db: Sync, name: str = "openai", kind: str = "openai", base_url: str | None = None) -> None:
    args = ["provider", "add", "--name", name, "--kind", kind]
    if base_url:
        args += ["--base-url", base_url]
    db.run(*args)


def test_provider_key_add_encrypts_and_list_hides(db: Sync):
    setup_provider(db)
    secret = new_provider_secret("paid")
    r = db.run("provider-key", "add", "--provider", "openai", "--label", "paid", "--weight", "3",
               "--rpm", "500", "--tpm", "90000", "--cooldown", "12",
               "--metadata", '{"organization": "org-123"}', input=secret + "\n")
    assert re.search(r"added provider key id \d+", r.stdout)
    row = db.sql("SELECT label, weight, rpm, tpm, cooldown_seconds, metadata->>'organization', secret_key_version,"
                 " octet_length(secret_nonce), octet_length(secret_ciphertext) FROM provider_keys")
    assert row == f"paid|3|500|90000|12|org-123|1|12|{len(secret) + 16}"
    # the plaintext is nowhere in the database (not even hex-encoded) and not in any output
    dump = pg_dump(db.db_url)
    assert secret not in dump and secret.encode().hex() not in dump
    listing = db.run("provider-key", "list")
    assert "paid" in listing.stdout and "org-123" in listing.stdout
    assert secret not in listing.stdout + listing.stderr
    assert secret[:12] not in listing.stdout
    assert secret not in db.transcript.text()


def test_provider_key_secret_handling_errors(db: Sync):
    setup_provider(db)
    r = db.run("provider-key", "add", "--provider", "openai", "--label", "x", input="", expect=2)
    assert "empty" in r.stderr
    r = db.run("provider-key", "add", "--provider", "openai", "--label", "x", input="a\nb\n", expect=2)
    assert "control characters" in r.stderr
    # no master secret configured -> configuration error, nothing stored
    r = db.run("provider-key", "add", "--provider", "openai", "--label", "x", input="sk-abc",
               env=db.env(PROVIDER_KEY_SECRET=None), expect=2)
    assert "PROVIDER_KEY_SECRET" in r.stderr
    r = db.run("provider-key", "add", "--provider", "openai", "--label", "x", input="sk-abc",
               env=db.env(PROVIDER_KEY_SECRET="tooshort"), expect=2)
    assert "too short" in r.stderr and "tooshort" not in r.stderr
    db.run("provider-key", "add", "--provider", "nosuch", "--label", "x", input="sk-abc", expect=1)
    db.run("provider-key", "add", "--provider", "openai", "--label", "x", "--metadata", "[1]",
           input="sk-abc", expect=2)
    assert db.sql("SELECT count(*) FROM provider_keys") == "0"
    db.run("provider-key", "add", "--provider", "openai", "--label", "x", input="sk-abc")
    r = db.run("provider-key", "add", "--provider", "openai", "--label", "x", input="sk-def", expect=1)
    assert "already has a key labelled" in r.stderr


def test_secret_file_and_passphrase(db: Sync, tmp_path):
    """PROVIDER_KEY_SECRET_FILE works, and a passphrase (HKDF) is a different key from raw hex."""
    setup_provider(db)
    f = tmp_path / "master"
    f.write_text(db.master_secret + "\n")
    env_file = db.env(PROVIDER_KEY_SECRET=None, PROVIDER_KEY_SECRET_FILE=str(f))
    db.run("provider-key", "add", "--provider", "openai", "--label", "a", input="sk-one", env=env_file)
    assert "valid" in db.run("check").stdout  # same key via the env var
    passphrase = "this is a long passphrase, not hex, 42 chars"
    bad = db.run("check", env=db.env(PROVIDER_KEY_SECRET=passphrase), expect=1)
    assert "provider_keys id" in bad.stderr and "does not decrypt" in bad.stderr


def test_rotate_disable_enable(db: Sync):
    setup_provider(db)
    s1, s2 = new_provider_secret("one"), new_provider_secret("two")
    db.run("provider-key", "add", "--provider", "openai", "--label", "main", input=s1)
    kid = db.sql("SELECT id FROM provider_keys")
    before = db.sql("SELECT encode(secret_ciphertext, 'hex') || encode(secret_nonce, 'hex') FROM provider_keys")
    db.run("provider-key", "rotate", "--provider", "openai", "--label", "main", input=s2)
    after = db.sql("SELECT encode(secret_ciphertext, 'hex') || encode(secret_nonce, 'hex') FROM provider_keys")
    assert before != after
    db.run("provider-key", "disable", "--id", kid)
    assert db.sql("SELECT enabled FROM provider_keys") == "f"
    db.run("provider-key", "enable", "--provider", "openai", "--label", "main")
    assert db.sql("SELECT enabled FROM provider_keys") == "t"
    db.run("provider-key", "disable", "--id", "999", expect=1)
    db.run("provider-key", "disable", expect=2)
    assert s1 not in db.transcript.text() and s2 not in db.transcript.text()
    assert s1 not in pg_dump(db.db_url) and s2 not in pg_dump(db.db_url)


def test_virtual_key_create_prints_once_and_stores_hash(db: Sync):
    r = db.run("virtual-key", "create", "--team", "default", "--name", "ci")
    key = r.stdout.strip()
    assert re.fullmatch(r"sk-proxy-[A-Za-z0-9]{32,}", key), r.stdout
    assert key not in r.stderr
    stored = db.sql("SELECT key_hash FROM virtual_keys")
    assert stored == hashlib.sha256(key.encode()).hexdigest()
    assert key not in pg_dump(db.db_url)
    listing = db.run("virtual-key", "list")
    assert key not in listing.stdout and stored not in listing.stdout
    # a second key is different; unknown team fails
    assert db.run("virtual-key", "create", "--team", "default").stdout.strip() != key
    db.run("virtual-key", "create", "--team", "nosuch", expect=1)
    db.run("team", "add", "--name", "research")
    r = db.run("virtual-key", "create", "--team", "research", "--expires-in", "30 days")
    assert "expires" in r.stderr
    assert db.sql("SELECT count(*) FROM virtual_keys WHERE expires_at > now() + interval '29 days'") == "1"


def test_virtual_key_revoke(db: Sync):
    key = db.run("virtual-key", "create").stdout.strip()
    vid = db.sql("SELECT id FROM virtual_keys")
    db.run("virtual-key", "revoke", "--key-stdin", input=key + "\n")
    assert db.sql("SELECT enabled, revoked_at IS NOT NULL FROM virtual_keys") == "f|t"
    db.run("virtual-key", "revoke", "--id", vid)  # idempotent
    db.run("virtual-key", "revoke", "--id", "424242", expect=1)
    out = db.run("check", "--print").stdout
    snap = json.loads(out.splitlines()[1])
    assert snap["virtual_keys"][0]["enabled"] is False


def test_alias_set_rm_list(db: Sync):
    db.run("alias", "set", "--alias", "smart", "--target", "openai/gpt-4o")
    db.run("alias", "set", "--alias", "smart", "--target", "gpt-4o-mini")  # upsert (global)
    db.run("team", "add", "--name", "research")
    db.run("alias", "set", "--alias", "smart", "--target", "openai/gpt-4o", "--team", "research")
    assert db.sql("SELECT count(*) FROM model_aliases") == "2"
    assert db.sql("SELECT target FROM model_aliases WHERE team_id IS NULL") == "gpt-4o-mini"
    listing = db.run("alias", "list").stdout
    assert "(global)\tsmart\tgpt-4o-mini" in listing and "research\tsmart\topenai/gpt-4o" in listing
    db.run("alias", "rm", "--alias", "smart", "--team", "research")
    db.run("alias", "rm", "--alias", "smart", "--team", "research", expect=1)
    assert db.sql("SELECT count(*) FROM model_aliases") == "1"


def test_check_reports_bad_rows_by_name(db: Sync):
    setup_provider(db, "local", "openai_compat", "http://127.0.0.1:9/v1")
    db.run("model", "add", "--provider", "local", "--model", "m1")
    db.run("provider-key", "add", "--provider", "local", "--label", "main", input="sk-local-1")
    db.run("provider-key", "add", "--provider", "local", "--label", "second", input="sk-local-2")
    r = db.run("check")
    assert "valid" in r.stdout
    pid = db.sql("SELECT id FROM providers")

    # malformed: a base URL with a query string is refused by the schema (sql/008) ...
    err = psql(db.db_url, "UPDATE providers SET base_url = 'http://127.0.0.1:9/v1?x=1'", check=False)
    assert "base_url must not carry a query or fragment" in err
    # ... and what only the module's validator catches is reported by check, row by row
    db.sql("UPDATE provider_keys SET metadata = '{\"auth_header\": \"cookie\"}' WHERE label = 'second'")
    r = db.run("check", expect=1)
    assert "QUARANTINED provider_keys" in r.stderr and "provider_keys[1]" in r.stderr and "auth_header" in r.stderr
    db.sql("UPDATE provider_keys SET metadata = '{}' WHERE label = 'second'")
    assert pid and "valid" in db.run("check").stdout

    # conflicting: an azure provider without base_url needs resource_name on every key (sql/008)
    err = psql(db.db_url, "UPDATE providers SET kind = 'azure', base_url = NULL", check=False)
    assert "resource_name" in err and "label main" in err
    db.sql("UPDATE provider_keys SET metadata = '{\"resource_name\": \"myres\", \"api_version\": \"v1\"}'")
    db.sql("UPDATE providers SET kind = 'azure', base_url = NULL")
    assert "valid" in db.run("check").stdout
    db.sql("UPDATE providers SET kind = 'openai_compat', base_url = 'http://127.0.0.1:9/v1'")

    # a ciphertext copied to another row does not decrypt (row id is the associated data)
    db.sql("UPDATE provider_keys SET secret_ciphertext = (SELECT secret_ciphertext FROM provider_keys WHERE label = 'main'),"
           " secret_nonce = (SELECT secret_nonce FROM provider_keys WHERE label = 'main') WHERE label = 'second'")
    r = db.run("check", expect=1)
    assert "label second): secret does not decrypt" in r.stderr
    # disabling the broken key unblocks the config (disabled keys are not shipped)
    db.run("provider-key", "disable", "--provider", "local", "--label", "second")
    assert "valid" in db.run("check").stdout

    # conflicting: a bedrock provider whose keys carry no region (SigV4 needs one): refused (sql/008)
    err = psql(db.db_url, "UPDATE providers SET kind = 'bedrock'", check=False)
    assert "bedrock needs metadata.region" in err


def test_check_print_never_shows_secrets(db: Sync):
    setup_provider(db)
    secret = new_provider_secret("p")
    db.run("provider-key", "add", "--provider", "openai", "--label", "a", input=secret)
    r = db.run("check", "--print")
    snap = json.loads(r.stdout.splitlines()[1])
    assert snap["provider_keys"][0]["secret"] == "[redacted]"
    assert snap["generation"] == db.generation()
    assert secret not in r.stdout + r.stderr


def test_usage_errors_exit_2(db: Sync):
    assert db.run("frobnicate", expect=2).returncode == 2
    db.run("provider-key", expect=2)
    db.run("provider-key", "add", "--label", "x", input="s", expect=2)
    db.run("alias", "set", "--alias", "x", "--bogus", "y", expect=2)
    db.run("serve", env=db.env(ROUTESHIFT_NGINX_ADMIN=None), expect=2)  # no target
    db.run("serve", "--nginx", "http://10.1.2.3:8081/admin", expect=2)  # not loopback
    r = db.run("serve", "--nginx", "http://127.0.0.1:1/admin", env=db.env(PROVIDER_KEY_SECRET=None), expect=2)
    assert "PROVIDER_KEY_SECRET" in r.stderr
    assert db.run("--help").stdout.startswith("usage: routeshift-sync")
    assert db.run("version").stdout.startswith("routeshift-sync ")


def test_cli_does_not_need_a_master_secret_for_non_secret_commands(db: Sync):
    env = db.env(PROVIDER_KEY_SECRET=None)
    db.run("alias", "set", "--alias", "a", "--target", "b", env=env)
    db.run("virtual-key", "create", env=env)
    r = db.run("check", env=env)
    assert "secrets not checked" in r.stderr


def test_master_secret_rotation_version_recorded(db: Sync):
    setup_provider(db)
    db.run("provider-key", "add", "--provider", "openai", "--label", "a", input="sk-1",
           env=db.env(PROVIDER_KEY_SECRET_VERSION="2"))
    assert db.sql("SELECT secret_key_version FROM provider_keys") == "2"
    r = db.run("check", expect=1)  # the service holds version 1 only
    assert "version 2" in r.stderr
    assert "valid" in db.run("check", env=db.env(PROVIDER_KEY_SECRET_VERSION="2")).stdout
    other = new_master_secret()
    r = db.run("check", env=db.env(PROVIDER_KEY_SECRET=other, PROVIDER_KEY_SECRET_VERSION="2"), expect=1)
    assert "does not decrypt" in r.stderr
