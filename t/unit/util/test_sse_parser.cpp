// sse_parser: framing, fields, line endings, byte-exact raw, arbitrary splits, limits.
#include "util/json_util.hpp"
#include "util/sse_parser.hpp"

#include <cstring>
#include <random>

#include "test_util.hpp"

using namespace routeshift;

struct Ev {
    std::string event, data, id, raw;
    bool operator==(const Ev&) const = default;
};

struct Collector {
    std::vector<Ev> events;
    std::function<void(const SseEvent&)> fn() {
        return [this](const SseEvent& e) {
            events.push_back({std::string(e.event), std::string(e.data), std::string(e.id), std::string(e.raw)});
        };
    }
};

// Feeds `chunks` (each from a short-lived heap copy so that ASan catches any view kept past
// the call), then flushes when asked. Returns the events; `pending` gets what was left.
static std::vector<Ev> run(const std::vector<std::string_view>& chunks, bool flush = false,
                           size_t* pending = nullptr, SseParser* reuse = nullptr) {
    SseParser local;
    SseParser& p = reuse ? *reuse : local;
    Collector c;
    auto fn = c.fn();
    for (auto ch : chunks) {
        auto copy = std::make_unique<char[]>(ch.size() + 1);
        std::memcpy(copy.get(), ch.data(), ch.size());
        if (!p.feed(std::string_view(copy.get(), ch.size()), fn)) fail_msg("feed failed");
    }
    if (pending) *pending = p.pending();
    if (flush) p.flush(fn);
    return c.events;
}

static std::string concat_raw(const std::vector<Ev>& evs) {
    std::string s;
    for (const auto& e : evs) s += e.raw;
    return s;
}

static void expect_same(const std::vector<Ev>& got, const std::vector<Ev>& want, const char* what) {
    if (got.size() != want.size()) fail_msg("%s: %zu events, expected %zu", what, got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
        if (!(got[i] == want[i]))
            fail_msg("%s: event %zu differs: data '%s' raw '%s' vs data '%s' raw '%s'", what, i, got[i].data.c_str(),
                     got[i].raw.c_str(), want[i].data.c_str(), want[i].raw.c_str());
}

// Every split of `s` in two, and feeding one byte at a time, give the same events as one feed,
// and the raw bytes plus what is pending always reproduce the input.
static void check_all_splits(const std::string& s, const std::vector<Ev>& expected, bool flush = false) {
    expect_same(run({s}, flush), expected, "single feed");
    for (size_t i = 0; i <= s.size(); ++i) {
        std::string_view v(s);
        size_t pending = 0;
        auto evs = run({v.substr(0, i), v.substr(i)}, flush, &pending);
        expect_same(evs, expected, "two-way split");
        if (!flush) assert_int_equal(concat_raw(evs).size() + pending, s.size());
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < s.size(); ++i) bytes.push_back(std::string_view(s).substr(i, 1));
    expect_same(run(bytes, flush), expected, "byte at a time");
}

static void test_basic(void**) {
    std::string s = "data: a\n\ndata: {\"x\":1}\n\n";
    std::vector<Ev> want = {{"", "a", "", "data: a\n\n"}, {"", "{\"x\":1}", "", "data: {\"x\":1}\n\n"}};
    check_all_splits(s, want);
}

static void test_crlf_and_cr(void**) {
    check_all_splits("data: a\r\n\r\ndata: b\r\n\r\n",
                     {{"", "a", "", "data: a\r\n\r\n"}, {"", "b", "", "data: b\r\n\r\n"}});
    // lone CR line ends; the last event is only certain at EOF (flush)
    check_all_splits("data: a\r\rdata: b\r\r", {{"", "a", "", "data: a\r\r"}, {"", "b", "", "data: b\r\r"}}, true);
    size_t pending = 0;
    auto evs = run({"data: a\r\rdata: b\r\r"}, false, &pending);
    assert_int_equal(evs.size(), 1);
    assert_int_equal(pending, 9);  // "data: b\r\r" held: the last CR may be half of CRLF
    // mixed endings in one stream
    check_all_splits("data: a\r\n\ndata: b\n\r\ndata: c\r\r\n",
                     {{"", "a", "", "data: a\r\n\n"}, {"", "b", "", "data: b\n\r\n"}, {"", "c", "", "data: c\r\r\n"}});
}

static void test_fields(void**) {
    check_all_splits("event: message_start\ndata: {\"type\":\"x\"}\nid: 42\nretry: 10\n\n",
                     {{"message_start", "{\"type\":\"x\"}", "42", "event: message_start\ndata: {\"type\":\"x\"}\nid: 42\nretry: 10\n\n"}});
    // no space after the colon; only one leading space removed
    check_all_splits("data:x\n\ndata:  y\n\n", {{"", "x", "", "data:x\n\n"}, {"", " y", "", "data:  y\n\n"}});
    // a field name without colon counts with an empty value
    check_all_splits("data\n\n", {{"", "", "", "data\n\n"}});
    // multiple data lines are joined with \n, including an empty last line
    check_all_splits("data: a\ndata: b\ndata:\n\n", {{"", "a\nb\n", "", "data: a\ndata: b\ndata:\n\n"}});
    check_all_splits("data: a\r\ndata: b\r\n\r\n", {{"", "a\nb", "", "data: a\r\ndata: b\r\n\r\n"}});
    // unknown fields ignored, last event: wins
    check_all_splits("foo: bar\nevent: a\nevent: b\ndata: d\n\n", {{"b", "d", "", "foo: bar\nevent: a\nevent: b\ndata: d\n\n"}});
    // a BOM at the start of the stream
    check_all_splits("\xEF\xBB\xBF" "data: a\n\n", {{"", "a", "", "\xEF\xBB\xBF" "data: a\n\n"}});
}

static void test_comments_and_blank_lines(void**) {
    // comment-only blocks are delivered (empty data) so relays can forward keep-alives
    check_all_splits(": OPENROUTER PROCESSING\n\ndata: a\n: inline comment\n\n",
                     {{"", "", "", ": OPENROUTER PROCESSING\n\n"}, {"", "a", "", "data: a\n: inline comment\n\n"}});
    // blank lines before an event belong to its raw bytes
    check_all_splits("\n\r\n\ndata: a\n\n\n\ndata: b\n\n",
                     {{"", "a", "", "\n\r\n\ndata: a\n\n"}, {"", "b", "", "\n\ndata: b\n\n"}});
    // blank lines alone produce nothing and stay pending
    size_t pending = 0;
    assert_int_equal(run({"\n\n\n"}, false, &pending).size(), 0);
    assert_int_equal(pending, 3);
}

static void test_partial_kept(void**) {
    SseParser p;
    Collector c;
    auto fn = c.fn();
    assert_true(p.feed("data: a\n\ndata: b", fn));
    assert_int_equal(c.events.size(), 1);
    assert_int_equal(p.pending(), 7);
    assert_true(p.feed("c\n", fn));
    assert_int_equal(c.events.size(), 1);
    assert_int_equal(p.pending(), 9);
    assert_true(p.feed("\n", fn));
    assert_int_equal(c.events.size(), 2);
    assert_str_eq(c.events[1].data, "bc");
    assert_str_eq(c.events[1].raw, "data: bc\n\n");
    assert_int_equal(p.pending(), 0);
    // a CR at the end of a chunk is held until the next byte says whether it is CRLF
    assert_true(p.feed("data: z\r\n\r", fn));
    assert_int_equal(c.events.size(), 2);
    assert_true(p.feed("\ndata: y\n\n", fn));
    assert_int_equal(c.events.size(), 4);
    assert_str_eq(c.events[2].raw, "data: z\r\n\r\n");
    assert_str_eq(c.events[3].raw, "data: y\n\n");
    p.reset();
    assert_int_equal(p.pending(), 0);
}

static void test_flush(void**) {
    // a last event without its blank line is delivered at EOF, a partial line is not
    auto evs = run({"data: a\n\ndata: [DONE]\n"}, true);
    assert_int_equal(evs.size(), 2);
    assert_str_eq(evs[1].data, "[DONE]");
    assert_str_eq(evs[1].raw, "data: [DONE]\n");
    evs = run({"data: a\n\ndata: {\"partial"}, true);
    assert_int_equal(evs.size(), 1);
    evs = run({"data: a\n\ndata: b\ndata: {\"partial"}, true);
    assert_int_equal(evs.size(), 1);
    SseParser p;
    Collector c;
    p.feed("data: x", c.fn());
    p.flush(c.fn());
    assert_int_equal(p.pending(), 0);
    assert_int_equal(c.events.size(), 0);
    // usable again after flush
    p.feed("data: y\n\n", c.fn());
    assert_int_equal(c.events.size(), 1);
    assert_str_eq(c.events[0].data, "y");
}

static void test_limits(void**) {
    SseParser p(16);
    Collector c;
    assert_true(p.feed("data: 0123", c.fn()));
    assert_false(p.feed("456789abcdef", c.fn()));  // pending event > 16 bytes
    SseParser q(16);
    assert_false(q.feed("data: 0123456789abcdef\n\n", c.fn()));  // complete but too big
    assert_int_equal(c.events.size(), 0);
    SseParser r(16);
    assert_true(r.feed("data: 0123456\n\n", c.fn()));  // 15 bytes: fine
    assert_int_equal(c.events.size(), 1);
}

static void test_lifetime_views(void**) {
    // views point into the caller's bytes (fast path) or the parser's buffer; either way they
    // are valid during the callback even when the buffer grows in the middle of an event
    SseParser p;
    std::string big(100000, 'x');
    std::string seen;
    auto fn = [&](const SseEvent& e) { seen.assign(e.data.data(), e.data.size()); };
    assert_true(p.feed("data: ", fn));
    for (size_t i = 0; i < big.size(); i += 999) {
        std::string chunk = big.substr(i, 999);
        assert_true(p.feed(chunk, fn));
    }
    assert_true(p.feed("\ndata: tail\n\n", fn));
    assert_int_equal(seen.size(), big.size() + 5);
    assert_str_eq(seen.substr(big.size()), "\ntail");
}

static std::vector<Ev> reference(const std::string& s) { return run({s}); }

static std::string convert_newlines(const std::string& s, const char* nl) {
    std::string out;
    for (char ch : s) {
        if (ch == '\n') out += nl;
        else out += ch;
    }
    return out;
}

static void test_recorded_openai_streams(void**) {
    for (const char* name : {"openai-node_stream-works-1.sse", "openai-node_stream-emits-refusal-logprobs-events-1.sse"}) {
        std::string s = test::read_data_file(name);
        auto want = reference(s);
        assert_int_equal(want.size(), test::count(s, "data: "));
        assert_str_eq(concat_raw(want), s);  // byte identity
        for (size_t i = 0; i + 1 < want.size(); ++i) {
            JsonPtr j = json_parse(want[i].data, nullptr);
            if (!j) fail_msg("%s: event %zu is not JSON", name, i);
        }
        assert_str_eq(want.back().data, "[DONE]");
        check_all_splits(s, want);
        // same stream with CRLF and with CR line ends
        for (const char* nl : {"\r\n", "\r"}) {
            std::string conv = convert_newlines(s, nl);
            auto evs = run({conv}, true);
            assert_int_equal(evs.size(), want.size());
            for (size_t i = 0; i < evs.size(); ++i) assert_str_eq(evs[i].data, want[i].data);
            assert_str_eq(concat_raw(evs), conv);
        }
        std::string crlf = convert_newlines(s, "\r\n");
        std::vector<Ev> crlf_want = reference(crlf);
        check_all_splits(crlf, crlf_want);
    }
}

static void test_recorded_large_random_chunks(void**) {
    std::string s = test::read_data_file("vercel-ai_openai-text.sse");
    auto want = reference(s);
    assert_int_equal(want.size(), 304);
    assert_str_eq(concat_raw(want), s);
    std::mt19937 rng(12345);
    for (int round = 0; round < 50; ++round) {
        std::vector<std::string_view> chunks;
        std::uniform_int_distribution<size_t> len(1, round < 25 ? 8 : 700);
        for (size_t p = 0; p < s.size();) {
            size_t n = std::min(len(rng), s.size() - p);
            chunks.push_back(std::string_view(s).substr(p, n));
            p += n;
        }
        expect_same(run(chunks), want, "random chunks");
    }
}

// What ends a delivered event with a blank line: nothing for a complete one; for the stream's last
// event (flush), the one or two line breaks it lacks, whatever its line ends.
static void test_event_terminator(void**) {
    assert_str_eq(sse_event_terminator("data: x\n\n"), "");
    assert_str_eq(sse_event_terminator("data: x\r\n\r\n"), "");
    assert_str_eq(sse_event_terminator("data: x\r\r"), "");
    assert_str_eq(sse_event_terminator("data: x\n\r\n"), "");
    assert_str_eq(sse_event_terminator("data: x\n"), "\n");
    assert_str_eq(sse_event_terminator("data: x\r\n"), "\n");
    assert_str_eq(sse_event_terminator("data: x\r"), "\n\n");  // CR + "\n" is CRLF, then a blank line
    assert_str_eq(sse_event_terminator("data: x"), "\n\n");
    assert_str_eq(sse_event_terminator(""), "\n\n");
    // what flush() delivers, terminated, parses back as exactly that event
    for (std::string_view last : {"data: [1]\n", "data: [1]\r\n", "data: [1]\r", "event: e\ndata: [1]\r\n"}) {
        std::vector<std::string> raws;
        SseParser parser;
        auto keep = [&](const SseEvent& ev) { raws.emplace_back(ev.raw); };
        assert_true(parser.feed(last, keep));
        parser.flush(keep);
        assert_int_equal(raws.size(), 1);
        std::string ended = raws[0] + std::string(sse_event_terminator(raws[0])) + "data: [2]\n\n";
        std::vector<std::string> data;
        SseParser again;
        assert_true(again.feed(ended, [&](const SseEvent& ev) { data.emplace_back(ev.data); }));
        assert_int_equal(data.size(), 2);
        assert_str_eq(data[0], "[1]");
        assert_str_eq(data[1], "[2]");
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_terminator),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_crlf_and_cr),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_comments_and_blank_lines),
        cmocka_unit_test(test_partial_kept),
        cmocka_unit_test(test_flush),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_lifetime_views),
        cmocka_unit_test(test_recorded_openai_streams),
        cmocka_unit_test(test_recorded_large_random_chunks),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
