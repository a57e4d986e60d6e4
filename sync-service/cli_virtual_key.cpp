// virtual-key create | revoke | list
//
// create prints the new sk-proxy-... key ONCE on stdout (details go to stderr, so
// `KEY=$(routeshift-sync virtual-key create --team default)` works); only its SHA-256 is stored.
#include "cli.hpp"

#include "key_hash.hpp"

#include <cstdio>

namespace rsync {
namespace {

int create(Context& ctx) {
    ctx.args.allow_only({"--team", "--name", "--expires-at", "--expires-in"});
    std::string team = ctx.args.get("--team").value_or("default");
    std::string name = ctx.args.get("--name").value_or("");
    auto expires_at = ctx.args.get("--expires-at");
    auto expires_in = ctx.args.get("--expires-in");
    if (expires_at && expires_in) throw UsageError("give --expires-at or --expires-in, not both");
    auto db = open_db(ctx);
    require_schema(*db);
    int64_t team_id = resolve_team(*db, team);
    std::string key = generate_virtual_key();
    if (key.empty()) throw CommandError("the OpenSSL random generator failed");
    std::string hash = virtual_key_hash_hex(key);
    PgResult r = db->exec_params(
        "INSERT INTO virtual_keys (team_id, name, key_hash, expires_at)"
        " VALUES ($1, $2, $3, coalesce($4::timestamptz, now() + $5::interval)) RETURNING id,"
        " to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        {std::to_string(team_id), name, hash, expires_at, expires_in});
    std::fprintf(stderr, "created virtual key id %s for team %s%s%s; it is shown only this once:\n",
                 r.str(0, 0).c_str(), team.c_str(), r.is_null(0, 1) ? "" : ", expires ",
                 r.is_null(0, 1) ? "" : r.str(0, 1).c_str());
    std::printf("%s\n", key.c_str());
    std::fflush(stdout);
    wipe(key);
    return 0;
}

int revoke(Context& ctx) {
    ctx.args.allow_only({"--id", "--key-stdin"});
    auto db = open_db(ctx);
    require_schema(*db);
    PgResult r;
    if (auto id = ctx.args.get_int("--id", 1, INT64_MAX)) {
        r = db->exec_params("UPDATE virtual_keys SET enabled = false, revoked_at = coalesce(revoked_at, now())"
                            " WHERE id = $1 RETURNING id",
                            {std::to_string(*id)});
    } else if (ctx.args.has("--key-stdin")) {
        std::string key = read_secret_from_stdin("virtual key");
        std::string hash = virtual_key_hash_hex(key);
        wipe(key);
        r = db->exec_params("UPDATE virtual_keys SET enabled = false, revoked_at = coalesce(revoked_at, now())"
                            " WHERE key_hash = $1 RETURNING id",
                            {hash});
    } else {
        throw UsageError("virtual-key revoke: give --id N, or --key-stdin and the key on standard input");
    }
    if (r.rows() != 1) throw CommandError("no such virtual key");
    std::printf("revoked virtual key id %s\n", r.str(0, 0).c_str());
    return 0;
}

int list(Context& ctx) {
    ctx.args.allow_only({"--team"});
    auto db = open_db(ctx);
    require_schema(*db);
    std::optional<std::string> tid;
    if (auto t = ctx.args.get("--team")) tid = std::to_string(resolve_team(*db, *t));
    PgResult r = db->exec_params(
        "SELECT v.id, t.name, v.name, v.enabled AND v.revoked_at IS NULL,"
        " to_char(v.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " to_char(v.revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        " FROM virtual_keys v JOIN teams t ON t.id = v.team_id"
        " WHERE $1::bigint IS NULL OR v.team_id = $1::bigint ORDER BY v.id",
        {tid});
    print_table(r, {"id", "team", "name", "active", "expires_at", "revoked_at", "created_at"});
    return 0;
}

}  // namespace

int cmd_virtual_key(Context& ctx) {
    std::string sub = subcommand(ctx, "virtual-key", "create, revoke, list");
    if (sub == "create") return create(ctx);
    if (sub == "revoke") return revoke(ctx);
    if (sub == "list") return list(ctx);
    throw UsageError("virtual-key: unknown subcommand '" + sub + "' (create, revoke, list)");
}

}  // namespace rsync
