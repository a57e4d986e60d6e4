// provider_object_id: the client ids of files, batches and stored responses carry their key
// (docs/design.md §21); forged, foreign or malformed ids never decode.
#include "ingress/provider_object_id.hpp"

#include "test_util.hpp"

using namespace routeshift;

static void test_round_trip_every_kind(void**) {
    for (ProviderObjectKind kind : {ProviderObjectKind::file, ProviderObjectKind::batch, ProviderObjectKind::response}) {
        for (std::string provider_id : {"file-abc123", "batch_x", "r", "ab", "abc", "id with spaces/and+slash?=&"}) {
            std::string id = encode_provider_object_id(kind, 42, "sk-secret", 7, provider_id);
            ParsedProviderObjectId parsed;
            assert_true(parse_provider_object_id(id, kind, &parsed));
            assert_int_equal(parsed.key_id, 42);
            assert_str_eq(parsed.provider_id, provider_id);
            assert_true(provider_object_id_authentic(parsed, "sk-secret", 7));
            // the id is URL-path safe: base64url and the prefix only
            for (char c : id) assert_true(isalnum((unsigned char)c) || c == '-' || c == '_');
        }
    }
    std::string file = encode_provider_object_id(ProviderObjectKind::file, 3, "s", 1, "file-1");
    assert_true(file.rfind("file-rs1-3-", 0) == 0);
    assert_true(encode_provider_object_id(ProviderObjectKind::batch, 3, "s", 1, "b").rfind("batch_rs1-3-", 0) == 0);
    assert_true(encode_provider_object_id(ProviderObjectKind::response, 3, "s", 1, "r").rfind("resp_rs1-3-", 0) == 0);
}

static void test_other_team_or_key_is_not_authentic(void**) {
    std::string id = encode_provider_object_id(ProviderObjectKind::file, 42, "sk-secret", 7, "file-abc");
    ParsedProviderObjectId parsed;
    assert_true(parse_provider_object_id(id, ProviderObjectKind::file, &parsed));
    assert_false(provider_object_id_authentic(parsed, "sk-secret", 8));   // another team
    assert_false(provider_object_id_authentic(parsed, "sk-other", 7));    // another key's secret
    // the key id swapped for another key's: the MAC no longer matches
    std::string forged = id;
    forged.replace(std::string("file-rs1-").size(), 2, "43");
    assert_true(parse_provider_object_id(forged, ProviderObjectKind::file, &parsed));
    assert_int_equal(parsed.key_id, 43);
    assert_false(provider_object_id_authentic(parsed, "sk-secret", 7));
    // another provider id under the same MAC
    std::string other = encode_provider_object_id(ProviderObjectKind::file, 42, "sk-secret", 7, "file-abd");
    std::string spliced = id.substr(0, id.size() - 4) + other.substr(other.size() - 4);
    if (spliced != id && parse_provider_object_id(spliced, ProviderObjectKind::file, &parsed))
        assert_false(provider_object_id_authentic(parsed, "sk-secret", 7));
    // a file id is no batch id
    assert_false(parse_provider_object_id(id, ProviderObjectKind::batch, &parsed));
}

static void test_malformed_ids(void**) {
    std::string good = encode_provider_object_id(ProviderObjectKind::file, 42, "k", 1, "file-abc");
    ParsedProviderObjectId parsed;
    const char* bad[] = {
        "", "file-abc", "file-rs1-", "file-rs1--AAAA", "file-rs1-x-AAAAAAAAAAAAAAAAAAAAAAAAAA",
        "file-rs1-042-AAAAAAAAAAAAAAAAAAAAAAZmlsZQ",            // leading zero
        "file-rs1-1234567890123456789-AAAAAAAAAAAAAAAAAAAAAAZmlsZQ",  // 19 digits
        "file-rs1-1-AAAAAAAAAAAAAAAAAAAAAA",                    // no provider id
        "file-rs1-1-AAAAAAAAAAAAAAAAAAAAAAZ",                   // 1 base64 char: no byte
        "file-rs1-1-AAAAAAAAAAAAAAAAAAAAAAZmlsZR",              // stray bits
        "file-rs1-1-AAAAAAAAAAAAAAAAAAAAAAZm=sZQ",              // not base64url
        "file-rs1-1-AAAAAAAAAAAAAAAAAAAAAAAA",                  // decodes to a NUL byte
        "FILE-rs1-1-AAAAAAAAAAAAAAAAAAAAAAZmlsZQ",
    };
    for (const char* id : bad) {
        if (parse_provider_object_id(id, ProviderObjectKind::file, &parsed)) fail_msg("parsed: %s", id);
    }
    // every truncation of a good id is refused or at least not authentic
    for (size_t n = 0; n < good.size(); n++) {
        if (parse_provider_object_id(good.substr(0, n), ProviderObjectKind::file, &parsed))
            assert_false(provider_object_id_authentic(parsed, "k", 1));
    }
    // a provider id over the limit is never accepted back
    std::string huge(kMaxProviderObjectIdBytes + 1, 'a');
    assert_false(parse_provider_object_id(encode_provider_object_id(ProviderObjectKind::file, 1, "k", 1, huge),
                                          ProviderObjectKind::file, &parsed));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_other_team_or_key_is_not_authentic),
        cmocka_unit_test(test_malformed_ids),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
