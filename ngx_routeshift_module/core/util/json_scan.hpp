// Strict RFC 8259 JSON validation and scanning over a std::string_view, without a DOM and without
// heap allocations (except past JsonMembers::kInline top-level members). No nginx headers here.
//
// json_scan() validates a whole document: structure, the number grammar, string escapes
// (\uXXXX, surrogate pairs), UTF-8 of raw bytes (no overlong forms, no surrogates, <= U+10FFFF),
// no raw control characters in strings, a nesting limit, nothing after the value but whitespace.
// It accepts exactly what jansson's json_loadb() accepts (the DOM path of this code base), so a
// request is never valid for one and invalid for the other:
//   - integers must fit in int64 and reals must not overflow a double (jansson: "too big integer",
//     "real number overflow"); underflow is fine;
//   - a value may be nested at most 2048 deep (JSON_PARSER_MAX_DEPTH; the top-level value is depth 1);
//   - "\u0000" is refused in object keys always, in string values unless allow_nul (JSON_ALLOW_NUL);
//   - top-level scalars are accepted unless !allow_scalar (JSON_DECODE_ANY).
// One intentional difference: a raw NUL byte is never accepted, whereas jansson 2.14 silently skips
// one NUL byte directly after a number or true/false/null (a lexer quirk: "[1\0]" parses as [1]);
// json_parse (json_util.hpp) refuses a raw NUL itself, so the two readers agree on every document.
//
// The helpers below (readers, lookups, decoding) take text that json_scan() accepted; they do no
// validation of their own.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace routeshift {

enum class JsonType : uint8_t { null, boolean, integer, real, string, array, object };

// A value inside a scanned document. `text` is its exact bytes (a string includes its quotes);
// an absent value has empty text.
struct JsonValue {
    std::string_view text;
    JsonType type = JsonType::null;

    explicit operator bool() const { return !text.empty(); }
    bool is(JsonType t) const { return !text.empty() && type == t; }
    // Absent or JSON null: "not given" for optional request fields.
    bool absent_or_null() const { return text.empty() || type == JsonType::null; }
};

struct JsonMember {
    std::string_view key;      // the key's raw bytes between the quotes (escapes not decoded)
    JsonValue value;
    bool key_escaped = false;  // the key contains a backslash escape
};

// The members of the top-level object, in document order (duplicates kept). Fixed inline storage;
// the heap is used only past kInline members.
class JsonMembers {
public:
    static constexpr size_t kInline = 32;

    // The inline slots are left unconstructed (a JsonMembers is made per request and per answer
    // scanned): only the first n_ are ever read, each written by push_back first.
    JsonMembers() {}
    JsonMembers(const JsonMembers& o) : n_(o.n_), long_n_(o.long_n_), more_(o.more_) { copy_inline(o); }
    JsonMembers(JsonMembers&& o) noexcept : n_(o.n_), long_n_(o.long_n_), more_(std::move(o.more_)) {
        copy_inline(o);
    }
    JsonMembers& operator=(const JsonMembers& o) {
        if (this != &o) {
            n_ = o.n_;
            long_n_ = o.long_n_;
            more_ = o.more_;
            copy_inline(o);
        }
        return *this;
    }
    JsonMembers& operator=(JsonMembers&& o) noexcept {
        if (this != &o) {
            n_ = o.n_;
            long_n_ = o.long_n_;
            more_ = std::move(o.more_);
            copy_inline(o);
        }
        return *this;
    }

    size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    const JsonMember& operator[](size_t i) const { return i < kInline ? slots_.inline_[i] : more_[i - kInline]; }
    JsonMember& operator[](size_t i) { return i < kInline ? slots_.inline_[i] : more_[i - kInline]; }
    void clear() {
        n_ = 0;
        long_n_ = 0;
        more_.clear();
    }
    void push_back(const JsonMember& m) {
        if (n_ < kInline) slots_.inline_[n_] = m;
        else more_.push_back(m);
        ++n_;
    }
    // Moves every view by `delta` bytes: the document they point into was copied/moved elsewhere.
    void rebase(const char* old_base, const char* new_base);

    // The document's long string values (kLongStringBytes or more between the quotes), the first
    // kLongStrings of them, as json_scan() found them: a reader given this JsonMembers
    // (JsonArrayReader's second constructor) steps over them without reading their bytes again, so
    // a 100 KB prompt is read once, by the validation. Not a duty: a string not listed is skipped
    // as usual.
    static constexpr size_t kLongStrings = 8;
    static constexpr size_t kLongStringBytes = 1024;
    void add_long_string(const char* open_quote, const char* close_quote) {
        if (long_n_ < kLongStrings) long_[long_n_++] = {open_quote, close_quote};
    }
    // The closing quote of the listed long string whose opening quote is at `open_quote`, or null.
    const char* long_string_close(const char* open_quote) const {
        for (size_t i = 0; i < long_n_; ++i)
            if (long_[i].open == open_quote) return long_[i].close;
        return nullptr;
    }

private:
    // JsonMember is trivially copyable: copying the used slots byte for byte is a copy of them
    void copy_inline(const JsonMembers& o) {
        std::memcpy(static_cast<void*>(slots_.inline_), static_cast<const void*>(o.slots_.inline_),
                    std::min(n_, kInline) * sizeof(JsonMember));
        std::memcpy(static_cast<void*>(long_), static_cast<const void*>(o.long_), long_n_ * sizeof(LongString));
    }
    union Slots {
        Slots() {}
        JsonMember inline_[kInline];
    } slots_;
    struct LongString {
        const char* open;   // the opening quote
        const char* close;  // the closing quote
    };
    size_t n_ = 0;
    size_t long_n_ = 0;
    LongString long_[kLongStrings];  // the first long_n_ are set
    std::vector<JsonMember> more_;
};
static_assert(std::is_trivially_copyable_v<JsonMember> && std::is_trivially_destructible_v<JsonMember>);

inline constexpr unsigned kJsonMaxDepth = 2048;  // jansson's JSON_PARSER_MAX_DEPTH

struct JsonScanOptions {
    bool allow_nul = true;      // "\u0000" inside string values (never in keys)
    bool allow_scalar = true;   // a top-level value other than an object or array
    unsigned max_depth = kJsonMaxDepth;  // clamped to kJsonMaxDepth
};

struct JsonScanError {
    size_t offset = 0;   // byte offset of the offending byte
    int line = 0;        // 1-based
    int column = 0;      // 1-based, in characters (UTF-8 sequences count once)
    const char* reason = "";

    std::string to_string() const;  // "line 1 column 7: invalid escape"
};

// Validates `doc`. On success fills `root` (the whole value) and, if the root is an object,
// `members` (both may be null). On failure fills `err` (may be null) and returns false.
bool json_scan(std::string_view doc, JsonValue* root, JsonMembers* members, JsonScanError* err,
               const JsonScanOptions& opt = {});

inline bool json_valid(std::string_view doc, const JsonScanOptions& opt = {}) {
    return json_scan(doc, nullptr, nullptr, nullptr, opt);
}

// ---- helpers on scanned text ---------------------------------------------------------------

// Members of a nested object value, in document order.
class JsonObjectReader {
public:
    explicit JsonObjectReader(JsonValue obj);
    // Same, in the document `document` was scanned from: its long strings are stepped over.
    JsonObjectReader(JsonValue obj, const JsonMembers& document);
    bool next(JsonMember* m);

private:
    const char* p_;
    const char* end_;
    const JsonMembers* document_ = nullptr;
};

// Elements of an array value, in document order.
class JsonArrayReader {
public:
    explicit JsonArrayReader(JsonValue arr);
    // Same, in the document `document` was scanned from: its long strings are stepped over.
    JsonArrayReader(JsonValue arr, const JsonMembers& document);
    bool next(JsonValue* v);
    // Same, and when the element is an object, `member` = the value of its (last) member `key`
    // (empty when absent or not an object), found in the same pass over the element's bytes.
    bool next(JsonValue* v, std::string_view key, JsonValue* member);
    // Same for several keys: members[i] = the value of the (last) member keys[i]. One pass over
    // the element for all of them (a reader of a 100 KB message pays one skip of its content).
    bool next(JsonValue* v, std::span<const std::string_view> keys, JsonValue* members);

private:
    const char* p_;
    const char* end_;
    const JsonMembers* document_ = nullptr;
};

// True when raw string content with escapes (the bytes between the quotes) decodes to `s`.
bool json_escaped_equals(std::string_view raw, std::string_view s);

// True when the key of `m` decodes to `key` (no decoding work unless the key has escapes; inline:
// lookups compare many keys).
inline bool json_key_equals(const JsonMember& m, std::string_view key) {
    return m.key_escaped ? json_escaped_equals(m.key, key) : m.key == key;
}

// The value of the last member named `key` (jansson keeps the last of duplicate keys); empty if none.
JsonValue json_find(const JsonMembers& members, std::string_view key);
JsonValue json_object_find(JsonValue obj, std::string_view key);  // obj need not be an object

// True when `v` is a string whose decoded value equals `s`.
bool json_string_equals(JsonValue v, std::string_view s);
// The inner bytes of a string value when it has no escapes (then they are its decoded value).
bool json_string_plain(JsonValue v, std::string_view* inner);
// Decodes a string value into `out` (replacing its content). False if `v` is not a string.
bool json_string_decode(JsonValue v, std::string* out);
// Decodes a string value piece by piece, without copying it: `piece` gets the runs between escapes
// as views into `v` and each escape's decoded bytes, in order, until it returns false. False if
// `v` is not a string.
bool json_string_decode_pieces(JsonValue v, bool (*piece)(void* context, std::string_view text), void* context);
// Same, for a member's key.
std::string json_key_decode(const JsonMember& m);
// The decoded text of a string value: a view of the token when it has no escapes, else decoded
// into `storage`; "" when `v` is not a string (what jansson's json_string_value gave as "").
std::string_view json_string_text(JsonValue v, std::string* storage);

bool json_read_bool(JsonValue v, bool* out);     // false unless `v` is true/false
bool json_read_int(JsonValue v, int64_t* out);   // false unless `v` is an integer
bool json_read_number(JsonValue v, double* out); // false unless `v` is a number (integer or real)
bool json_array_empty(JsonValue v);              // `v` is [] (whitespace allowed)

}  // namespace routeshift
