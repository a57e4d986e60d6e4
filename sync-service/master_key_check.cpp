#include "master_key_check.hpp"

namespace rsync {

MasterKeyVerdict check_master_key(const std::vector<StoredSecret>& stored, const SecretBox& box) {
    MasterKeyVerdict v;
    for (const auto& s : stored) {
        if (!box.holds_version(s.sealed.key_version)) continue;
        ++v.checked;
        std::string plain, err;
        if (box.open(s.sealed, provider_key_aad(s.id), &plain, &err)) {
            wipe(plain);
            v.kind = MasterKeyVerdict::matches;
            return v;
        }
    }
    if (v.checked == 0) return v;
    v.kind = MasterKeyVerdict::mismatch;
    v.message = "the master key (PROVIDER_KEY_SECRET) opens none of the " + std::to_string(v.checked) +
                " stored provider secrets sealed under its version: it is not the key that sealed them "
                "(check PROVIDER_KEY_SECRET / PROVIDER_KEY_SECRET_FILE and PROVIDER_KEY_SECRET_VERSION)";
    return v;
}

MasterKeyVerdict check_master_key(PgConnection& db, const SecretBox& box, int64_t except_id, size_t limit) {
    PgResult r = db.exec_params(
        "SELECT id, encode(secret_ciphertext, 'hex'), encode(secret_nonce, 'hex'), secret_key_version"
        " FROM provider_keys WHERE id <> $2 ORDER BY id DESC LIMIT $1",
        {std::to_string(limit), std::to_string(except_id)});
    std::vector<StoredSecret> stored;
    for (int i = 0; i < r.rows(); ++i) {
        StoredSecret s;
        s.id = r.i64(i, 0);
        s.sealed.key_version = static_cast<int>(r.i64(i, 3));
        if (!hex_decode(r.text(i, 1), &s.sealed.ciphertext) || !hex_decode(r.text(i, 2), &s.sealed.nonce)) continue;
        stored.push_back(std::move(s));
    }
    return check_master_key(stored, box);
}

}  // namespace rsync
