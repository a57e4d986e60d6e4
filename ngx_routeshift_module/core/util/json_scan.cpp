// Strict JSON validation and DOM-free scanning (see json_scan.hpp).
#include "util/json_scan.hpp"
#include "util/json_scan_simd.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

namespace routeshift {

namespace {

using uchar = unsigned char;

#if defined(__GNUC__) || defined(__clang__)
#define RS_JSON_NOINLINE __attribute__((noinline))
#else
#define RS_JSON_NOINLINE
#endif

inline bool is_digit(uchar c) { return c >= '0' && c <= '9'; }
constexpr uint64_t kWsMask = (uint64_t{1} << ' ') | (uint64_t{1} << '\n') | (uint64_t{1} << '\r') | (uint64_t{1} << '\t');
inline bool is_ws(uchar c) { return c <= ' ' && ((kWsMask >> c) & 1); }

using json_scan_detail::skip_plain;

inline int hex_digit(uchar c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<uchar>(c | 0x20);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// The four hex digits at p, or -1.
inline int32_t hex4(const uchar* p) {
    int32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        int h = hex_digit(p[i]);
        if (h < 0) return -1;
        v = (v << 4) | h;
    }
    return v;
}

// Length of the well-formed UTF-8 sequence starting with the non-ASCII byte at q, or 0.
// Well-formed = RFC 3629: no overlong forms, no surrogates (U+D800..DFFF), nothing past U+10FFFF.
inline size_t utf8_sequence(const uchar* q, const uchar* end) {
    const uchar c = q[0];
    const size_t avail = static_cast<size_t>(end - q);
    if (c < 0xC2) return 0;  // continuation byte, or 0xC0/0xC1 (overlong ASCII)
    if (c < 0xE0) return (avail >= 2 && (q[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3) return 0;
        uchar lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;       // overlong
        else if (c == 0xED) hi = 0x9F;  // surrogates
        return (q[1] >= lo && q[1] <= hi && (q[2] & 0xC0) == 0x80) ? 3 : 0;
    }
    if (c < 0xF5) {
        if (avail < 4) return 0;
        uchar lo = 0x80, hi = 0xBF;
        if (c == 0xF0) lo = 0x90;       // overlong
        else if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
        return (q[1] >= lo && q[1] <= hi && (q[2] & 0xC0) == 0x80 && (q[3] & 0xC0) == 0x80) ? 4 : 0;
    }
    return 0;
}

// True when the decimal real [num, num_end) overflows a double (strtod would return ±HUGE_VAL).
// The magnitude is known from the digit positions except right at the boundary (1e308..1e309).
bool real_overflows(const uchar* num, const uchar* num_end, const uchar* int_begin, const uchar* int_end,
                    const uchar* frac_begin, const uchar* frac_end, int64_t exp) {
    const uchar* d = int_begin;
    while (d < int_end && *d == '0') ++d;
    int64_t mag;  // the value lies in [10^(mag-1), 10^mag)
    if (d < int_end) {
        mag = int_end - d;
    } else {
        d = frac_begin;
        while (d < frac_end && *d == '0') ++d;
        if (d == frac_end) return false;  // zero
        mag = -(d - frac_begin);
    }
    mag += exp;
    if (mag <= 308) return false;  // < 1e308 < DBL_MAX
    if (mag >= 310) return true;   // >= 1e309
    double v;
    auto res = std::from_chars(reinterpret_cast<const char*>(num), reinterpret_cast<const char*>(num_end), v);
    return res.ec == std::errc::result_out_of_range;
}

class Scanner {
public:
    Scanner(const uchar* begin, const uchar* end, const JsonScanOptions& opt)
        : p(begin), end_(end), allow_nul_(opt.allow_nul), allow_scalar_(opt.allow_scalar),
          max_depth_(opt.max_depth < kJsonMaxDepth ? opt.max_depth : kJsonMaxDepth) {}

    bool run(JsonValue* root, JsonMembers* members);

    const uchar* p;
    const char* reason = "";

private:
    bool fail(const uchar* at, const char* why) {
        p = at;
        reason = why;
        return false;
    }
    void skip_ws() {
        while (p < end_ && is_ws(*p)) ++p;
    }
    // Inline fast path of string(): a run of plain bytes up to the closing quote.
    bool string_fast(bool key, bool* escaped) {
        const uchar* q = skip_plain(p, end_);
        if (q < end_ && *q == '"') {
            p = q + 1;
            return true;
        }
        p = q;
        return string(key, escaped);
    }
    static std::string_view view(const uchar* b, const uchar* e) {
        return std::string_view(reinterpret_cast<const char*>(b), static_cast<size_t>(e - b));
    }
    RS_JSON_NOINLINE bool string(bool key, bool* escaped);  // escapes, UTF-8, errors
    bool number(JsonType* type);

    const uchar* const end_;
    const bool allow_nul_;
    const bool allow_scalar_;
    const unsigned max_depth_;
};

// p: just after the opening quote. On success p is just after the closing quote.
bool Scanner::string(bool key, bool* escaped) {
    const uchar* q = p;
    for (;;) {
        q = skip_plain(q, end_);
        if (q == end_) return fail(q, "unterminated string");
        const uchar c = *q;
        if (c == '"') {
            p = q + 1;
            return true;
        }
        if (c == '\\') {
            *escaped = true;
            if (end_ - q < 2) return fail(end_, "unterminated string");
            const uchar e = q[1];
            if (e == 'u') {
                int32_t cp = end_ - q >= 6 ? hex4(q + 2) : -1;
                if (cp < 0) return fail(q, "invalid \\u escape");
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end_ - q < 12 || q[6] != '\\' || q[7] != 'u')
                        return fail(q, "UTF-16 high surrogate not followed by a low surrogate");
                    int32_t lo = hex4(q + 8);
                    if (lo < 0) return fail(q + 6, "invalid \\u escape");
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return fail(q, "UTF-16 high surrogate not followed by a low surrogate");
                    q += 12;
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail(q, "lone UTF-16 low surrogate");
                } else {
                    if (cp == 0) {
                        if (key) return fail(q, "\\u0000 in an object key");
                        if (!allow_nul_) return fail(q, "\\u0000 in a string");
                    }
                    q += 6;
                }
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
                       e == 't') {
                q += 2;
            } else {
                return fail(q, "invalid escape");
            }
            continue;
        }
        if (c < 0x20) return fail(q, "control character in string");
        // non-ASCII text comes in runs (a word, a sentence): validate the whole run here
        do {
            size_t n = utf8_sequence(q, end_);
            if (n == 0) return fail(q, "invalid UTF-8");
            q += n;
        } while (q < end_ && *q >= 0x80);
    }
}

// p: at '-' or a digit. On success p is just after the number.
bool Scanner::number(JsonType* type) {
    const uchar* q = p;
    bool neg = false;
    if (*q == '-') {
        neg = true;
        ++q;
    }
    const uchar* int_begin = q;
    if (q == end_ || !is_digit(*q)) return fail(q, "invalid number");
    if (*q == '0') {
        ++q;  // a leading zero stands alone ("01" fails on the next token)
    } else {
        while (q < end_ && is_digit(*q)) ++q;
    }
    const uchar* int_end = q;
    const uchar* frac_begin = q;
    const uchar* frac_end = q;
    bool real = false;
    if (q < end_ && *q == '.') {
        ++q;
        frac_begin = q;
        if (q == end_ || !is_digit(*q)) return fail(q, "invalid number: digit expected after '.'");
        while (q < end_ && is_digit(*q)) ++q;
        frac_end = q;
        real = true;
    }
    int64_t exp = 0;
    if (q < end_ && (*q == 'e' || *q == 'E')) {
        ++q;
        bool eneg = false;
        if (q < end_ && (*q == '+' || *q == '-')) {
            eneg = *q == '-';
            ++q;
        }
        if (q == end_ || !is_digit(*q)) return fail(q, "invalid number: digit expected in the exponent");
        while (q < end_ && is_digit(*q)) {
            if (exp < 1000000000) exp = exp * 10 + (*q - '0');  // saturates; only the magnitude matters
            ++q;
        }
        if (eneg) exp = -exp;
        real = true;
    }
    if (!real) {
        size_t nd = static_cast<size_t>(int_end - int_begin);
        if (nd > 19 ||
            (nd == 19 && std::memcmp(int_begin, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0))
            return fail(p, "integer out of range");
        *type = JsonType::integer;
    } else {
        if (real_overflows(p, q, int_begin, int_end, frac_begin, frac_end, exp))
            return fail(p, "real number overflow");
        *type = JsonType::real;
    }
    p = q;
    return true;
}

bool Scanner::run(JsonValue* root, JsonMembers* members) {
    uint64_t stack[kJsonMaxDepth / 64];  // bit set: the container at that depth is an object
    unsigned depth = 0;
    const uchar* root_start = nullptr;
    const uchar* member_value = nullptr;
    const uchar* key_start = nullptr;
    const uchar* value_end = nullptr;
    JsonMember cur;
    JsonType t = JsonType::null;
    bool escaped = false;
    bool in_object = false;

    if (members) members->clear();
    skip_ws();
    if (p == end_) return fail(p, "empty document");
    if (!allow_scalar_ && *p != '{' && *p != '[') return fail(p, "'{' or '[' expected");
    root_start = p;

value:  // p: at the first byte of a value (whitespace skipped)
    if (depth >= max_depth_) return fail(p, "maximum nesting depth exceeded");
    if (p == end_) return fail(p, "unexpected end of input: value expected");
    switch (*p) {
    case '{':
        stack[depth >> 6] |= uint64_t{1} << (depth & 63);
        ++depth;
        ++p;
        skip_ws();
        if (p < end_ && *p == '}') {
            ++p;
            --depth;
            t = JsonType::object;
            goto after_value;
        }
        goto key;
    case '[':
        stack[depth >> 6] &= ~(uint64_t{1} << (depth & 63));
        ++depth;
        ++p;
        skip_ws();
        if (p < end_ && *p == ']') {
            ++p;
            --depth;
            t = JsonType::array;
            goto after_value;
        }
        goto value;
    case '"': {
        const uchar* open_quote = p++;
        if (!string_fast(false, &escaped)) return false;
        if (members && static_cast<size_t>(p - open_quote) > JsonMembers::kLongStringBytes + 1)
            members->add_long_string(reinterpret_cast<const char*>(open_quote), reinterpret_cast<const char*>(p - 1));
        t = JsonType::string;
        goto after_value;
    }
    case 't':
        if (end_ - p < 4 || std::memcmp(p, "true", 4) != 0) return fail(p, "invalid literal");
        p += 4;
        t = JsonType::boolean;
        goto after_value;
    case 'f':
        if (end_ - p < 5 || std::memcmp(p, "false", 5) != 0) return fail(p, "invalid literal");
        p += 5;
        t = JsonType::boolean;
        goto after_value;
    case 'n':
        if (end_ - p < 4 || std::memcmp(p, "null", 4) != 0) return fail(p, "invalid literal");
        p += 4;
        t = JsonType::null;
        goto after_value;
    case '-':
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        if (!number(&t)) return false;
        goto after_value;
    default:
        return fail(p, "value expected");
    }

key:  // p: where an object key must start (whitespace skipped)
    if (p == end_ || *p != '"') return fail(p, "object key (a string) expected");
    key_start = ++p;
    escaped = false;
    if (!string_fast(true, &escaped)) return false;
    if (depth == 1 && members) {
        cur.key = view(key_start, p - 1);
        cur.key_escaped = escaped;
    }
    skip_ws();
    if (p == end_ || *p != ':') return fail(p, "':' expected");
    ++p;
    skip_ws();
    if (depth == 1) member_value = p;
    goto value;

after_value:  // p: just after a complete value of type t
    value_end = p;
    skip_ws();
    if (depth == 0) {
        if (p != end_) return fail(p, "end of input expected after the JSON value");
        if (root) {
            root->text = view(root_start, value_end);
            root->type = t;
        }
        return true;
    }
    in_object = (stack[(depth - 1) >> 6] >> ((depth - 1) & 63)) & 1;
    if (in_object) {
        if (depth == 1 && members) {
            cur.value.text = view(member_value, value_end);
            cur.value.type = t;
            members->push_back(cur);
        }
        if (p < end_ && *p == ',') {
            ++p;
            skip_ws();
            goto key;
        }
        if (p < end_ && *p == '}') {
            ++p;
            --depth;
            t = JsonType::object;
            goto after_value;
        }
        return fail(p, "',' or '}' expected");
    }
    if (p < end_ && *p == ',') {
        ++p;
        skip_ws();
        goto value;
    }
    if (p < end_ && *p == ']') {
        ++p;
        --depth;
        t = JsonType::array;
        goto after_value;
    }
    return fail(p, "',' or ']' expected");
}

// ---- validated text ----------------------------------------------------------------------------

inline const char* skip_ws_v(const char* p, const char* end) {
    while (p < end && static_cast<uchar>(*p) <= ' ') ++p;
    return p;
}

// p: just after an opening quote of a string in validated text. Returns the position of the
// closing quote (end if none); sets *escaped when the string holds a backslash escape (only
// looked for when escaped is not null: keys are short, values are skipped without it).
// memchr finds quote candidates at libc's widest vector width; a quote is escaped exactly when an
// odd run of backslashes precedes it (in valid JSON backslashes pair up from the left).
inline const char* string_end_v(const char* p, const char* end, bool* escaped) {
    const char* const begin = p;
    for (;;) {
        const char* q = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
        if (!q) return end;
        const char* b = q;
        while (b > begin && b[-1] == '\\') --b;
        if (((q - b) & 1) == 0) {
            if (escaped && std::memchr(begin, '\\', static_cast<size_t>(q - begin))) *escaped = true;
            return q;
        }
        p = q + 1;
    }
}

// The closing quote of the string value whose opening quote is at p: from the document's list of
// long strings when it is there, else found in its bytes.
inline const char* value_string_end_v(const char* p, const char* end, const JsonMembers* document) {
    if (document) {
        if (const char* close = document->long_string_close(p)) return close;
    }
    return string_end_v(p + 1, end, nullptr);
}

const char* container_end_v(const char* p, const char* end, const JsonMembers* document) {
    int depth = 0;
    while (p < end) {
        const char c = *p;
        if (c == '"') {
            p = value_string_end_v(p, end, document) + 1;
            continue;
        }
        if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) return p + 1;
        }
        ++p;
    }
    return end;
}

// p: at the first byte of a value. Returns the position just after it.
const char* value_end_v(const char* p, const char* end, JsonType* t, const JsonMembers* document = nullptr) {
    switch (*p) {
    case '"': {
        *t = JsonType::string;
        const char* q = value_string_end_v(p, end, document);
        return q < end ? q + 1 : end;
    }
    case '{': *t = JsonType::object; return container_end_v(p, end, document);
    case '[': *t = JsonType::array; return container_end_v(p, end, document);
    case 't': *t = JsonType::boolean; return p + 4;
    case 'f': *t = JsonType::boolean; return p + 5;
    case 'n': *t = JsonType::null; return p + 4;
    default: {
        bool real = false;
        for (++p; p < end; ++p) {
            const char c = *p;
            if (c >= '0' && c <= '9') continue;
            if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
                real = true;
                continue;
            }
            break;
        }
        *t = real ? JsonType::real : JsonType::integer;
        return p;
    }
    }
}

// UTF-8 encoding of a code point <= U+10FFFF into buf; returns the length.
inline size_t utf8_encode(uint32_t cp, char* b) {
    if (cp < 0x80) {
        b[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        b[0] = static_cast<char>(0xC0 | (cp >> 6));
        b[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = static_cast<char>(0xE0 | (cp >> 12));
        b[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        b[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = static_cast<char>(0xF0 | (cp >> 18));
    b[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    b[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    b[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

// Decodes the (valid) escape at p (p[0] == '\\') into buf (4 bytes at most); sets *n and returns
// the position after it.
const char* decode_escape(const char* p, const char* end, char* buf, size_t* n) {
    *n = 1;
    switch (p[1]) {
    case 'b': buf[0] = '\b'; return p + 2;
    case 'f': buf[0] = '\f'; return p + 2;
    case 'n': buf[0] = '\n'; return p + 2;
    case 'r': buf[0] = '\r'; return p + 2;
    case 't': buf[0] = '\t'; return p + 2;
    case 'u': break;
    default: buf[0] = p[1]; return p + 2;  // '"', '\\', '/'
    }
    const uchar* u = reinterpret_cast<const uchar*>(p);
    uint32_t cp = static_cast<uint32_t>(hex4(u + 2));
    if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 12) {
        uint32_t lo = static_cast<uint32_t>(hex4(u + 8));
        *n = utf8_encode(0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), buf);
        return p + 12;
    }
    *n = utf8_encode(cp, buf);
    return p + 6;
}

// Appends the decoded value of raw string content (between the quotes) to `out`.
void decode_raw(std::string_view raw, std::string& out) {
    const char* p = raw.data();
    const char* end = p + raw.size();
    char buf[4];
    size_t n;
    while (p < end) {
        const char* bs = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(end - p)));
        if (!bs) {
            out.append(p, static_cast<size_t>(end - p));
            return;
        }
        out.append(p, static_cast<size_t>(bs - p));
        p = decode_escape(bs, end, buf, &n);
        out.append(buf, n);
    }
}

}  // namespace

// Compares raw string content with escapes (between the quotes) with a plain string, decoding on
// the fly.
bool json_escaped_equals(std::string_view raw, std::string_view s) {
    if (s.size() > raw.size()) return false;  // decoding never lengthens
    const char* p = raw.data();
    const char* end = p + raw.size();
    size_t pos = 0;
    char buf[4];
    size_t n;
    while (p < end) {
        if (*p != '\\') {
            if (pos >= s.size() || s[pos] != *p) return false;
            ++pos;
            ++p;
            continue;
        }
        p = decode_escape(p, end, buf, &n);
        if (pos + n > s.size() || std::memcmp(s.data() + pos, buf, n) != 0) return false;
        pos += n;
    }
    return pos == s.size();
}

namespace {

// Raw string content (between the quotes) against a plain string: most keys and values have no
// escapes, and then the bytes are compared as they are (inline: this runs for every key looked at).
inline bool raw_equals(std::string_view raw, bool escaped, std::string_view s) {
    return escaped ? json_escaped_equals(raw, s) : raw == s;
}

inline std::string_view inner(const JsonValue& v) { return v.text.substr(1, v.text.size() - 2); }

}  // namespace

// ---- JsonMembers ---------------------------------------------------------------------------------

void JsonMembers::rebase(const char* old_base, const char* new_base) {
    if (old_base == new_base) return;
    auto move = [&](std::string_view s) {
        if (!s.data()) return s;
        return std::string_view(new_base + (s.data() - old_base), s.size());
    };
    for (size_t i = 0; i < n_; ++i) {
        JsonMember& m = (*this)[i];
        m.key = move(m.key);
        m.value.text = move(m.value.text);
    }
    for (size_t i = 0; i < long_n_; ++i) {
        long_[i].open = new_base + (long_[i].open - old_base);
        long_[i].close = new_base + (long_[i].close - old_base);
    }
}

// ---- scanning ----------------------------------------------------------------------------------

std::string JsonScanError::to_string() const {
    char buf[48];
    std::snprintf(buf, sizeof buf, "line %d column %d: ", line, column);
    return buf + std::string(reason);
}

bool json_scan(std::string_view doc, JsonValue* root, JsonMembers* members, JsonScanError* err,
               const JsonScanOptions& opt) {
    const uchar* begin = reinterpret_cast<const uchar*>(doc.data());
    const uchar* end = begin + doc.size();
    Scanner s(begin, end, opt);
    if (s.run(root, members)) return true;
    if (members) members->clear();
    if (err) {
        const uchar* at = s.p < end ? s.p : end;
        err->offset = static_cast<size_t>(at - begin);
        err->reason = s.reason;
        int line = 1;
        const uchar* line_start = begin;
        for (const uchar* q = begin; q < at; ++q) {
            if (*q == '\n') {
                ++line;
                line_start = q + 1;
            }
        }
        int column = 1;
        for (const uchar* q = line_start; q < at; ++q)
            if ((*q & 0xC0) != 0x80) ++column;
        err->line = line;
        err->column = column;
    }
    return false;
}

// ---- readers -----------------------------------------------------------------------------------

JsonObjectReader::JsonObjectReader(JsonValue obj) : p_(nullptr), end_(nullptr) {
    if (obj.is(JsonType::object)) {
        p_ = obj.text.data() + 1;
        end_ = obj.text.data() + obj.text.size() - 1;  // the closing brace
    }
}

JsonObjectReader::JsonObjectReader(JsonValue obj, const JsonMembers& document) : JsonObjectReader(obj) {
    document_ = &document;
}

bool JsonObjectReader::next(JsonMember* m) {
    p_ = skip_ws_v(p_, end_);
    if (p_ >= end_ || *p_ != '"') return false;
    const char* kb = p_ + 1;
    bool esc = false;
    const char* ke = string_end_v(kb, end_, &esc);
    m->key = std::string_view(kb, static_cast<size_t>(ke - kb));
    m->key_escaped = esc;
    p_ = skip_ws_v(ke + 1, end_);  // at ':'
    p_ = skip_ws_v(p_ + 1, end_);
    const char* vb = p_;
    p_ = value_end_v(vb, end_, &m->value.type, document_);
    m->value.text = std::string_view(vb, static_cast<size_t>(p_ - vb));
    p_ = skip_ws_v(p_, end_);
    if (p_ < end_ && *p_ == ',') ++p_;
    return true;
}

JsonArrayReader::JsonArrayReader(JsonValue arr) : p_(nullptr), end_(nullptr) {
    if (arr.is(JsonType::array)) {
        p_ = arr.text.data() + 1;
        end_ = arr.text.data() + arr.text.size() - 1;  // the closing bracket
    }
}

JsonArrayReader::JsonArrayReader(JsonValue arr, const JsonMembers& document) : JsonArrayReader(arr) {
    document_ = &document;
}

bool JsonArrayReader::next(JsonValue* v) {
    p_ = skip_ws_v(p_, end_);
    if (p_ >= end_) return false;
    const char* vb = p_;
    p_ = value_end_v(vb, end_, &v->type, document_);
    v->text = std::string_view(vb, static_cast<size_t>(p_ - vb));
    p_ = skip_ws_v(p_, end_);
    if (p_ < end_ && *p_ == ',') ++p_;
    return true;
}

bool JsonArrayReader::next(JsonValue* v, std::string_view key, JsonValue* member) {
    return next(v, std::span<const std::string_view>(&key, 1), member);
}

bool JsonArrayReader::next(JsonValue* v, std::span<const std::string_view> keys, JsonValue* members) {
    for (size_t i = 0; i < keys.size(); i++) members[i] = JsonValue();
    p_ = skip_ws_v(p_, end_);
    if (p_ >= end_) return false;
    const char* vb = p_;
    if (*vb != '{') return next(v);
    // Walk the object's members (this also finds its end): no separate skip over the element.
    const char* q = skip_ws_v(vb + 1, end_);
    while (q < end_ && *q == '"') {
        const char* kb = q + 1;
        bool esc = false;
        const char* ke = string_end_v(kb, end_, &esc);
        q = skip_ws_v(ke + 1, end_);      // at ':'
        q = skip_ws_v(q + 1, end_);       // at the value
        JsonType t;
        const char* ve = value_end_v(q, end_, &t, document_);
        const std::string_view raw_key(kb, static_cast<size_t>(ke - kb));
        for (size_t i = 0; i < keys.size(); i++) {
            if (raw_equals(raw_key, esc, keys[i])) {
                members[i].text = std::string_view(q, static_cast<size_t>(ve - q));
                members[i].type = t;
                break;  // the keys differ: one can match
            }
        }
        q = skip_ws_v(ve, end_);
        if (q < end_ && *q == ',') q = skip_ws_v(q + 1, end_);
    }
    p_ = q < end_ ? q + 1 : end_;  // past the object's '}'
    v->text = std::string_view(vb, static_cast<size_t>(p_ - vb));
    v->type = JsonType::object;
    p_ = skip_ws_v(p_, end_);
    if (p_ < end_ && *p_ == ',') ++p_;
    return true;
}

// ---- lookups and values ------------------------------------------------------------------------

JsonValue json_find(const JsonMembers& members, std::string_view key) {
    for (size_t i = members.size(); i-- > 0;) {
        const JsonMember& m = members[i];
        if (json_key_equals(m, key)) return m.value;
    }
    return {};
}

JsonValue json_object_find(JsonValue obj, std::string_view key) {
    JsonValue found;
    JsonObjectReader r(obj);
    JsonMember m;
    while (r.next(&m))
        if (json_key_equals(m, key)) found = m.value;
    return found;
}

bool json_string_plain(JsonValue v, std::string_view* out) {
    if (!v.is(JsonType::string)) return false;
    std::string_view in = inner(v);
    if (in.find('\\') != std::string_view::npos) return false;
    *out = in;
    return true;
}

bool json_string_equals(JsonValue v, std::string_view s) {
    if (!v.is(JsonType::string)) return false;
    std::string_view in = inner(v);
    // decoding an escape shortens: a string as long as `s` equals it only without escapes (no
    // scan for a backslash unless the bytes match), a longer one only with them
    if (in.size() == s.size()) return in == s && std::memchr(in.data(), '\\', in.size()) == nullptr;
    return in.size() > s.size() && json_escaped_equals(in, s);
}

bool json_string_decode(JsonValue v, std::string* out) {
    if (!v.is(JsonType::string)) return false;
    out->clear();
    decode_raw(inner(v), *out);
    return true;
}

std::string_view json_string_text(JsonValue v, std::string* storage) {
    std::string_view plain;
    if (json_string_plain(v, &plain)) return plain;
    if (!json_string_decode(v, storage)) return {};
    return *storage;
}

bool json_string_decode_pieces(JsonValue v, bool (*piece)(void* context, std::string_view text), void* context) {
    if (!v.is(JsonType::string)) return false;
    std::string_view raw = inner(v);
    const char* p = raw.data();
    const char* end = p + raw.size();
    char buf[4];
    size_t n;
    // runs of 512 bytes growing to 4 KiB: a reader that stops early (the session digest takes at
    // most 512 canonical bytes of a 100 KB prompt) never scans the rest of a long string
    constexpr size_t kFirstRun = 512, kMaxRun = 4096;
    size_t run = kFirstRun;
    while (p < end) {
        const char* scan_end = p + std::min(static_cast<size_t>(end - p), run);
        run = std::min(run * 2, kMaxRun);
        const char* bs = static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(scan_end - p)));
        const char* run_end = bs ? bs : scan_end;
        if (run_end > p && !piece(context, std::string_view(p, static_cast<size_t>(run_end - p)))) return true;
        p = run_end;
        if (!bs) continue;
        p = decode_escape(bs, end, buf, &n);
        if (!piece(context, std::string_view(buf, n))) return true;
    }
    return true;
}

std::string json_key_decode(const JsonMember& m) {
    std::string out;
    if (!m.key_escaped) out.assign(m.key);
    else decode_raw(m.key, out);
    return out;
}

bool json_read_bool(JsonValue v, bool* out) {
    if (!v.is(JsonType::boolean)) return false;
    *out = v.text[0] == 't';
    return true;
}

bool json_read_int(JsonValue v, int64_t* out) {
    if (!v.is(JsonType::integer)) return false;
    long long x = 0;
    auto res = std::from_chars(v.text.data(), v.text.data() + v.text.size(), x);
    if (res.ec != std::errc()) return false;
    *out = static_cast<int64_t>(x);
    return true;
}

bool json_read_number(JsonValue v, double* out) {
    if (!v.is(JsonType::integer) && !v.is(JsonType::real)) return false;
    // from_chars rounds to nearest like strtod (jansson's reader), without its locale; it refuses
    // underflow ("1e-400"), which json_scan accepts and strtod reads as 0 or a subnormal
    auto res = std::from_chars(v.text.data(), v.text.data() + v.text.size(), *out);
    if (res.ec == std::errc::result_out_of_range) *out = std::strtod(std::string(v.text).c_str(), nullptr);
    else if (res.ec != std::errc()) return false;
    return true;
}

bool json_array_empty(JsonValue v) {
    if (!v.is(JsonType::array)) return false;
    const char* end = v.text.data() + v.text.size();
    return *skip_ws_v(v.text.data() + 1, end) == ']';
}

}  // namespace routeshift
