// The request JSON scanner against jansson: json_scan accepts exactly what json_parse (jansson's
// json_loadb, refusing raw NUL bytes as json_scan does) accepts (json_scan.hpp), and the top-level
// members it reports decode to the values jansson holds.
// Then the readers: given the document's long strings (JsonMembers' list, which lets a reader
// jump over a listed string instead of reading it), they find exactly the elements, members and
// keyed members they find without it.
#include "fuzz_support.hpp"
#include "util/json_scan.hpp"

#include <array>

namespace {

using routeshift::JsonArrayReader;
using routeshift::JsonMember;
using routeshift::JsonMembers;
using routeshift::JsonObjectReader;
using routeshift::JsonType;
using routeshift::JsonValue;

// A listed string has at least JsonMembers::kLongStringBytes between its quotes, which random
// inputs rarely reach: each of the first kMarkers '~' bytes becomes kMarkerRun of them (still
// '~': in a string it stays a character, outside one it stays invalid). More markers than the
// list holds, so that a document with more long strings than kLongStrings is explored too.
constexpr char kMarker = '~';
constexpr size_t kMarkers = JsonMembers::kLongStrings + 4;
constexpr size_t kMarkerRun = JsonMembers::kLongStringBytes + 76;

std::string expand_markers(std::string_view in) {
    std::string out;
    size_t markers = 0;
    for (char c : in) {
        if (c == kMarker && markers < kMarkers) {
            out.append(kMarkerRun, kMarker);
            ++markers;
        } else {
            out.push_back(c);
        }
    }
    return out;
}

bool same_value(const JsonValue& a, const JsonValue& b) {
    return a.text.data() == b.text.data() && a.text.size() == b.text.size() && (a.text.empty() || a.type == b.type);
}

constexpr std::array<std::string_view, 3> kKeys = {"a", "content", "~"};
constexpr unsigned kMaxDepth = 24;
constexpr size_t kMaxVisits = 4000;  // values compared per input: keeps deep or wide inputs fast

struct Walk {
    const JsonMembers& document;
    std::string_view doc;
    size_t visits = 0;

    void value(const JsonValue& v, unsigned depth) {
        if (++visits > kMaxVisits || depth > kMaxDepth) return;
        if (v.is(JsonType::array)) array(v, depth);
        else if (v.is(JsonType::object)) object(v, depth);
    }

    void array(const JsonValue& arr, unsigned depth) {
        JsonArrayReader plain(arr), listed(arr, document);
        JsonValue a, b;
        for (;;) {
            bool more_a = plain.next(&a), more_b = listed.next(&b);
            fuzz::check(more_a == more_b, "an array has another number of elements with the long-string list", doc);
            if (!more_a) break;
            fuzz::check(same_value(a, b), "an array element differs with the long-string list", doc);
            value(a, depth + 1);
        }
        // the keyed reads: one key, then all of them in one pass
        JsonArrayReader plain_keyed(arr), listed_keyed(arr, document);
        JsonValue member_a, member_b;
        for (;;) {
            bool more_a = plain_keyed.next(&a, kKeys[1], &member_a);
            bool more_b = listed_keyed.next(&b, kKeys[1], &member_b);
            fuzz::check(more_a == more_b && (!more_a || (same_value(a, b) && same_value(member_a, member_b))),
                        "a keyed array read differs with the long-string list", doc);
            if (!more_a) break;
        }
        JsonArrayReader plain_keys(arr), listed_keys(arr, document);
        std::array<JsonValue, kKeys.size()> members_a, members_b;
        for (;;) {
            bool more_a = plain_keys.next(&a, kKeys, members_a.data());
            bool more_b = listed_keys.next(&b, kKeys, members_b.data());
            fuzz::check(more_a == more_b && (!more_a || same_value(a, b)),
                        "a several-key array read differs with the long-string list", doc);
            if (!more_a) break;
            for (size_t i = 0; i < kKeys.size(); ++i)
                fuzz::check(same_value(members_a[i], members_b[i]), "a keyed member differs with the long-string list", doc);
        }
    }

    void object(const JsonValue& obj, unsigned depth) {
        JsonObjectReader plain(obj), listed(obj, document);
        JsonMember a, b;
        for (;;) {
            bool more_a = plain.next(&a), more_b = listed.next(&b);
            fuzz::check(more_a == more_b, "an object has another number of members with the long-string list", doc);
            if (!more_a) break;
            fuzz::check(a.key.data() == b.key.data() && a.key.size() == b.key.size() &&
                            a.key_escaped == b.key_escaped && same_value(a.value, b.value),
                        "an object member differs with the long-string list", doc);
            value(a.value, depth + 1);
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string expanded = expand_markers(std::string_view(reinterpret_cast<const char*>(data), size));
    std::string_view doc(expanded);
    JsonValue root;
    JsonMembers members;
    bool scanned = routeshift::json_scan(doc, &root, &members, nullptr);
    routeshift::JsonPtr dom = routeshift::json_parse(doc, nullptr);
    fuzz::check(scanned == (dom != nullptr), scanned ? "json_scan accepts what jansson refuses" : "json_scan refuses what jansson accepts", doc);
    if (!scanned || !root.is(JsonType::object)) return 0;
    fuzz::check(json_is_object(dom.get()), "json_scan object is not a jansson object", doc);
    std::string decoded;
    for (size_t i = 0; i < members.size(); ++i) {
        std::string key = routeshift::json_key_decode(members[i]);
        JsonValue last = routeshift::json_find(members, key);
        json_t* value = json_object_getn(dom.get(), key.data(), key.size());
        fuzz::check(value != nullptr, "a member jansson does not have", key);
        if (last.is(JsonType::string)) {
            fuzz::check(json_is_string(value), "string member is not a jansson string", key);
            routeshift::json_string_decode(last, &decoded);
            fuzz::check(decoded == routeshift::json_string_view(value), "string decodes differently from jansson", key);
        }
    }
    Walk walk{members, doc};
    walk.object(root, 0);
    return 0;
}
