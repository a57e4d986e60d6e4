// JSON Schema -> Gemini Schema (OpenAPI 3.0 subset), for tool parameters and response_format.
#include "egress/gemini/gemini_internal.hpp"

#include <cstring>

namespace routeshift::gemini_internal {

namespace {

//
// The legacy `parameters` / `responseSchema` fields accept only an OpenAPI subset: keep the keywords
// Gemini documents (type, format, title, description, nullable, enum, properties, required, items,
// anyOf, min/max*, pattern, default, example, propertyOrdering), inline $ref, turn type arrays and
// {"type":"null"} alternatives into `nullable`, oneOf into anyOf, const into a one-value enum, and
// drop the rest ($schema, additionalProperties, strict, $id, $defs, examples, exclusiveMinimum,
// multipleOf, uniqueItems, patternProperties, not, if/then/else, ...). Key metadata
// {"json_schema": true} sends the schema verbatim as parametersJsonSchema / responseJsonSchema.

constexpr int kMaxSchemaDepth = 48;

const json_t* resolve_ref(const json_t* root, string_view ref, const string& param) {
    if (!ref.starts_with("#/")) invalid("only local $ref (\"#/...\") can be sent to Gemini", param);
    const json_t* cur = root;
    string_view path = ref.substr(2);
    while (!path.empty()) {
        size_t slash = path.find('/');
        string_view tok = path.substr(0, slash);
        path = slash == string_view::npos ? string_view() : path.substr(slash + 1);
        string key;  // JSON Pointer unescaping: ~1 -> '/', ~0 -> '~'
        for (size_t i = 0; i < tok.size(); ++i) {
            if (tok[i] == '~' && i + 1 < tok.size() && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
                key += tok[i + 1] == '1' ? '/' : '~';
                ++i;
            } else {
                key += tok[i];
            }
        }
        cur = json_is_object(cur) ? json_object_getn(cur, key.data(), key.size()) : nullptr;
        if (!cur) invalid("$ref \"" + string(ref) + "\" does not resolve", param);
    }
    return cur;
}

bool is_null_type_schema(const json_t* s) {
    return json_is_object(s) && json_string_view(s, "type") == "null";
}

void append_description(json_t* out, string_view extra) {
    string d(json_string_view(out, "description"));
    if (!d.empty()) d += ' ';
    d += extra;
    set_json_member(out, "description", json_string_or_invalid(d));
}

// Copies the members of `from` into `into` unless `into` already has them (used for $ref siblings
// and allOf members).
void merge_schema(json_t* into, const json_t* from) {
    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(from), k, v) {
        if (!strcmp(k, "properties") && json_is_object(json_object_get(into, "properties"))) {
            json_t* props = json_object_get(into, "properties");
            const char* pk;
            json_t* pv;
            json_object_foreach(v, pk, pv) {
                if (!json_object_get(props, pk)) set_json_member(props, pk, copy(pv));
            }
        } else if (!strcmp(k, "required") && json_is_array(json_object_get(into, "required"))) {
            json_t* req = json_object_get(into, "required");
            size_t i;
            json_t* r;
            json_array_foreach(v, i, r) append_json_element(req, copy(r));
        } else if (!json_object_get(into, k)) {
            set_json_member(into, k, copy(v));
        }
    }
}

}  // namespace

json_t* convert_schema(const json_t* s, const json_t* root, int depth, const string& param) {
    if (depth > kMaxSchemaDepth) invalid("schema is nested too deeply (or has a recursive $ref)", param);
    JsonPtr out(require_allocated(json_object()));
    if (!json_is_object(s)) return out.release();  // `true` / `{}`: any value

    // $ref: the target, with the sibling keywords (description, ...) taking precedence.
    if (const json_t* ref = json_object_get(s, "$ref"); json_is_string(ref)) {
        const json_t* target = resolve_ref(root, json_string_view(ref), param);
        JsonPtr base(convert_schema(target, root, depth + 1, param));
        JsonPtr rest(require_allocated(json_object()));
        const char* k;
        json_t* v;
        json_object_foreach(const_cast<json_t*>(s), k, v) {
            if (strcmp(k, "$ref") != 0) set_json_member(rest.get(), k, copy(v));
        }
        JsonPtr conv_rest(convert_schema(rest.get(), root, depth + 1, param));
        merge_schema(conv_rest.get(), base.get());
        return conv_rest.release();
    }

    bool nullable = false;
    // type: "x" | ["x","null"] | ["a","b"]
    const json_t* type = json_object_get(s, "type");
    string type_name;
    if (json_is_string(type)) {
        type_name = json_string_view(type);
        if (type_name == "null") nullable = true;
    } else if (json_is_array(type)) {
        std::vector<string> types;
        size_t i;
        json_t* t;
        json_array_foreach(type, i, t) {
            if (json_string_view(t) == "null") nullable = true;
            else if (json_is_string(t)) types.emplace_back(json_string_view(t));
        }
        if (types.size() == 1) {
            type_name = types[0];
        } else if (types.size() > 1) {
            json_t* any = require_allocated(json_array());
            set_json_member(out.get(), "anyOf", any);
            for (const auto& tn : types) {
                json_t* alt = require_allocated(json_object());
                append_json_element(any, alt);
                set_json_member(alt, "type", json_string_or_invalid(tn));
            }
        }
    }
    if (!type_name.empty() && type_name != "null") set_json_member(out.get(), "type", json_string_or_invalid(type_name));

    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(s), k, v) {
        string_view key(k);
        if (key == "title" || key == "description" || key == "pattern") {
            if (json_is_string(v)) set_json_member(out.get(), k, copy(v));
        } else if (key == "default" || key == "example") {
            set_json_member(out.get(), k, copy(v));
        } else if (key == "nullable") {
            if (json_is_true(v)) nullable = true;
        } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength" ||
                   key == "minProperties" || key == "maxProperties" || key == "minimum" || key == "maximum") {
            if (json_is_number(v)) set_json_member(out.get(), k, copy(v));
        } else if (key == "format") {
            string_view f = json_string_view(v);
            bool ok = (type_name == "string" && (f == "enum" || f == "date-time")) ||
                      (type_name == "integer" && (f == "int32" || f == "int64")) ||
                      (type_name == "number" && (f == "float" || f == "double"));
            if (ok) set_json_member(out.get(), k, copy(v));
        } else if (key == "properties") {
            if (!json_is_object(v)) continue;
            json_t* props = require_allocated(json_object());
            set_json_member(out.get(), "properties", props);
            const char* pk;
            json_t* pv;
            json_object_foreach(v, pk, pv) {
                set_json_member(props, pk, convert_schema(pv, root, depth + 1, param));
            }
        } else if (key == "items") {
            if (json_is_object(v)) set_json_member(out.get(), "items", convert_schema(v, root, depth + 1, param));
            else if (json_is_array(v) && json_array_size(v) > 0)  // tuple form: first item type
                set_json_member(out.get(), "items", convert_schema(json_array_get(v, 0), root, depth + 1, param));
        } else if (key == "anyOf" || key == "oneOf") {
            if (!json_is_array(v)) continue;
            std::vector<const json_t*> alts;
            size_t i;
            json_t* a;
            json_array_foreach(v, i, a) {
                if (is_null_type_schema(a)) nullable = true;
                else alts.push_back(a);
            }
            if (alts.size() == 1) {
                JsonPtr one(convert_schema(alts[0], root, depth + 1, param));
                merge_schema(out.get(), one.get());
            } else if (!alts.empty()) {
                json_t* any = require_allocated(json_array());
                set_json_member(out.get(), "anyOf", any);
                for (const json_t* alt : alts) append_json_element(any, convert_schema(alt, root, depth + 1, param));
            }
        } else if (key == "allOf") {
            if (!json_is_array(v)) continue;
            size_t i;
            json_t* a;
            json_array_foreach(v, i, a) {
                JsonPtr one(convert_schema(a, root, depth + 1, param));
                merge_schema(out.get(), one.get());
            }
        } else if (key == "const") {
            if (json_is_string(v)) {
                json_t* e = require_allocated(json_array());
                set_json_member(out.get(), "enum", e);
                append_json_element(e, copy(v));
                if (!json_object_get(out.get(), "type")) set_json_member(out.get(), "type", json_string_or_invalid("string"));
            } else {
                append_description(out.get(), "Must be " + json_dump_compact(v) + ".");
            }
        } else if (key == "propertyOrdering") {
            if (json_is_array(v)) set_json_member(out.get(), k, copy(v));
        }
        // everything else is dropped (see the comment above)
    }

    // enum: Gemini only has string enums. Other values are described instead of silently lost.
    if (const json_t* en = json_object_get(s, "enum"); json_is_array(en)) {
        bool all_strings = true;
        size_t i;
        json_t* e;
        json_array_foreach(en, i, e) {
            if (!json_is_string(e) && !json_is_null(e)) all_strings = false;
            if (json_is_null(e)) nullable = true;
        }
        if (all_strings) {
            json_t* arr = require_allocated(json_array());
            set_json_member(out.get(), "enum", arr);
            json_array_foreach(en, i, e) {
                if (json_is_string(e)) append_json_element(arr, copy(e));
            }
            if (!json_object_get(out.get(), "type")) set_json_member(out.get(), "type", json_string_or_invalid("string"));
        } else {
            append_description(out.get(), "Allowed values: " + json_dump_compact(en) + ".");
        }
    }

    // required: only names that exist in properties (Gemini rejects dangling ones)
    if (const json_t* req = json_object_get(s, "required"); json_is_array(req)) {
        const json_t* props = json_object_get(out.get(), "properties");
        JsonPtr arr(require_allocated(json_array()));
        size_t i;
        json_t* r;
        json_array_foreach(req, i, r) {
            if (json_is_string(r) && json_is_object(props) && json_object_getn(props, json_string_value(r), json_string_length(r)))
                append_json_element(arr.get(), copy(r));
        }
        if (json_array_size(arr.get()) > 0) set_json_member(out.get(), "required", arr.release());
    }
    if (nullable) set_json_member(out.get(), "nullable", json_true());
    return out.release();
}

// True for {"type":"object"} with no (or empty) properties: Gemini rejects an OBJECT parameter
// schema without properties, and a function without parameters is what it means.
bool is_empty_object_schema(const json_t* s) {
    if (!json_is_object(s)) return true;
    string_view t = json_string_view(s, "type");
    if (!t.empty() && t != "object") return false;
    const json_t* props = json_object_get(s, "properties");
    if (json_is_object(props) && json_object_size(props) > 0) return false;
    for (const char* k : {"anyOf", "oneOf", "allOf", "$ref", "enum", "items"}) {
        if (json_object_get(s, k)) return false;
    }
    return true;
}
}  // namespace routeshift::gemini_internal
