// The last good snapshot file (sealed with the master key, 0600, atomic) and the master-key check
// that turns a wrong PROVIDER_KEY_SECRET into a clear refusal (issue 12).
#include "cmocka_cpp.hpp"
#include "last_good_snapshot.hpp"
#include "master_key_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace rsync;

static const char* kHexKey = "4242424242424242424242424242424242424242424242424242424242424242";

static std::string temp_dir() {
    char dir[] = "/tmp/rs-last-good-XXXXXX";
    assert_non_null(mkdtemp(dir));
    return dir;
}

static std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

static void test_round_trip_sealed_and_private(void**) {
    SecretBox box;
    std::string err;
    assert_true(box.add_key(1, kHexKey, true, &err));
    Snapshot snap;
    snap.generation = 42;
    snap.json = R"({"version":1,"generation":42,"provider_keys":[{"id":1,"secret":"sk-PLAINTEXT-secret-xyz"}]})";
    std::string dir = temp_dir();
    std::string path = dir + "/last-good-snapshot";
    ::umask(0);  // the file is private whatever the umask says
    assert_true(save_last_good_snapshot(path, snap, box, &err));
    ::umask(022);
    struct stat st {};
    assert_int_equal(::stat(path.c_str(), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    std::string content = read_file(path);
    assert_false(contains(content, "sk-PLAINTEXT"));  // never plaintext on disk
    assert_false(contains(content, "generation"));

    Snapshot loaded;
    assert_int_equal(static_cast<int>(load_last_good_snapshot(path, box, &loaded, &err)),
                     static_cast<int>(LastGoodLoad::loaded));
    assert_int_equal(loaded.generation, 42);
    assert_string_equal(loaded.json.c_str(), snap.json.c_str());
    assert_string_equal(loaded.redact("got sk-PLAINTEXT-secret-xyz").c_str(), "got [redacted]");

    // saving again replaces it atomically (no temporary left behind)
    snap.generation = 43;
    assert_true(save_last_good_snapshot(path, snap, box, &err));
    assert_int_equal(::access((path + ".tmp." + std::to_string(::getpid())).c_str(), F_OK), -1);

    SecretBox other;
    assert_true(other.add_key(1, "another master secret of at least 32 chars", true, &err));
    assert_int_equal(static_cast<int>(load_last_good_snapshot(path, other, &loaded, &err)),
                     static_cast<int>(LastGoodLoad::not_authentic));
    assert_false(contains(err, "PLAINTEXT"));

    // a flipped byte in the ciphertext does not authenticate
    std::string tampered = content;
    tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == '0' ? '1' : '0';
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << tampered; }
    assert_int_equal(static_cast<int>(load_last_good_snapshot(path, box, &loaded, &err)),
                     static_cast<int>(LastGoodLoad::not_authentic));
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << "{\"generation\":1}\n"; }
    assert_int_equal(static_cast<int>(load_last_good_snapshot(path, box, &loaded, &err)),
                     static_cast<int>(LastGoodLoad::unreadable));
    ::unlink(path.c_str());
    assert_int_equal(static_cast<int>(load_last_good_snapshot(path, box, &loaded, &err)),
                     static_cast<int>(LastGoodLoad::absent));
    // a symlink planted at the path is not followed
    assert_int_equal(::symlink("/etc/passwd", path.c_str()), 0);
    assert_int_equal(static_cast<int>(load_last_good_snapshot(path, box, &loaded, &err)),
                     static_cast<int>(LastGoodLoad::unreadable));
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}

static StoredSecret stored(const SecretBox& box, int64_t id, const char* plain) {
    StoredSecret s;
    s.id = id;
    std::string err;
    assert_true(box.seal(plain, provider_key_aad(id), &s.sealed, &err));
    return s;
}

static void test_master_key_verdicts(void**) {
    SecretBox right, wrong, version_two;
    std::string err;
    assert_true(right.add_key(1, kHexKey, true, &err));
    assert_true(wrong.add_key(1, "a completely different master secret string", true, &err));
    assert_true(version_two.add_key(2, kHexKey, true, &err));
    std::vector<StoredSecret> rows = {stored(right, 1, "sk-a"), stored(right, 2, "sk-b")};
    assert_int_equal(check_master_key(rows, right).kind, MasterKeyVerdict::matches);
    MasterKeyVerdict v = check_master_key(rows, wrong);
    assert_int_equal(v.kind, MasterKeyVerdict::mismatch);
    assert_int_equal(v.checked, 2);
    assert_true(contains(v.message, "PROVIDER_KEY_SECRET"));
    // secrets sealed under versions the box does not hold say nothing (rotation in progress)
    assert_int_equal(check_master_key(rows, version_two).kind, MasterKeyVerdict::nothing_to_check);
    assert_int_equal(check_master_key({}, right).kind, MasterKeyVerdict::nothing_to_check);
    // one damaged row among good ones is a bad row (quarantined), not a wrong key
    rows[0].sealed.ciphertext[0] ^= 1;
    assert_int_equal(check_master_key(rows, right).kind, MasterKeyVerdict::matches);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_sealed_and_private),
        cmocka_unit_test(test_master_key_verdicts),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
