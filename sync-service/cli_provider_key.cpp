// provider-key add | rotate | disable | enable | list
//
// Secrets are read from standard input, encrypted here (AES-256-GCM, AAD "provider_keys:<id>")
// and only ciphertext + nonce reach Postgres. Nothing ever prints a secret.
#include "cli.hpp"

#include "log.hpp"
#include "master_key_check.hpp"

#include <jansson.h>

#include <cstdio>

namespace rsync {
namespace {

void check_metadata(const std::string& text) {
    json_error_t err;
    json_t* v = json_loadb(text.data(), text.size(), 0, &err);
    bool ok = v && json_is_object(v);
    json_decref(v);
    if (!ok) throw UsageError("--metadata must be a JSON object, e.g. '{\"resource_name\":\"myres\",\"api_version\":\"v1\"}'");
}

// A secret sealed under the wrong master key could be read by nobody else: refuse to store it.
void refuse_wrong_master_key(PgConnection& db, const SecretBox& box, int64_t except_id) {
    MasterKeyVerdict v = check_master_key(db, box, except_id);
    if (v.kind == MasterKeyVerdict::mismatch) throw CommandError(v.message + "; nothing was stored");
}

SealedSecret seal_for(const SecretBox& box, int64_t id, std::string& plaintext) {
    SealedSecret sealed;
    std::string err;
    bool ok = box.seal(plaintext, provider_key_aad(id), &sealed, &err);
    if (ok) {  // prove it round-trips before it is stored
        std::string back;
        ok = box.open(sealed, provider_key_aad(id), &back, &err) && back == plaintext;
        wipe(back);
    }
    wipe(plaintext);
    if (!ok) throw CommandError("encryption failed: " + err);
    return sealed;
}

int add(Context& ctx) {
    ctx.args.allow_only({"--provider", "--label", "--weight", "--rpm", "--tpm", "--cooldown", "--metadata", "--disabled"});
    std::string provider = ctx.args.require("--provider");
    std::string label = ctx.args.require("--label");
    std::string metadata = ctx.args.get("--metadata").value_or("{}");
    check_metadata(metadata);
    auto weight = opt_num(ctx, "--weight", 0, 1000);
    auto rpm = opt_num(ctx, "--rpm", 1, INT32_MAX);
    auto tpm = opt_num(ctx, "--tpm", 1, INT64_MAX);
    auto cooldown = opt_num(ctx, "--cooldown", 0, 86400);
    SecretBox box = load_secret_box(ctx);
    auto db = open_db(ctx);
    require_schema(*db);
    int64_t pid = resolve_provider(*db, provider);
    refuse_wrong_master_key(*db, box, 0);
    std::string secret = read_secret_from_stdin("provider secret");

    db->exec("BEGIN");
    try {
        PgResult dup = db->exec_params("SELECT 1 FROM provider_keys WHERE provider_id = $1 AND label = $2",
                                       {std::to_string(pid), label});
        if (dup.rows()) {
            wipe(secret);
            throw CommandError("provider " + provider + " already has a key labelled '" + label +
                               "' (use `provider-key rotate` to replace its secret)");
        }
        int64_t id = db->exec("SELECT nextval(pg_get_serial_sequence('provider_keys', 'id'))").i64(0, 0);
        SealedSecret sealed = seal_for(box, id, secret);
        db->exec_params(
            "INSERT INTO provider_keys (id, provider_id, label, secret_ciphertext, secret_nonce, secret_key_version,"
            " metadata, weight, rpm, tpm, cooldown_seconds, enabled)"
            " VALUES ($1, $2, $3, decode($4, 'hex'), decode($5, 'hex'), $6, $7::jsonb, coalesce($8::int, 1), $9, $10,"
            " $11, $12)",
            {std::to_string(id), std::to_string(pid), label, hex_encode(sealed.ciphertext), hex_encode(sealed.nonce),
             std::to_string(sealed.key_version), metadata, weight, rpm, tpm, cooldown,
             std::string(ctx.args.has("--disabled") ? "false" : "true")});
        db->exec("COMMIT");
        std::printf("added provider key id %lld (provider %s, label %s)\n", static_cast<long long>(id),
                    provider.c_str(), label.c_str());
    } catch (...) {
        if (db->ok()) db->exec("ROLLBACK");
        throw;
    }
    return 0;
}

int rotate(Context& ctx) {
    ctx.args.allow_only({"--id", "--provider", "--label"});
    SecretBox box = load_secret_box(ctx);
    auto db = open_db(ctx);
    require_schema(*db);
    int64_t id = find_provider_key(*db, ctx);
    refuse_wrong_master_key(*db, box, id);
    std::string secret = read_secret_from_stdin("new provider secret");
    SealedSecret sealed = seal_for(box, id, secret);
    db->exec_params("UPDATE provider_keys SET secret_ciphertext = decode($2, 'hex'), secret_nonce = decode($3, 'hex'),"
                    " secret_key_version = $4, secret_rotated_at = now() WHERE id = $1",
                    {std::to_string(id), hex_encode(sealed.ciphertext), hex_encode(sealed.nonce),
                     std::to_string(sealed.key_version)});
    std::printf("rotated the secret of provider key id %lld\n", static_cast<long long>(id));
    return 0;
}

int set_enabled(Context& ctx, bool enabled) {
    ctx.args.allow_only({"--id", "--provider", "--label"});
    auto db = open_db(ctx);
    require_schema(*db);
    int64_t id = find_provider_key(*db, ctx);
    db->exec_params("UPDATE provider_keys SET enabled = $2 WHERE id = $1",
                    {std::to_string(id), std::string(enabled ? "true" : "false")});
    std::printf("%s provider key id %lld\n", enabled ? "enabled" : "disabled", static_cast<long long>(id));
    return 0;
}

int list(Context& ctx) {
    ctx.args.allow_only({"--provider"});
    auto db = open_db(ctx);
    require_schema(*db);
    std::optional<std::string> pid = provider_filter(*db, ctx);
    // Never selects secret_ciphertext / secret_nonce.
    PgResult r = db->exec_params(
        "SELECT k.id, p.name, k.label, k.enabled, k.weight, k.rpm, k.tpm, k.cooldown_seconds, k.metadata::text,"
        " k.secret_key_version, to_char(k.secret_rotated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        " FROM provider_keys k JOIN providers p ON p.id = k.provider_id"
        " WHERE $1::bigint IS NULL OR k.provider_id = $1::bigint ORDER BY p.name, k.label",
        {pid});
    print_table(r, {"id", "provider", "label", "enabled", "weight", "rpm", "tpm", "cooldown_s", "metadata",
                    "key_version", "secret_set_at"});
    return 0;
}

}  // namespace

int cmd_provider_key(Context& ctx) {
    std::string sub = subcommand(ctx, "provider-key", "add, rotate, disable, enable, list");
    if (sub == "add") return add(ctx);
    if (sub == "rotate") return rotate(ctx);
    if (sub == "disable") return set_enabled(ctx, false);
    if (sub == "enable") return set_enabled(ctx, true);
    if (sub == "list") return list(ctx);
    throw UsageError("provider-key: unknown subcommand '" + sub + "' (add, rotate, disable, enable, list)");
}

}  // namespace rsync
