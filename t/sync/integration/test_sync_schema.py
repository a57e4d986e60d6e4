"""Schema and migrations: idempotent, transactional, recorded; every table/column documented;
change triggers on every config table (NOTIFY on commit only, one generation bump per transaction)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from sync_helpers import PSQL, REPO, Sync, new_master_secret

SQL_DIR = Path(__file__).resolve().parents[3] / "sql"  # every migration file is embedded and applied

CONFIG_TABLES = ["settings", "providers", "provider_keys", "models", "teams", "virtual_keys",
                 "model_aliases", "routing_rules", "model_prices"]


def test_migrate_is_idempotent_and_recorded(db: Sync):
    rows = db.sql("SELECT version || ' ' || name FROM schema_migrations ORDER BY version").splitlines()
    assert rows[:2] == ["001 config_tables", "002 request_logs"]
    gen = db.generation()
    r = db.run("migrate")
    assert "0 applied" in r.stderr
    assert db.sql("SELECT count(*) FROM schema_migrations") == str(len(rows))
    assert db.generation() == gen
    st = db.run("migrate", "--status")
    assert "001 config_tables applied" in st.stdout and "pending" not in st.stdout


def test_pending_schema_is_reported(pg_cluster, transcript):
    s = Sync(pg_cluster.new_database(), new_master_secret(), transcript)
    r = s.run("migrate", "--status", expect=1)
    assert "pending" in r.stdout
    r = s.run("check", expect=1)
    assert "run `routeshift-sync migrate`" in r.stderr


def test_failed_migration_leaves_nothing_behind(pg_cluster, transcript):
    """A migration runs in one transaction: if it fails, none of its objects remain and it is not
    recorded; fixing the cause and re-running succeeds."""
    s = Sync(pg_cluster.new_database(), new_master_secret(), transcript)
    s.sql("CREATE TABLE model_prices (x int)")  # collides with 001
    r = s.run("migrate", expect=1)
    assert "001_config_tables.sql failed (rolled back)" in r.stderr
    assert s.sql("SELECT to_regclass('providers') IS NULL") == "t"
    assert s.sql("SELECT count(*) FROM schema_migrations") == "0"
    s.sql("DROP TABLE model_prices")
    s.run("migrate")
    migrations = len(list((REPO / "sql").glob("[0-9]*_*.sql")))  # every one, now applied
    assert s.sql("SELECT count(*) FROM schema_migrations") == str(migrations)


def test_every_table_and_column_is_documented(db: Sync):
    missing_cols = db.sql("""
        SELECT c.relname || '.' || a.attname FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL""")
    assert missing_cols == ""
    missing_tables = db.sql("""
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND obj_description(c.oid, 'pg_class') IS NULL""")
    assert missing_tables == ""


def test_triggers_on_every_config_table_only(db: Sync):
    rows = db.sql("""
        SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND t.tgname LIKE '%\\_notify\\_config' ORDER BY 1""").splitlines()
    assert sorted(rows) == sorted(CONFIG_TABLES)
    # statement-level, AFTER INSERT/UPDATE/DELETE/TRUNCATE
    assert db.sql("""SELECT DISTINCT tgtype FROM pg_trigger WHERE tgname LIKE '%\\_notify\\_config'""") == "60"


def test_generation_bumps_once_per_transaction(db: Sync):
    g0 = db.generation()
    db.sql("INSERT INTO providers (name, kind) VALUES ('a', 'openai')")
    assert db.generation() == g0 + 1
    db.sql("BEGIN; INSERT INTO teams (name) VALUES ('x'); INSERT INTO teams (name) VALUES ('y');"
           " UPDATE providers SET enabled = false; COMMIT;")
    assert db.generation() == g0 + 2
    db.sql("BEGIN; INSERT INTO teams (name) VALUES ('z'); ROLLBACK;")
    assert db.generation() == g0 + 2
    db.sql("INSERT INTO request_logs (request_id, status) VALUES ('r1', 200)")  # not a config table
    assert db.generation() == g0 + 2
    db.sql("TRUNCATE routing_rules")
    assert db.generation() == g0 + 3


def test_notify_delivered_on_commit_only(db: Sync):
    """A LISTENing session sees routeshift_config notifications for committed changes only."""
    listener = subprocess.Popen([PSQL, db.db_url, "-X", "-q"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        listener.stdin.write("LISTEN routeshift_config;\nSELECT 'listening';\n")
        listener.stdin.flush()
        time.sleep(0.3)
        db.sql("BEGIN; INSERT INTO teams (name) VALUES ('rolled-back'); ROLLBACK;")
        db.sql("INSERT INTO model_aliases (alias, target) VALUES ('smart', 'gpt-4o')")
        db.sql("UPDATE settings SET default_cooldown_seconds = 5")
        time.sleep(0.3)
        out, _ = listener.communicate("SELECT 'done';\n\\q\n", timeout=20)
    finally:
        if listener.poll() is None:
            listener.kill()
    notes = [ln for ln in out.splitlines() if "Asynchronous notification" in ln]
    assert any('"routeshift_config" with payload "model_aliases"' in n for n in notes), out
    assert any('"routeshift_config" with payload "settings"' in n for n in notes), out
    assert not any("teams" in n for n in notes), out


def test_constraints(db: Sync):
    def fails(sql: str) -> bool:
        r = subprocess.run([PSQL, db.db_url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True)
        return r.returncode != 0

    db.sql("INSERT INTO providers (id, name, kind) VALUES (1, 'openai', 'openai')")
    assert fails("INSERT INTO providers (name, kind) VALUES ('x', 'nosuchkind')")
    assert fails("INSERT INTO providers (name, kind) VALUES ('a/b', 'openai')")
    assert fails("INSERT INTO providers (name, kind, base_url) VALUES ('y', 'openai', 'ftp://x')")
    for kind in ("anthropic", "gemini", "bedrock", "minimax", "moonshot", "openai_compat", "azure"):
        db.sql(f"INSERT INTO providers (name, kind, base_url) VALUES ('p-{kind}', '{kind}', 'https://e.example')")
    # a secret-less provider key cannot be inserted by plain SQL
    assert fails("INSERT INTO provider_keys (provider_id, label) VALUES (1, 'x')")
    assert fails("INSERT INTO provider_keys (provider_id, label, secret_ciphertext, secret_nonce, weight)"
                 " VALUES (1, 'x', '\\x00112233445566778899aabbccddeeff00', '\\x000000000000000000000000', 1001)")
    assert fails("INSERT INTO models (provider_id, model, upstream_model) VALUES (1, '*', 'x')")
    db.sql("INSERT INTO model_aliases (alias, target) VALUES ('smart', 'gpt-4o')")
    assert fails("INSERT INTO model_aliases (alias, target) VALUES ('smart', 'other')")  # global dup
    db.sql("INSERT INTO model_aliases (team_id, alias, target) VALUES (1, 'smart', 'other')")  # team: ok
    assert fails("INSERT INTO virtual_keys (team_id, key_hash) VALUES (1, 'ABC')")
    assert fails("INSERT INTO settings DEFAULT VALUES")  # single row


def test_request_logs_idempotent_insert(db: Sync):
    ins = ("INSERT INTO request_logs (ts, request_id, status, attempts, attempt_statuses, metadata, tags)"
           " VALUES ('2025-01-01T00:00:00Z', 'req-1', 200, 2, '{429,200}', '{\"a\":1}', '{x}')"
           " ON CONFLICT (request_id, ts) DO NOTHING")
    db.sql(ins)
    db.sql(ins)
    assert db.sql("SELECT count(*) FROM request_logs") == "1"
    assert db.sql("SELECT relkind FROM pg_class WHERE relname = 'request_logs'") == "p"  # partitioned
    assert "request_logs_ts_idx" in db.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'request_logs'")
