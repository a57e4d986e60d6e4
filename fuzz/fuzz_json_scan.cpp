// The request JSON scanner against jansson: json_scan accepts exactly what json_loadb accepts
// (json_scan.hpp), and the top-level members it reports decode to the values jansson holds.
#include "fuzz_support.hpp"
#include "util/json_scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view doc(reinterpret_cast<const char*>(data), size);
    // the one documented difference: jansson skips a raw NUL after a number or literal
    if (doc.find('\0') != std::string_view::npos) return 0;
    routeshift::JsonValue root;
    routeshift::JsonMembers members;
    bool scanned = routeshift::json_scan(doc, &root, &members, nullptr);
    routeshift::JsonPtr dom = routeshift::json_parse(doc, nullptr);
    fuzz::check(scanned == (dom != nullptr), scanned ? "json_scan accepts what jansson refuses" : "json_scan refuses what jansson accepts", doc);
    if (!scanned || !root.is(routeshift::JsonType::object)) return 0;
    fuzz::check(json_is_object(dom.get()), "json_scan object is not a jansson object", doc);
    std::string decoded;
    for (size_t i = 0; i < members.size(); ++i) {
        std::string key = routeshift::json_key_decode(members[i]);
        routeshift::JsonValue last = routeshift::json_find(members, key);
        json_t* value = json_object_getn(dom.get(), key.data(), key.size());
        fuzz::check(value != nullptr, "a member jansson does not have", key);
        if (last.is(routeshift::JsonType::string)) {
            fuzz::check(json_is_string(value), "string member is not a jansson string", key);
            routeshift::json_string_decode(last, &decoded);
            fuzz::check(decoded == routeshift::json_string_view(value), "string decodes differently from jansson", key);
        }
    }
    return 0;
}
