// AWS event-stream decoder: the official aws-sdk-go framing vectors (positive ones must decode to
// their decoded/ JSON form, negative ones must be rejected for the stated reason), the hex vector
// of docs/wire-formats.md (Bedrock Converse → Event-stream framing), the recorded Bedrock
// ConverseStream bodies, every-byte splits, limits and hand-made corrupt frames.
#include "egress/bedrock/aws_eventstream.hpp"
#include "util/json_util.hpp"

#include <algorithm>
#include <filesystem>
#include <random>

#include "bedrock_test_util.hpp"
#include "test_util.hpp"

using namespace routeshift;
using bedrock_test::es_frame;
using bedrock_test::es_header;
namespace fs = std::filesystem;

namespace {

const std::string kVec = std::string(TEST_DATA_DIR) + "/bedrock/eventstream-vectors";
const char* kPositive[] = {"all_headers", "empty_message", "int32_header", "payload_no_headers",
                           "payload_one_str_header"};
const char* kNegative[] = {"corrupted_header_len", "corrupted_headers", "corrupted_length", "corrupted_payload"};

std::string b64(std::string_view s) {
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
        uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += t[v & 63];
    }
    if (s.size() - i == 1) {
        uint32_t v = uint8_t(s[i]) << 16;
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += "==";
    } else if (s.size() - i == 2) {
        uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
        out += t[v >> 18];
        out += t[(v >> 12) & 63];
        out += t[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

// The aws-sdk-go decoded/ form of a message.
JsonPtr render(const EsMessage& m) {
    json_t* o = json_object();
    json_object_set_new(o, "total_length", json_integer(m.total_length));
    json_object_set_new(o, "headers_length", json_integer(m.headers_length));
    json_object_set_new(o, "prelude_crc", json_integer(static_cast<int32_t>(m.prelude_crc)));
    json_t* hs = json_array();
    for (const EsHeader& h : m.headers) {
        json_t* j = json_object();
        json_object_set_new(j, "name", json_stringn(h.name.data(), h.name.size()));
        json_object_set_new(j, "type", json_integer(static_cast<int>(h.type)));
        switch (h.type) {
        case EsHeaderType::bool_true: json_object_set_new(j, "value", json_true()); break;
        case EsHeaderType::bool_false: json_object_set_new(j, "value", json_false()); break;
        case EsHeaderType::bytes:
        case EsHeaderType::string:
        case EsHeaderType::uuid: json_object_set_new(j, "value", json_string(b64(h.bytes).c_str())); break;
        default: json_object_set_new(j, "value", json_integer(h.int_value));
        }
        json_array_append_new(hs, j);
    }
    json_object_set_new(o, "headers", hs);
    json_object_set_new(o, "payload", json_string(b64(m.payload).c_str()));
    json_object_set_new(o, "message_crc", json_integer(static_cast<int32_t>(m.message_crc)));
    return JsonPtr(o);
}

struct Collect {
    std::vector<std::string> rendered;  // compact JSON of each message
    std::vector<std::string> payloads;
    std::vector<std::string> event_types;
    std::function<void(const EsMessage&)> cb() {
        return [this](const EsMessage& m) {
            rendered.push_back(json_dump_compact(render(m).get()));
            payloads.emplace_back(m.payload);
            event_types.emplace_back(m.string_header(":event-type"));
        };
    }
};

// Feeds `data` in pieces cut at `cuts` (sorted offsets). Returns the decoder's final verdict.
bool feed_split(std::string_view data, const std::vector<size_t>& cuts, Collect* c, EventStreamDecoder* d) {
    size_t prev = 0;
    bool ok = true;
    for (size_t cut : cuts) {
        ok = d->feed(data.substr(prev, cut - prev), c->cb()) && ok;
        prev = cut;
    }
    ok = d->feed(data.substr(prev), c->cb()) && ok;
    return ok;
}

void test_positive_vectors(void**) {
    for (const char* name : kPositive) {
        std::string enc = test::read_data_file("bedrock/eventstream-vectors/encoded/positive/" + std::string(name));
        std::string err;
        JsonPtr want = json_parse(test::read_data_file("bedrock/eventstream-vectors/decoded/positive/" + std::string(name)), &err);
        assert_non_null(want.get());

        EsMessage m;
        if (!EventStreamDecoder::decode_frame(enc, &m, &err)) fail_msg("%s: %s", name, err.c_str());
        JsonPtr got = render(m);
        if (!json_equal(got.get(), want.get()))
            fail_msg("%s decodes to\n%s\nexpected\n%s", name, json_dump_compact(got.get()).c_str(),
                     json_dump_compact(want.get()).c_str());

        // incremental: one shot, then every single-cut split, then byte by byte
        Collect one;
        EventStreamDecoder d1;
        assert_true(d1.feed(enc, one.cb()));
        assert_int_equal(one.rendered.size(), 1);
        assert_int_equal(d1.pending(), 0);
        for (size_t cut = 0; cut <= enc.size(); ++cut) {
            Collect c;
            EventStreamDecoder d;
            assert_true(feed_split(enc, {cut}, &c, &d));
            assert_true(c.rendered == one.rendered);
            assert_int_equal(d.pending(), 0);
        }
        Collect bytes;
        EventStreamDecoder db;
        std::vector<size_t> all;
        for (size_t i = 1; i < enc.size(); ++i) all.push_back(i);
        assert_true(feed_split(enc, all, &bytes, &db));
        assert_true(bytes.rendered == one.rendered);
    }
}

void test_negative_vectors(void**) {
    for (const char* name : kNegative) {
        std::string enc = test::read_data_file("bedrock/eventstream-vectors/encoded/negative/" + std::string(name));
        std::string reason = test::read_data_file("bedrock/eventstream-vectors/decoded/negative/" + std::string(name));
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();

        EsMessage m;
        std::string err;
        if (EventStreamDecoder::decode_frame(enc, &m, &err)) fail_msg("%s was accepted", name);
        assert_contains(err, reason);

        for (size_t cut = 0; cut <= enc.size(); ++cut) {
            Collect c;
            EventStreamDecoder d;
            bool ok = feed_split(enc, {cut}, &c, &d);
            // corrupted_length announces 62 bytes but the file holds 61: its prelude CRC fails at once
            if (ok) fail_msg("%s accepted when split at %zu", name, cut);
            assert_true(c.rendered.empty());
            assert_true(d.failed());
            assert_contains(d.error(), reason);
        }
        Collect c;
        EventStreamDecoder d;
        std::vector<size_t> all;
        for (size_t i = 1; i < enc.size(); ++i) all.push_back(i);
        assert_false(feed_split(enc, all, &c, &d));
        assert_true(c.rendered.empty());
        assert_contains(d.error(), reason);
        // a failed decoder stays failed
        std::string good = test::read_data_file("bedrock/eventstream-vectors/encoded/positive/empty_message");
        assert_false(d.feed(good, c.cb()));
        assert_true(c.rendered.empty());
    }
}

// All positive vectors back to back, fed at every two-cut split of the first bytes and at random.
void test_concatenated_stream(void**) {
    std::string all;
    Collect want;
    for (const char* name : kPositive) {
        std::string enc = test::read_data_file("bedrock/eventstream-vectors/encoded/positive/" + std::string(name));
        EsMessage m;
        std::string err;
        assert_true(EventStreamDecoder::decode_frame(enc, &m, &err));
        want.cb()(m);
        all += enc;
    }
    for (size_t a = 0; a <= all.size(); ++a) {
        Collect c;
        EventStreamDecoder d;
        assert_true(feed_split(all, {a}, &c, &d));
        assert_true(c.rendered == want.rendered);
    }
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
        std::vector<size_t> cuts;
        int n = 1 + static_cast<int>(rng() % 40);
        for (int i = 0; i < n; ++i) cuts.push_back(rng() % (all.size() + 1));
        std::sort(cuts.begin(), cuts.end());
        Collect c;
        EventStreamDecoder d;
        assert_true(feed_split(all, cuts, &c, &d));
        assert_true(c.rendered == want.rendered);
        assert_int_equal(d.pending(), 0);
    }
}

// The wire-formats.md event-stream hex dump and the smithy empty message.
void test_reference_vector(void**) {
    const unsigned char raw[] = {
        0x00, 0x00, 0x00, 0x9f, 0x00, 0x00, 0x00, 0x57, 0xc3, 0x7b, 0xab, 0xff, 0x0b, 0x3a, 0x65, 0x76, 0x65, 0x6e,
        0x74, 0x2d, 0x74, 0x79, 0x70, 0x65, 0x07, 0x00, 0x11, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x42, 0x6c,
        0x6f, 0x63, 0x6b, 0x44, 0x65, 0x6c, 0x74, 0x61, 0x0d, 0x3a, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74, 0x2d,
        0x74, 0x79, 0x70, 0x65, 0x07, 0x00, 0x10, 0x61, 0x70, 0x70, 0x6c, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f, 0x6e,
        0x2f, 0x6a, 0x73, 0x6f, 0x6e, 0x0d, 0x3a, 0x6d, 0x65, 0x73, 0x73, 0x61, 0x67, 0x65, 0x2d, 0x74, 0x79, 0x70,
        0x65, 0x07, 0x00, 0x05, 0x65, 0x76, 0x65, 0x6e, 0x74, 0x7b, 0x22, 0x63, 0x6f, 0x6e, 0x74, 0x65, 0x6e, 0x74,
        0x42, 0x6c, 0x6f, 0x63, 0x6b, 0x49, 0x6e, 0x64, 0x65, 0x78, 0x22, 0x3a, 0x30, 0x2c, 0x22, 0x64, 0x65, 0x6c,
        0x74, 0x61, 0x22, 0x3a, 0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0x48, 0x69, 0x22, 0x7d, 0x2c,
        0x22, 0x70, 0x22, 0x3a, 0x22, 0x61, 0x62, 0x63, 0x64, 0x22, 0x7d, 0xf2, 0xac, 0xe5, 0xff};
    std::string f(reinterpret_cast<const char*>(raw), sizeof raw);
    assert_int_equal(f.size(), 159);
    EsMessage m;
    std::string err;
    assert_true(EventStreamDecoder::decode_frame(f, &m, &err));
    assert_int_equal(m.prelude_crc, 0xc37babffu);
    assert_int_equal(m.message_crc, 0xf2ace5ffu);
    assert_int_equal(m.headers.size(), 3);
    assert_str_eq(m.string_header(":event-type"), "contentBlockDelta");
    assert_str_eq(m.string_header(":content-type"), "application/json");
    assert_str_eq(m.string_header(":message-type"), "event");
    assert_str_eq(m.string_header(":absent"), "");
    assert_str_eq(m.payload, R"({"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abcd"})");
    // our encoder reproduces it byte for byte
    std::string hb = es_header(":event-type", "contentBlockDelta") + es_header(":content-type", "application/json") +
                     es_header(":message-type", "event");
    assert_true(es_frame(hb, m.payload) == f);

    // flip each payload byte / each header byte: rejected
    for (size_t i = 12; i < f.size(); ++i) {
        std::string g = f;
        g[i] = static_cast<char>(g[i] ^ 0x01);
        EventStreamDecoder d;
        Collect c;
        assert_false(d.feed(g, c.cb()));
        assert_true(c.rendered.empty());
        assert_contains(d.error(), "checksum mismatch");
    }
    for (size_t i = 0; i < 12; ++i) {
        std::string g = f;
        g[i] = static_cast<char>(g[i] ^ 0x80);
        EventStreamDecoder d;
        Collect c;
        assert_false(d.feed(g, c.cb()));
        assert_contains(d.error(), "Prelude checksum mismatch");
    }

    const unsigned char empty[] = {0, 0, 0, 0x10, 0, 0, 0, 0, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98, 0xc8, 0xff};
    assert_true(EventStreamDecoder::decode_frame(std::string_view(reinterpret_cast<const char*>(empty), 16), &m, &err));
    assert_int_equal(m.payload.size(), 0);
    assert_int_equal(m.headers.size(), 0);
    assert_int_equal(crc32_ieee("123456789"), 0xCBF43926u);  // the standard CRC-32 check value
}

void test_limits_and_bad_frames(void**) {
    std::string enc = test::read_data_file("bedrock/eventstream-vectors/encoded/positive/all_headers");
    // larger than the limit: refused as soon as the prelude is in, nothing buffered
    {
        EventStreamDecoder d(100);
        Collect c;
        assert_false(d.feed(enc.substr(0, 12), c.cb()));
        assert_contains(d.error(), "exceeds the limit");
        assert_int_equal(d.pending(), 0);
    }
    {
        EventStreamDecoder d(enc.size());  // exactly the limit: fine
        Collect c;
        assert_true(d.feed(enc, c.cb()));
        assert_int_equal(c.rendered.size(), 1);
    }
    // truncated: held, not delivered
    {
        EventStreamDecoder d;
        Collect c;
        assert_true(d.feed(enc.substr(0, enc.size() - 1), c.cb()));
        assert_true(c.rendered.empty());
        assert_int_equal(d.pending(), enc.size() - 1);
        assert_false(d.failed());
    }
    auto reject = [](const std::string& frame, const char* why) {
        EventStreamDecoder d;
        Collect c;
        if (d.feed(frame, c.cb())) fail_msg("accepted: %s", why);
        assert_true(c.rendered.empty());
        EsMessage m;
        std::string err;
        assert_false(EventStreamDecoder::decode_frame(frame, &m, &err));
        assert_false(err.empty());
    };
    // headers that are well framed by the CRCs but malformed inside
    reject(es_frame(std::string("\x00\x07\x00\x00", 4), ""), "empty header name");
    reject(es_frame(std::string("\x01" "a" "\x0a", 3), ""), "unknown header type 10");
    reject(es_frame(std::string("\x01" "a" "\x07\x00\x05" "ab", 7), ""), "string overruns");
    reject(es_frame(std::string("\x05" "ab", 3), ""), "name overruns");
    reject(es_frame(std::string("\x01" "a" "\x04\x00\x00", 5), ""), "int32 truncated");
    reject(es_frame(std::string("\x01" "a" "\x09\x00\x00", 5), ""), "uuid truncated");
    reject(es_frame(std::string("\x01" "a", 2), ""), "type missing");
    // lengths that are impossible but carry a valid prelude CRC
    auto prelude = [](uint32_t total, uint32_t hl) {
        std::string p;
        for (uint32_t v : {total, hl})
            for (int i = 3; i >= 0; --i) p += static_cast<char>((v >> (8 * i)) & 0xFF);
        uint32_t crc = crc32_ieee(p);
        for (int i = 3; i >= 0; --i) p += static_cast<char>((crc >> (8 * i)) & 0xFF);
        return p;
    };
    for (auto [total, hl] : std::vector<std::pair<uint32_t, uint32_t>>{{15, 0}, {0, 0}, {20, 5}, {16, 1}}) {
        EventStreamDecoder d;
        Collect c;
        std::string p = prelude(total, hl) + std::string(8, '\0');
        assert_false(d.feed(p, c.cb()));
        assert_false(d.error().empty());
    }
    // all header types survive a round trip through our encoder
    std::string hb;
    hb += std::string("\x01" "t" "\x00", 3);
    hb += std::string("\x01" "f" "\x01", 3);
    hb += std::string("\x01" "b" "\x02\xff", 4);
    hb += std::string("\x01" "s" "\x03\xff\xfe", 5);
    hb += std::string("\x01" "i" "\x04\x80\x00\x00\x00", 7);
    hb += std::string("\x01" "l" "\x05\xff\xff\xff\xff\xff\xff\xff\xfe", 11);
    hb += std::string("\x01" "y" "\x06\x00\x02\x00\x01", 7);
    hb += es_header("str", "v");
    hb += std::string("\x01" "T" "\x08\x00\x00\x01\x8b\xcf\xe5\x68\x00", 11);
    hb += std::string("\x01" "u" "\x09", 3) + std::string(16, '\x42');
    std::string f = es_frame(hb, "x");
    EsMessage m;
    std::string err;
    assert_true(EventStreamDecoder::decode_frame(f, &m, &err));
    assert_int_equal(m.headers.size(), 10);
    assert_int_equal(m.header("t")->int_value, 1);
    assert_int_equal(static_cast<int>(m.header("f")->type), 1);
    assert_int_equal(m.header("b")->int_value, -1);
    assert_int_equal(m.header("s")->int_value, -2);
    assert_int_equal(m.header("i")->int_value, INT32_MIN);
    assert_int_equal(m.header("l")->int_value, -2);
    assert_int_equal(m.header("y")->bytes.size(), 2);
    assert_str_eq(m.string_header("y"), std::string("\x00\x01", 2));
    assert_str_eq(m.string_header("str"), "v");
    assert_int_equal(m.header("T")->int_value, 1700000000000LL);
    assert_int_equal(m.header("u")->bytes.size(), 16);
    assert_str_eq(m.string_header("u"), "");  // not a string header
    assert_str_eq(m.payload, "x");
}

// The recorded ConverseStream bodies: one message per line of the .chunks.jsonl, `:event-type` =
// the line's key, payload = the line's value plus Bedrock's "p" padding (absent in these files).
void test_recorded_streams(void**) {
    const char* names[] = {"vercel-ai_amazon-bedrock-reasoning", "vercel-ai_amazon-bedrock-text",
                           "vercel-ai_amazon-bedrock-tool-call.1", "vercel-ai_amazon-bedrock-tool-no-args"};
    const size_t events[] = {26, 16, 6, 8};  // expected.json "events"
    for (size_t k = 0; k < 4; ++k) {
        std::string body = test::read_data_file("bedrock/" + std::string(names[k]) + ".eventstream");
        std::string lines = test::read_data_file("bedrock/" + std::string(names[k]) + ".chunks.jsonl");
        Collect c;
        EventStreamDecoder d;
        assert_true(d.feed(body, c.cb()));
        assert_int_equal(d.pending(), 0);
        assert_int_equal(c.payloads.size(), events[k]);
        std::istringstream in(lines);
        std::string line;
        size_t i = 0;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            std::string err;
            JsonPtr j = json_parse(line, &err);
            assert_non_null(j.get());
            const char* key = json_object_iter_key(json_object_iter(j.get()));
            assert_true(i < c.payloads.size());
            assert_str_eq(c.event_types[i], key);
            JsonPtr p = json_parse(c.payloads[i], &err);
            assert_non_null(p.get());
            json_object_del(p.get(), "p");
            assert_true(json_equal(p.get(), json_object_get(j.get(), key)));
            ++i;
        }
        assert_int_equal(i, c.payloads.size());
        // every split of the first 2 KB plus random splits give the same messages
        for (size_t cut = 0; cut <= std::min<size_t>(body.size(), 2048); ++cut) {
            Collect s;
            EventStreamDecoder ds;
            assert_true(feed_split(body, {cut}, &s, &ds));
            assert_true(s.rendered == c.rendered);
        }
        std::mt19937 rng(static_cast<unsigned>(k));
        for (int r = 0; r < 100; ++r) {
            std::vector<size_t> cuts;
            for (int i2 = 0, n = 1 + static_cast<int>(rng() % 64); i2 < n; ++i2) cuts.push_back(rng() % (body.size() + 1));
            std::sort(cuts.begin(), cuts.end());
            Collect s;
            EventStreamDecoder ds;
            assert_true(feed_split(body, cuts, &s, &ds));
            assert_true(s.rendered == c.rendered);
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive_vectors),     cmocka_unit_test(test_negative_vectors),
        cmocka_unit_test(test_concatenated_stream),  cmocka_unit_test(test_reference_vector),
        cmocka_unit_test(test_limits_and_bad_frames), cmocka_unit_test(test_recorded_streams),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
