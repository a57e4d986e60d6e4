// Session stitching: the forced id, or a digest of the conversation's opening and first answer
// (see session_inference.hpp and docs/design.md §12).
#include "accounting/session_inference.hpp"
#include "util/hex.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace routeshift {
namespace {

// The id version tag: the chain of every digest starts from H(tag). A new tag (or H, or canonical
// text) gives every conversation a new id.
constexpr std::string_view kVersionTag = "routeshift-session-3";

const unsigned char* initial_chain() {
    static const auto chain = [] {
        std::array<unsigned char, kSessionDigestBytes> out;
        hash128(kVersionTag.data(), kVersionTag.size(), out.data());
        return out;
    }();
    return chain.data();
}

// Whitespace of the canonical text (collapsed or dropped); every other byte is kept as it is.
struct SpaceBytes {
    bool of[256] = {};
    constexpr SpaceBytes() { of[' '] = of['\t'] = of['\n'] = of['\r'] = true; }
};
constexpr SpaceBytes kSpaces;

#if defined(__SSE2__)
// The lanes of a 16-byte block a run cannot take at once: bytes up to 0x20, except (when
// `single_spaces`) a space whose following byte (`next`, lane by lane) is above 0x20.
inline unsigned undecided_lanes(__m128i bytes, __m128i next, bool single_spaces) {
    const __m128i limit = _mm_set1_epi8(0x20);
    // unsigned byte <= 0x20 exactly when min(byte, 0x20) == byte
    unsigned low = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(bytes, limit), bytes));
    unsigned next_low = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(next, limit), next));
    unsigned spaces = single_spaces ? (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(' '))) : 0u;
    return low & ~(spaces & ~next_low);
}
#endif

// Where a run of kept bytes (with single spaces between them when `single_spaces`) that starts at
// `p` ends, at most at `stop`; `begin` (<= p) is where the text starts. Prose is mostly such a run:
// 16 bytes a step with SSE2 (x86-64 baseline) while every byte is above 0x20 or a space before
// such a byte, the last bytes too (the block that ends at `stop`); anything else below 0x21
// (whitespace, control bytes) is decided a byte at a time.
const unsigned char* plain_run_end(const unsigned char* begin, const unsigned char* p, const unsigned char* stop,
                                   bool single_spaces) {
    while (p < stop) {
#if defined(__SSE2__)
        while (stop - p > 16) {  // 17 bytes readable: the byte after a space at the last lane
            unsigned undecided = undecided_lanes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                                                 _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1)), single_spaces);
            if (undecided == 0) {
                p += 16;
                continue;
            }
            p += __builtin_ctz(undecided);
            break;
        }
        if (stop - p <= 16 && stop - begin >= 16) {
            // the last block: the 16 bytes that end at `stop` (those before `p` are text already
            // taken, masked off); the byte after `stop` is not read: the last lane's next counts as
            // low, so a space there is left to the byte-wise step, as it would be
            const unsigned char* base = stop - 16;
            __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base));
            unsigned undecided = undecided_lanes(bytes, _mm_srli_si128(bytes, 1), single_spaces) >> (p - base);
            p += __builtin_ctz(undecided | (1u << (stop - p)));
            if (p >= stop) break;
        }
#endif
        if (p >= stop) break;
        if (!kSpaces.of[*p]) {
            ++p;
        } else if (single_spaces && *p == ' ' && p + 1 < stop && !kSpaces.of[p[1]]) {
            p += 2;
        } else {
            break;
        }
    }
    return p;
}

// The roles the digest tells apart, read once per message (a role with escapes is decoded).
enum class Role : uint8_t { instructions, user, assistant, other };  // instructions: system, developer

Role role_of(JsonValue role) {
    std::string_view name;
    if (json_string_plain(role, &name)) {
        if (name == "user") return Role::user;
        if (name == "assistant") return Role::assistant;
        if (name == "system" || name == "developer") return Role::instructions;
        return Role::other;
    }
    if (json_string_equals(role, "user")) return Role::user;
    if (json_string_equals(role, "assistant")) return Role::assistant;
    if (json_string_equals(role, "system") || json_string_equals(role, "developer")) return Role::instructions;
    return Role::other;
}

// The members of a message (or tool call) the digest reads; the last duplicate wins, as in jansson.
struct MessageFields {
    JsonValue role, content, tool_calls;
};

// message_fields' keys, for JsonArrayReader::next: the fields found in the same pass that finds
// the message's end (a 100 KB message is skipped once, not twice).
constexpr std::string_view kMessageKeys[] = {"role", "content", "tool_calls"};

MessageFields message_fields(JsonValue message) {
    MessageFields f;
    JsonObjectReader reader(message);
    for (JsonMember m; reader.next(&m);) {
        if (json_key_equals(m, "role")) f.role = m.value;
        else if (json_key_equals(m, "content")) f.content = m.value;
        else if (json_key_equals(m, "tool_calls")) f.tool_calls = m.value;
    }
    return f;
}

// Content as the digest sees it: a string, or an array's text parts (other parts as their JSON
// when `other_parts`; an assistant message's refusal parts are not echoed by every client).
void hash_content(CanonicalTextHash& hash, JsonValue content, bool other_parts) {
    using Spacing = CanonicalTextHash::Spacing;
    if (content.is(JsonType::string)) {
        hash.json_value(content, Spacing::collapse);
        return;
    }
    if (!content.is(JsonType::array)) return;
    JsonArrayReader parts(content);
    JsonValue type;
    for (JsonValue part; parts.next(&part, "type", &type);) {
        if (json_string_equals(type, "text")) hash.json_value(json_object_find(part, "text"), Spacing::collapse);
        else if (other_parts) hash.json_value(part, Spacing::drop);
    }
}

}  // namespace

bool check_forced_session_id(std::string_view id, ApiError* error) {
    const char* problem = nullptr;
    if (id.empty() || id.size() > kMaxSessionIdBytes) {
        problem = "at most 128 bytes";
    } else if (id.front() == ' ' || id.back() == ' ') {
        problem = "without leading or trailing spaces";
    } else {
        for (char c : id) {
            if (c < 0x20 || c > 0x7e) {
                problem = "printable ASCII characters only";
                break;
            }
        }
    }
    if (problem == nullptr) return true;
    error->status = 400;
    error->type = "invalid_request_error";
    error->message = std::string("Invalid 'metadata.session_id': expected 1 to 128 printable ASCII characters (") +
                     problem + ").";
    error->param = "metadata.session_id";
    error->code = "invalid_session_id";
    return false;
}

// ---- CanonicalTextHash ------------------------------------------------------------------------

CanonicalTextHash::CanonicalTextHash() { reset(); }

void CanonicalTextHash::text(std::string_view decoded, Spacing spacing) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(decoded.data());
    const unsigned char* end = p + decoded.size();
    unsigned char* field = block_ + kSessionDigestBytes;
    const bool collapse = spacing == Spacing::collapse;
    while (p < end && field_bytes_ < kSessionFieldLimit) {
        if (kSpaces.of[*p]) {
            // collapsed: one space between words, none at the field's start or end
            if (collapse && field_bytes_ > 0) pending_space_ = true;
            ++p;
            continue;
        }
        if (pending_space_) {
            field[field_bytes_++] = ' ';
            pending_space_ = false;
            if (field_bytes_ == kSessionFieldLimit) break;
        }
        // kept bytes and single spaces between them (prose) are copied in one piece
        const unsigned char* run = p;
        const unsigned char* stop = p + std::min(static_cast<size_t>(end - p), kSessionFieldLimit - field_bytes_);
        p = plain_run_end(reinterpret_cast<const unsigned char*>(decoded.data()), p, stop, collapse);
        std::memcpy(field + field_bytes_, run, static_cast<size_t>(p - run));
        field_bytes_ += static_cast<size_t>(p - run);
    }
}

void CanonicalTextHash::json_value(JsonValue value, Spacing spacing) {
    if (value.absent_or_null()) return;
    if (!value.is(JsonType::string)) {
        text(value.text, spacing);
        return;
    }
    struct Feed {
        CanonicalTextHash* hash;
        Spacing spacing;
    } feed{this, spacing};
    json_string_decode_pieces(
        value,
        [](void* context, std::string_view piece) {
            auto* f = static_cast<Feed*>(context);
            f->hash->text(piece, f->spacing);
            return f->hash->field_bytes_ < kSessionFieldLimit;
        },
        &feed);
}

void CanonicalTextHash::end_field() {
    hash128(block_, kSessionDigestBytes + field_bytes_, block_);  // the new chain value
    field_bytes_ = 0;
    pending_space_ = false;
}

void CanonicalTextHash::digest(unsigned char out[kSessionDigestBytes]) {
    // a trailing field without canonical bytes is not hashed: the opening and the tool calls end
    // each of their fields themselves, the answer's content is one field never ended
    if (field_bytes_ != 0) end_field();
    std::memcpy(out, block_, kSessionDigestBytes);
    reset();
}

void CanonicalTextHash::reset() {
    std::memcpy(block_, initial_chain(), kSessionDigestBytes);
    field_bytes_ = 0;
    pending_space_ = false;
}

// ---- SessionInference -------------------------------------------------------------------------

void SessionInference::begin(const ChatRequest& request, int64_t caller_id) {
    using Spacing = CanonicalTextHash::Spacing;
    if (!request.session_id.empty()) {
        // forced (checked by the caller: at most kMaxSessionIdBytes)
        id_size_ = std::min(request.session_id.size(), sizeof id_);
        std::memcpy(id_, request.session_id.data(), id_size_);
        return;
    }
    CanonicalTextHash opening;  // the version tag is its chain's start
    char digits[24];
    opening.text(std::string_view(digits, std::to_chars(digits, digits + sizeof digits, caller_id).ptr - digits),
                 Spacing::collapse);
    opening.end_field();
    // the end user the client names, when it does: two users' "hi" differ even with equal answers
    // (both found in one pass over the top-level members; the last duplicate wins, as in json_find)
    JsonValue user, safety_identifier;
    for (size_t i = 0; i < request.members.size(); ++i) {
        const JsonMember& m = request.members[i];
        if (json_key_equals(m, "user")) user = m.value;
        else if (json_key_equals(m, "safety_identifier")) safety_identifier = m.value;
    }
    opening.json_value(user, Spacing::collapse);
    opening.end_field();
    opening.json_value(safety_identifier, Spacing::collapse);
    opening.end_field();

    // The opening's messages: from the request check's pass when it kept them, else one walk
    // (role, content and tool calls found in the pass that finds each message's end).
    bool first_user = true;
    // true when the message ended the opening (a later turn: the id is known)
    auto feed = [&](const MessageFields& f) {
        const Role role = role_of(f.role);
        if (role == Role::assistant) {
            // a later turn: everything the id needs is in the request
            opening.digest(opening_);
            feed_assistant_message(f.content, f.tool_calls);
            finish_id();
            return true;
        }
        if (role == Role::instructions) {
            opening.text("S", Spacing::collapse);
        } else if (first_user && role == Role::user) {
            opening.text("U", Spacing::collapse);
            first_user = false;
        } else {
            return false;
        }
        opening.end_field();
        hash_content(opening, f.content, true);
        opening.end_field();
        return false;
    };
    if (request.opening_known) {
        for (size_t i = 0; i < request.opening_count; ++i) {
            const ChatRequest::MessageMembers& m = request.opening[i];
            if (feed(MessageFields{m.role, m.content, m.tool_calls})) return;
        }
    } else {
        JsonArrayReader messages(json_find(request.members, "messages"), request.members);
        JsonValue found[std::size(kMessageKeys)];
        for (JsonValue message; messages.next(&message, kMessageKeys, found);) {
            if (!message.is(JsonType::object)) continue;
            if (feed(MessageFields{found[0], found[1], found[2]})) return;
        }
    }
    opening.digest(opening_);
    awaiting_ = true;  // a first turn: the answer completes the id
}

void SessionInference::feed_assistant_message(JsonValue content, JsonValue tool_calls) {
    hash_content(content_, content, false);
    JsonArrayReader calls(tool_calls);
    for (JsonValue call; calls.next(&call);) {
        JsonValue function = json_object_find(call, "function");
        start_tool_call();
        tools_.json_value(json_object_find(function, "name"), CanonicalTextHash::Spacing::collapse);
        tools_.end_field();
        tools_.json_value(json_object_find(function, "arguments"), CanonicalTextHash::Spacing::drop);
    }
    end_tool_call();
}

void SessionInference::start_tool_call() {
    end_tool_call();
    in_tool_call_ = true;
}

void SessionInference::end_tool_call() {
    if (!in_tool_call_) return;
    tools_.end_field();
    in_tool_call_ = false;
}

void SessionInference::finish_id() {
    unsigned char parts[3 * kSessionDigestBytes];
    std::memcpy(parts, opening_, kSessionDigestBytes);
    content_.digest(parts + kSessionDigestBytes);
    tools_.digest(parts + 2 * kSessionDigestBytes);
    unsigned char digest[kSessionDigestBytes];
    hash128(parts, sizeof parts, digest);
    // 128 bits: collisions only between conversations that hash alike
    static_assert(4 + 2 * kSessionDigestBytes <= kMaxSessionIdBytes);
    std::memcpy(id_, "ses_", 4);
    id_size_ = static_cast<size_t>(write_hex(id_ + 4, digest, sizeof digest) - id_);
}

void SessionInference::restart_answer() {
    if (!awaiting_) return;
    content_.reset();
    tools_.reset();
    in_tool_call_ = false;
    tool_index_ = 0;
}

void SessionInference::answer_text(std::string_view text) {
    if (awaiting_) content_.text(text, CanonicalTextHash::Spacing::collapse);
}

void SessionInference::answer_tool_call(size_t index, std::string_view name, std::string_view arguments) {
    if (!awaiting_) return;
    start_tool_call();
    tool_index_ = index;
    tools_.text(name, CanonicalTextHash::Spacing::collapse);
    tools_.end_field();
    tools_.text(arguments, CanonicalTextHash::Spacing::drop);
}

void SessionInference::answer_tool_arguments(size_t index, std::string_view arguments) {
    // calls stream one after the other; a delta of another call than the current one is not
    // hashed (no provider interleaves them; the id would then not match the next turn's)
    if (awaiting_ && in_tool_call_ && index == tool_index_) tools_.text(arguments, CanonicalTextHash::Spacing::drop);
}

void SessionInference::answer_openai_chunk(std::string_view data) {
    if (!awaiting_ || data.empty() || data.front() != '{') return;
    JsonValue root;
    JsonMembers top;
    if (!json_scan(data, &root, &top, nullptr) || !root.is(JsonType::object)) return;
    JsonArrayReader choices(json_find(top, "choices"));
    JsonValue index_value;
    for (JsonValue choice; choices.next(&choice, "index", &index_value);) {
        int64_t index = 0;
        if (json_read_int(index_value, &index) && index != 0) continue;
        JsonValue delta = json_object_find(choice, "delta");
        content_.json_value(json_object_find(delta, "content"), CanonicalTextHash::Spacing::collapse);
        JsonArrayReader calls(json_object_find(delta, "tool_calls"));
        JsonValue call_index;
        for (JsonValue call; calls.next(&call, "index", &call_index);) {
            int64_t position = 0;
            if (!json_read_int(call_index, &position) || position < 0) continue;
            JsonValue function = json_object_find(call, "function");
            JsonValue name = json_object_find(function, "name");
            if (name.is(JsonType::string)) {  // the call's first delta names it
                start_tool_call();
                tool_index_ = static_cast<size_t>(position);
                tools_.json_value(name, CanonicalTextHash::Spacing::collapse);
                tools_.end_field();
            } else if (!in_tool_call_ || static_cast<size_t>(position) != tool_index_) {
                continue;
            }
            tools_.json_value(json_object_find(function, "arguments"), CanonicalTextHash::Spacing::drop);
        }
        return;  // choice 0 appears once per chunk
    }
}

void SessionInference::answer_openai_completion(std::string_view body) {
    if (!awaiting_) return;
    JsonValue root;
    JsonMembers top;
    if (json_scan(body, &root, &top, nullptr) && root.is(JsonType::object)) answer_openai_completion(top);
}

void SessionInference::answer_openai_completion(const JsonMembers& top) {
    if (!awaiting_) return;
    JsonArrayReader choices(json_find(top, "choices"));
    static constexpr std::string_view kChoiceKeys[] = {"index", "message"};
    JsonValue found[std::size(kChoiceKeys)];  // found in the pass that finds the choice's end
    for (JsonValue choice; choices.next(&choice, kChoiceKeys, found);) {
        int64_t index = 0;
        if (json_read_int(found[0], &index) && index != 0) continue;
        MessageFields f = message_fields(found[1]);
        feed_assistant_message(f.content, f.tool_calls);
        return;
    }
}

void SessionInference::complete_answer() {
    if (!awaiting_) return;
    end_tool_call();
    finish_id();
    awaiting_ = false;
}

}  // namespace routeshift
