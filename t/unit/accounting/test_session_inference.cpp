// Session stitching: a forced id is checked and kept; otherwise the id of a first turn completed
// from its answer equals the id of the next turn that replays that answer, whichever way the
// answer came (canonical events, OpenAI chunks, an OpenAI JSON answer) and however the client
// re-encodes it (escapes, whitespace, argument formatting); different conversations differ.
#include "accounting/session_inference.hpp"

#include <optional>

#include "test_util.hpp"

using namespace routeshift;

namespace {

ChatRequest parse(const std::string& body) {
    ApiError err;
    auto req = parse_chat_request(body, &err);
    if (!req) fail_msg("bad test body: %s (%s)", err.message.c_str(), body.c_str());
    return std::move(*req);
}

std::string body_of(const std::string& messages, const std::string& extra = "") {
    return R"({"model":"m",)" + extra + R"("messages":[)" + messages + "]}";
}

const std::string kOpening = R"({"role":"system","content":"You are concise."},{"role":"user","content":"hi"})";

// A first turn whose answer comes as text deltas.
std::string first_turn_id(const std::string& body, std::initializer_list<std::string_view> deltas, int64_t caller = 5) {
    ChatRequest req = parse(body);
    SessionInference s;
    s.begin(req, caller);
    assert_false(s.known());
    assert_true(s.awaiting_answer());
    for (std::string_view d : deltas) s.answer_text(d);
    s.complete_answer();
    assert_true(s.known());
    assert_false(s.awaiting_answer());
    return std::string(s.id());
}

// A later turn: the id is known from the request alone.
std::string later_turn_id(const std::string& body, int64_t caller = 5) {
    ChatRequest req = parse(body);
    SessionInference s;
    s.begin(req, caller);
    assert_true(s.known());
    assert_false(s.awaiting_answer());
    return std::string(s.id());
}

}  // namespace

static void test_forced_id_checked_and_kept(void**) {
    ApiError err;
    assert_true(check_forced_session_id("conv-42", &err));
    assert_true(check_forced_session_id(std::string(128, 'a'), &err));
    assert_false(check_forced_session_id(std::string(129, 'a'), &err));
    assert_int_equal(err.status, 400);
    assert_str_eq(err.type, "invalid_request_error");
    assert_str_eq(err.param, "metadata.session_id");
    assert_false(check_forced_session_id("a\nb", &err));
    assert_false(check_forced_session_id("caf\xc3\xa9", &err));
    assert_false(check_forced_session_id(" padded", &err));
    assert_false(check_forced_session_id("", &err));

    ChatRequest req = parse(body_of(kOpening, R"("metadata":{"session_id":"conv-42"},)"));
    SessionInference s;
    s.begin(req, 5);
    assert_true(s.known());
    assert_false(s.awaiting_answer());
    assert_str_eq(s.id(), "conv-42");
    s.answer_text("ignored");
    s.complete_answer();
    assert_str_eq(s.id(), "conv-42");
}

static void test_next_turn_has_the_first_turns_id(void**) {
    std::string first = first_turn_id(body_of(kOpening), {"Hello", "! How can", " I help?"});
    assert_int_equal(first.size(), 4 + 32);
    assert_true(first.rfind("ses_", 0) == 0);
    for (char c : first.substr(4)) assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    std::string second = later_turn_id(
        body_of(kOpening + R"(,{"role":"assistant","content":"Hello! How can I help?"},{"role":"user","content":"2+2?"})"));
    assert_str_eq(first, second);
    // and every later turn too
    std::string third = later_turn_id(body_of(
        kOpening + R"(,{"role":"assistant","content":"Hello! How can I help?"},{"role":"user","content":"2+2?"},)" +
        R"({"role":"assistant","content":"4"},{"role":"user","content":"thanks"})"));
    assert_str_eq(first, third);
}

static void test_encoding_and_whitespace_do_not_matter(void**) {
    std::string first = first_turn_id(body_of(kOpening), {"  Hello!\n\n", "How can  I", "\thelp? \n"});
    // escapes, a trimmed answer, content as text parts, reformatted request JSON
    std::string second = later_turn_id(
        R"({ "model" : "m", "messages" : [ {"role":"system","content":[{"type":"text","text":"You are\n concise."}]},)"
        R"( {"role":"user","content":"\u0068i"}, {"role":"assistant","content":"Hello! How can I help?"},)"
        R"( {"role":"user","content":"more"} ] })");
    assert_str_eq(first, second);
    // a different word is a different conversation
    std::string other = later_turn_id(
        body_of(kOpening + R"(,{"role":"assistant","content":"Hello! How may I help?"},{"role":"user","content":"x"})"));
    assert_string_not_equal(first.c_str(), other.c_str());
}

static void test_two_hi_conversations_diverge(void**) {
    std::string a = first_turn_id(body_of(kOpening), {"Hi! What do you need?"});
    std::string b = first_turn_id(body_of(kOpening), {"Hello there."});
    assert_string_not_equal(a.c_str(), b.c_str());
    // identical openings and identical answers cannot be told apart (documented limit)...
    std::string c = first_turn_id(body_of(kOpening), {"Hello there."});
    assert_str_eq(b, c);
    // ...unless the client names its end user, or the caller differs
    std::string d = first_turn_id(body_of(kOpening, R"("user":"alice",)"), {"Hello there."});
    std::string e = first_turn_id(body_of(kOpening, R"("user":"bob",)"), {"Hello there."});
    std::string f = first_turn_id(body_of(kOpening), {"Hello there."}, 6);
    assert_string_not_equal(b.c_str(), d.c_str());
    assert_string_not_equal(d.c_str(), e.c_str());
    assert_string_not_equal(b.c_str(), f.c_str());
    // a different system prompt or first user message: another conversation
    std::string g = first_turn_id(
        body_of(R"({"role":"system","content":"You are verbose."},{"role":"user","content":"hi"})"), {"Hello there."});
    std::string h = first_turn_id(
        body_of(R"({"role":"system","content":"You are concise."},{"role":"user","content":"hey"})"), {"Hello there."});
    assert_string_not_equal(b.c_str(), g.c_str());
    assert_string_not_equal(b.c_str(), h.c_str());
}

// The id's definition (version 3, docs/design.md §12), spelled out: every digest is a chain from
// H("routeshift-session-3") where each field's canonical bytes extend it, chain = H(chain ‖ field);
// the id is H(opening ‖ content ‖ tool calls) in hex. A change of any of it changes every id:
// that is a new version, not a refactoring.
static void test_version_3_definition(void**) {
    auto step = [](const std::string& chain, std::string_view field) {
        std::string block = chain + std::string(field);
        unsigned char out[kHash128Bytes];
        hash128(block.data(), block.size(), out);
        return std::string(reinterpret_cast<const char*>(out), sizeof out);
    };
    const std::string start = step("", "routeshift-session-3");
    std::string opening = start;
    for (std::string_view field : {"5", "", "", "S", "You are concise.", "U", "hi"}) opening = step(opening, field);
    const std::string content = step(start, "Hello there.");
    const std::string tools = start;  // no tool calls: no field
    const std::string id = step("", opening + content + tools);
    std::string expected = "ses_";
    for (unsigned char c : id) {
        static const char digits[] = "0123456789abcdef";
        expected += digits[c >> 4];
        expected += digits[c & 15];
    }
    assert_str_eq(first_turn_id(body_of(kOpening), {" Hello  there. "}), expected);
}

static void test_fields_are_framed(void**) {
    std::string a = first_turn_id(body_of(R"({"role":"system","content":"ab"},{"role":"user","content":"c"})"), {"x"});
    std::string b = first_turn_id(body_of(R"({"role":"system","content":"a"},{"role":"user","content":"bc"})"), {"x"});
    assert_string_not_equal(a.c_str(), b.c_str());
    // a NUL in the text cannot forge a field boundary
    std::string c = first_turn_id(body_of(R"({"role":"system","content":"a\u0000U\u0000bc"},{"role":"user","content":"c"})"), {"x"});
    assert_string_not_equal(a.c_str(), c.c_str());
    assert_string_not_equal(b.c_str(), c.c_str());
}

static void test_tool_calls_from_every_source_agree(void**) {
    // canonical events: a call announced with its name, arguments in deltas
    ChatRequest req = parse(body_of(kOpening));
    SessionInference events;
    events.begin(req, 5);
    events.answer_tool_call(0, "get_weather", "");
    events.answer_tool_arguments(0, R"({"city":)");
    events.answer_tool_arguments(0, R"( "Paris"})");
    events.answer_tool_call(1, "get_time", R"({"tz":"CET"})");
    events.complete_answer();

    // OpenAI chunks, as the relay passes them
    SessionInference chunks;
    chunks.begin(req, 5);
    chunks.answer_openai_chunk(R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":null}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":1,"delta":{"content":"another choice"}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\": \"CET\"}"}}]}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null})");
    chunks.answer_openai_chunk("[DONE]");
    chunks.complete_answer();

    // one OpenAI JSON answer
    SessionInference json;
    json.begin(req, 5);
    json.answer_openai_completion(
        R"({"id":"c","object":"chat.completion","choices":[{"index":1,"message":{"role":"assistant","content":"no"}},)"
        R"({"index":0,"message":{"role":"assistant","content":null,"tool_calls":[)"
        R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},)"
        R"({"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]}}]})");
    json.complete_answer();

    assert_str_eq(events.id(), chunks.id());
    assert_str_eq(events.id(), json.id());
    // the next turn, with the SDK's echo (arguments re-serialised with spaces by some clients)
    std::string next = later_turn_id(body_of(
        kOpening + R"(,{"role":"assistant","content":null,"tool_calls":[)"
                   R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}},)"
                   R"({"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]},)"
                   R"({"role":"tool","tool_call_id":"call_1","content":"sunny"},{"role":"tool","tool_call_id":"call_2","content":"9:00"})"));
    assert_str_eq(events.id(), next);
    // another argument is another conversation
    std::string other = later_turn_id(body_of(
        kOpening + R"(,{"role":"assistant","tool_calls":[)"
                   R"({"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}},)"
                   R"({"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"CET\"}"}}]})"));
    assert_string_not_equal(std::string(events.id()).c_str(), other.c_str());
}

static void test_text_and_chunks_agree(void**) {
    ChatRequest req = parse(body_of(kOpening));
    SessionInference chunks;
    chunks.begin(req, 5);
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{"content":"Caf\u00e9 \"ok\""}}]})");
    chunks.answer_openai_chunk(R"({"choices":[{"index":0,"delta":{"content":"\n"}}]})");
    chunks.answer_openai_chunk("not json");
    chunks.complete_answer();
    std::string events = first_turn_id(body_of(kOpening), {"Caf\xc3\xa9", " \"ok\""});
    assert_str_eq(chunks.id(), events);
}

static void test_restart_forgets_a_failed_attempt(void**) {
    ChatRequest req = parse(body_of(kOpening));
    SessionInference s;
    s.begin(req, 5);
    s.answer_text("partial answer of a failed attempt");
    s.answer_tool_call(0, "f", "{}");
    s.restart_answer();
    s.answer_text("Hello there.");
    s.complete_answer();
    assert_str_eq(s.id(), first_turn_id(body_of(kOpening), {"Hello there."}));
}

static void test_only_the_field_limit_counts(void**) {
    std::string prefix(kSessionFieldLimit, 'a');
    std::string a = first_turn_id(body_of(kOpening), {prefix, "b"});
    std::string b = first_turn_id(body_of(kOpening), {prefix, "c"});
    assert_str_eq(a, b);  // the same first 512 bytes of the answer: one session (documented limit)
    std::string c = first_turn_id(body_of(kOpening), {prefix.substr(1), "c"});
    assert_string_not_equal(a.c_str(), c.c_str());
    // a long user message is hashed up to the limit, also when escapes come after it
    std::string long_user = R"({"role":"user","content":")" + prefix + R"(\n\u00e9 tail"})";
    std::string d = first_turn_id(body_of(long_user), {"x"});
    std::string e = first_turn_id(body_of(R"({"role":"user","content":")" + prefix + R"("})"), {"x"});
    assert_str_eq(d, e);
}

// The canonical text of a piece fed whole (prose runs taken 16 bytes a step) equals the same piece
// fed a byte at a time (every byte decided alone), and canonicalises as §12 says.
static void test_whole_and_bytewise_canonical_text_agree(void**) {
    using Spacing = CanonicalTextHash::Spacing;
    auto digest_of = [](std::string_view text, Spacing spacing, bool bytewise) {
        CanonicalTextHash hash;
        if (bytewise) {
            for (char c : text) hash.text(std::string_view(&c, 1), spacing);
        } else {
            hash.text(text, spacing);
        }
        hash.end_field();
        unsigned char out[kSessionDigestBytes];
        hash.digest(out);
        return std::string(reinterpret_cast<const char*>(out), sizeof out);
    };
    // words, single and double spaces, tabs, newlines, framed and other control bytes, UTF-8, at
    // every offset of a 16-byte step and across the field limit
    const std::string pieces[] = {"word", " ", "  ", "\t", "\n", " \n ", std::string(1, '\0'), "\1", "\x05",
                                  " \x05", "caf\xc3\xa9", "a-much-longer-word-without-spaces", "!", " x"};
    uint32_t state = 12345;
    for (int round = 0; round < 400; round++) {
        std::string text;
        size_t length = 1 + round * 3 % 700;
        while (text.size() < length) {
            state = state * 1103515245u + 12345u;
            text += pieces[(state >> 16) % (sizeof pieces / sizeof pieces[0])];
        }
        for (Spacing spacing : {Spacing::collapse, Spacing::drop}) {
            assert_true(digest_of(text, spacing, false) == digest_of(text, spacing, true));
        }
    }
    // collapsing: runs of whitespace are one space, none at either end
    assert_true(digest_of("  a \t b\n\nc  ", Spacing::collapse, false) == digest_of("a b c", Spacing::collapse, false));
    assert_true(digest_of("a  b", Spacing::collapse, false) != digest_of("ab", Spacing::collapse, false));
    assert_true(digest_of(" a b ", Spacing::drop, false) == digest_of("ab", Spacing::drop, false));
    std::string prose;
    for (int i = 0; i < 40; i++) prose += "lorem ipsum dolor ";
    std::string spaced = prose;
    spaced.replace(95, 1, "   ");  // the space after the sixth "lorem"
    assert_true(digest_of(prose, Spacing::collapse, false) == digest_of(spaced, Spacing::collapse, false));
}

// The request check keeps the conversation's opening (the messages up to the first assistant one,
// with their role, content and tool calls) and the digest reads it instead of walking the
// messages again: the ids are the ones the walk gives, for first and later turns, and an opening
// too long to keep is walked.
static void test_kept_opening_and_walk_agree(void**) {
    const std::string tool_call =
        R"({"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\": 1}"}}]})";
    const std::string bodies[] = {
        body_of(kOpening),
        body_of(kOpening + R"(,{"role":"assistant","content":"Hello!"},{"role":"user","content":"more"})"),
        body_of(R"({"role":"developer","content":[{"type":"text","text":"Be brief."}]},{"role":"user","content":"a"},)"
                R"({"role":"system","content":"late"},{"role":"user","content":"b"},)" + tool_call),
        body_of(R"({"role":"user","content":"1"},{"role":"user","content":"2"},{"role":"user","content":"3"},)"
                R"({"role":"user","content":"4"},{"role":"user","content":"5"},{"role":"system","content":"6"},)"
                R"({"role":"assistant","content":"7"})"),
    };
    const size_t kept[] = {2, 3, 5, 0};
    for (size_t i = 0; i < std::size(bodies); i++) {
        ChatRequest req = parse(bodies[i]);
        assert_int_equal(req.opening_known, kept[i] != 0);
        assert_int_equal(req.opening_count, kept[i]);
        SessionInference from_kept;
        from_kept.begin(req, 5);
        from_kept.answer_text("Hi there.");
        from_kept.complete_answer();
        req.opening_known = false;  // as for a request the check did not keep
        SessionInference from_walk;
        from_walk.begin(req, 5);
        from_walk.answer_text("Hi there.");
        from_walk.complete_answer();
        assert_true(from_kept.known());
        assert_str_eq(from_kept.id(), from_walk.id());
    }
    // a moved request keeps its opening pointing into its own body
    ChatRequest moved = parse(bodies[1]);
    std::string id_before = later_turn_id(bodies[1]);
    ChatRequest target = std::move(moved);
    SessionInference s;
    s.begin(target, 5);
    assert_str_eq(s.id(), id_before);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forced_id_checked_and_kept),
        cmocka_unit_test(test_next_turn_has_the_first_turns_id),
        cmocka_unit_test(test_encoding_and_whitespace_do_not_matter),
        cmocka_unit_test(test_two_hi_conversations_diverge),
        cmocka_unit_test(test_version_3_definition),
        cmocka_unit_test(test_fields_are_framed),
        cmocka_unit_test(test_tool_calls_from_every_source_agree),
        cmocka_unit_test(test_text_and_chunks_agree),
        cmocka_unit_test(test_restart_forgets_a_failed_attempt),
        cmocka_unit_test(test_only_the_field_limit_counts),
        cmocka_unit_test(test_whole_and_bytewise_canonical_text_agree),
        cmocka_unit_test(test_kept_opening_and_walk_agree),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
