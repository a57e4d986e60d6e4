// Per-attempt upstream request construction (see upstream_request.hpp).
#include "egress/openai/upstream_request.hpp"

#include "util/percent_encoding.hpp"

#include <cstring>

namespace routeshift {

namespace {

bool header_safe(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return false;  // CR, LF, NUL and other controls
    return true;
}

// One DNS label: letters, digits, '-' (not first/last), at most 63 characters.
bool dns_label(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

bool fail(std::string* error, std::string msg) {
    if (error) *error = std::move(msg);
    return false;
}

std::string key_name(const Config& cfg, const ProviderKey& key) {
    return "provider key " + std::to_string(key.id) + " of provider '" + cfg.providers[key.provider].name + "'";
}

std::string_view azure_deployment(const ProviderKey& key, std::string_view upstream_model) {
    return key.meta.deployment.empty() ? upstream_model : std::string_view(key.meta.deployment);
}

void dump_string(std::string& out, std::string_view s) {
    out += '"';
    json_escape_append(out, s);
    out += '"';
}

}  // namespace

std::string_view provider_body_model(const Config& cfg, const ProviderKey& key, std::string_view upstream_model) {
    if (cfg.providers[key.provider].kind == ProviderKind::azure && key.meta.azure_v1())
        return azure_deployment(key, upstream_model);
    return upstream_model;
}

namespace {

// Whether an Anthropic client's `top_k` (carried in the converted body) reaches the provider: only
// the OpenAI-wire kinds whose docs accept it (Together, DashScope); OpenAI, Azure and the others
// refuse or do not define it (docs/design.md §18). An OpenAI client's own `top_k` is its to send.
bool sends_top_k(const Config& cfg, const ProviderKey& key, const ChatRequest& req) {
    if (req.anthropic_client_body.empty()) return true;
    const ProviderKind kind = cfg.providers[key.provider].kind;
    return kind == ProviderKind::together || kind == ProviderKind::dashscope;
}

// What the provider gets of a stream's `stream_options`: the client's with include_usage forced
// (the gateway accounts usage), or nothing for a provider that rejects the parameter.
bool sends_stream_options(const Config& cfg, const ProviderKey& key) {
    return !(cfg.providers[key.provider].kind == ProviderKind::azure && key.meta.azure_rejects_stream_options());
}

// Whether the provider gets the client's `metadata` (minus the members that are the gateway's own:
// route_hint, session_id). OpenAI and Azure define it (stored completions); other OpenAI-wire
// providers do not, and some reject unknown parameters.
bool sends_metadata(const Config& cfg, const ProviderKey& key) {
    const ProviderKind kind = cfg.providers[key.provider].kind;
    return kind == ProviderKind::openai || kind == ProviderKind::azure;
}

bool gateway_metadata_key(std::string_view key) { return key == "route_hint" || key == "session_id"; }

bool gateway_metadata_member(const JsonMember& m) {
    return json_key_equals(m, "route_hint") || json_key_equals(m, "session_id");
}

// Whether `metadata` (as sent) has a member that is not the gateway's.
bool has_client_metadata(JsonValue metadata) {
    if (!metadata.is(JsonType::object)) return false;
    JsonObjectReader r(metadata);
    for (JsonMember m; r.next(&m);)
        if (!gateway_metadata_member(m)) return true;
    return false;
}

bool has_client_metadata(const json_t* metadata) {
    if (!json_is_object(metadata)) return false;
    const char* k;
    size_t klen;
    json_t* v;
    json_object_keylen_foreach(const_cast<json_t*>(metadata), k, klen, v) {
        if (!gateway_metadata_key(std::string_view(k, klen))) return true;
    }
    return false;
}

// Appends to a SplicedBody. Bytes of our own that equal the client's bytes where its body
// continues (`cursor_`) are sent as the client's instead, so an unchanged compact body stays one
// span and a rewritten member splits it only around the new value. Either way the bytes are the
// same.
class PieceWriter {
public:
    PieceWriter(SplicedBody& out, std::string_view client) : out_(out), client_(client) {}

    void own(std::string_view s) {
        if (s.empty()) return;
        if (cursor_ <= client_.size() && s.size() <= client_.size() - cursor_ &&
            std::memcmp(client_.data() + cursor_, s.data(), s.size()) == 0) {
            client(client_.substr(cursor_, s.size()));
            return;
        }
        append_own(s);
    }
    // the punctuation between members: most often the client's own byte
    void own(char c) {
        if (cursor_ < client_.size() && client_[cursor_] == c) {
            client(client_.substr(cursor_, 1));
            return;
        }
        append_own(std::string_view(&c, 1));
    }

    // `s` lies in the client's body.
    void client(std::string_view s) {
        if (s.empty()) return;
        size_t offset = static_cast<size_t>(s.data() - client_.data());
        out_.size += s.size();
        cursor_ = offset + s.size();
        if (!out_.pieces.empty()) {
            SplicedBody::Piece& last = out_.pieces.back();
            if (!last.own && last.offset + last.size == offset) {
                last.size += s.size();
                return;
            }
        }
        out_.pieces.push_back({false, offset, s.size()});
    }

    // The client's `s` was replaced by what was just written: its body continues after it.
    void replaced(std::string_view s) { cursor_ = static_cast<size_t>(s.data() + s.size() - client_.data()); }

private:
    void append_own(std::string_view s) {
        out_.size += s.size();
        cursor_ = std::string_view::npos;
        if (!out_.pieces.empty() && out_.pieces.back().own) {
            out_.pieces.back().size += s.size();
        } else {
            out_.pieces.push_back({true, out_.own.size(), s.size()});
        }
        out_.own += s;
    }

    SplicedBody& out_;
    std::string_view client_;
    size_t cursor_ = 0;
};

// The top-level members build_chat_body rewrites.
enum class TopKey { other, model, metadata, stream_options, messages, top_k };

TopKey top_key(const JsonMember& m) {
    if (m.key_escaped) {
        if (json_key_equals(m, "model")) return TopKey::model;
        if (json_key_equals(m, "metadata")) return TopKey::metadata;
        if (json_key_equals(m, "stream_options")) return TopKey::stream_options;
        if (json_key_equals(m, "messages")) return TopKey::messages;
        if (json_key_equals(m, "top_k")) return TopKey::top_k;
        return TopKey::other;
    }
    std::string_view k = m.key;
    switch (k.size()) {
    case 5: return k == "model" ? TopKey::model : k == "top_k" ? TopKey::top_k : TopKey::other;
    case 8: return k == "metadata" ? TopKey::metadata : k == "messages" ? TopKey::messages : TopKey::other;
    case 14: return k == "stream_options" ? TopKey::stream_options : TopKey::other;
    default: return TopKey::other;
    }
}

// stream_options (an object, or null) with include_usage forced to true, other members copied.
void splice_stream_options(PieceWriter& out, JsonValue so) {
    if (!so.is(JsonType::object)) {
        out.own("{\"include_usage\":true}");
        return;
    }
    out.own('{');
    bool first = true, had_usage = false;
    JsonObjectReader r(so);
    for (JsonMember m; r.next(&m);) {
        if (!first) out.own(',');
        first = false;
        out.own('"');
        out.client(m.key);
        out.own("\":");
        if (json_key_equals(m, "include_usage")) {
            out.own("true");
            out.replaced(m.value.text);
            had_usage = true;
        } else {
            out.client(m.value.text);
        }
    }
    if (!had_usage) {
        if (!first) out.own(',');
        out.own("\"include_usage\":true");
    }
    out.own('}');
}

// The client's metadata object without the gateway's members (has_client_metadata was true).
void splice_client_metadata(PieceWriter& out, JsonValue metadata) {
    out.own('{');
    bool first = true;
    JsonObjectReader r(metadata);
    for (JsonMember m; r.next(&m);) {
        if (gateway_metadata_member(m)) continue;
        if (!first) out.own(',');
        first = false;
        out.own('"');
        out.client(m.key);
        out.own("\":");
        out.client(m.value.text);
    }
    out.own('}');
}

// The messages array copied with the role of "developer" messages replaced by "system" (Z.ai has
// no developer role). A message's role is its last "role" member, as in jansson; all its "role"
// members are rewritten.
void splice_developer_as_system(PieceWriter& out, JsonValue messages) {
    if (!messages.is(JsonType::array)) {
        out.client(messages.text);
        return;
    }
    const char* copied = messages.text.data();
    JsonArrayReader ar(messages);
    for (JsonValue msg, role; ar.next(&msg, "role", &role);) {
        if (!json_string_equals(role, "developer")) continue;
        JsonObjectReader r(msg);
        for (JsonMember m; r.next(&m);) {
            if (!json_key_equals(m, "role")) continue;
            out.client(std::string_view(copied, static_cast<size_t>(m.value.text.data() - copied)));
            out.own("\"system\"");
            out.replaced(m.value.text);
            copied = m.value.text.data() + m.value.text.size();
        }
    }
    out.client(std::string_view(copied, static_cast<size_t>(messages.text.data() + messages.text.size() - copied)));
}

// messages with role "developer" rewritten to "system" (Z.ai has no developer role).
void dump_messages_developer_as_system(std::string& out, const json_t* messages) {
    if (!json_is_array(messages)) {
        json_dump_append(out, messages);
        return;
    }
    out += '[';
    size_t n = json_array_size(messages);
    for (size_t i = 0; i < n; ++i) {
        if (i) out += ',';
        const json_t* m = json_array_get(messages, i);
        if (json_string_view(m, "role") != "developer") {
            json_dump_append(out, m);
            continue;
        }
        out += '{';
        bool first = true;
        const char* k;
        size_t klen;
        json_t* v;
        json_object_keylen_foreach(const_cast<json_t*>(m), k, klen, v) {
            if (!first) out += ',';
            first = false;
            std::string_view key(k, klen);
            dump_string(out, key);
            out += ':';
            if (key == "role") out += "\"system\"";
            else json_dump_append(out, v);
        }
        out += '}';
    }
    out += ']';
}

// The same from the DOM.
void dump_client_metadata(std::string& out, const json_t* metadata) {
    out += '{';
    bool first = true;
    const char* k;
    size_t klen;
    json_t* v;
    json_object_keylen_foreach(const_cast<json_t*>(metadata), k, klen, v) {
        std::string_view key(k, klen);
        if (gateway_metadata_key(key)) continue;
        if (!first) out += ',';
        first = false;
        dump_string(out, key);
        out += ':';
        json_dump_append(out, v);
    }
    out += '}';
}

// stream_options with include_usage forced to true, other keys kept in place.
void dump_stream_options(std::string& out, const json_t* so) {
    out += '{';
    bool first = true, had_usage = false;
    if (json_is_object(so)) {
        const char* k;
        size_t klen;
        json_t* v;
        json_object_keylen_foreach(const_cast<json_t*>(so), k, klen, v) {
            if (!first) out += ',';
            first = false;
            std::string_view key(k, klen);
            dump_string(out, key);
            out += ':';
            if (key == "include_usage") {
                out += "true";
                had_usage = true;
            } else {
                json_dump_append(out, v);
            }
        }
    }
    if (!had_usage) {
        if (!first) out += ',';
        out += "\"include_usage\":true";
    }
    out += '}';
}

// The rewritten chat body object, shared by the scanning and the DOM rewrite: members are appended
// in the client's order, then close() adds "model" and, for a stream, "stream_options" when the
// client sent none (the gateway needs the usage chunk).
struct ChatBodyObject {
    std::string& out;
    bool first = true;
    bool had_model = false;
    bool had_stream_options = false;

    explicit ChatBodyObject(std::string& body) : out(body) { out += '{'; }

    void separate() {
        if (!first) out += ',';
        first = false;
    }

    void close(std::string_view model, bool stream, bool stream_options) {
        if (!had_model) {
            separate();
            out += "\"model\":";
            dump_string(out, model);
        }
        if (stream && stream_options && !had_stream_options) {
            separate();
            out += "\"stream_options\":{\"include_usage\":true}";
        }
        out += '}';
    }
};

}  // namespace

bool chat_endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model, UpstreamEndpoint* out,
                   std::string* error) {
    if (key.provider >= cfg.providers.size()) return fail(error, "provider key " + std::to_string(key.id) + ": bad provider index");
    const Provider& prov = cfg.providers[key.provider];

    // Defence in depth (parse_snapshot already refuses these): nothing that could split a header.
    if (!header_safe(key.secret)) return fail(error, key_name(cfg, key) + ": secret contains control characters");
    if (!header_safe(key.meta.organization))
        return fail(error, key_name(cfg, key) + ": metadata.organization contains control characters");
    if (!header_safe(key.meta.project))
        return fail(error, key_name(cfg, key) + ": metadata.project contains control characters");

    UpstreamEndpoint ep;
    std::string base_path;
    if (prov.kind == ProviderKind::azure && prov.base_url.empty()) {
        std::string_view resource = key.meta.resource_name;
        if (resource.empty()) return fail(error, key_name(cfg, key) + ": azure key has no metadata.resource_name");
        if (!dns_label(resource))
            return fail(error, key_name(cfg, key) + ": metadata.resource_name is not a valid host label");
        std::string url = "https://" + std::string(resource) + ".openai.azure.com";
        std::string uerr;
        auto u = parse_url(url, &uerr);
        if (!u) return fail(error, key_name(cfg, key) + ": metadata.resource_name is not a valid host label");
        ep.tls = u->tls;
        ep.host = u->host;
        ep.port = u->port;
        ep.host_is_ip = u->host_is_ip;
        ep.host_header = u->host_header;
    } else {
        if (prov.base_url.empty()) return fail(error, "provider '" + prov.name + "' has no base_url");
        std::string uerr;
        auto u = parse_url(prov.base_url, &uerr);
        if (!u) return fail(error, "provider '" + prov.name + "': base_url: " + uerr);
        ep.tls = u->tls;
        ep.host = u->host;
        ep.port = u->port;
        ep.host_is_ip = u->host_is_ip;
        ep.host_header = u->host_header;
        base_path = u->path;
    }
    ep.sni = ep.host_is_ip ? std::string() : ep.host;

    ep.path = base_path;
    if (prov.kind == ProviderKind::azure) {
        if (key.meta.azure_v1()) {
            ep.path += "/openai/v1/chat/completions";
        } else {
            std::string_view dep = azure_deployment(key, upstream_model);
            if (dep.empty()) return fail(error, key_name(cfg, key) + ": no azure deployment name");
            ep.path += "/openai/deployments/";
            percent_encode_append(ep.path, dep, PercentEncode::path_segment);
            ep.path += "/chat/completions?api-version=";
            percent_encode_append(ep.path, key.meta.api_version);
        }
    } else {
        ep.path += "/chat/completions";
    }
    *out = std::move(ep);
    return true;
}

std::string SplicedBody::flatten(std::string_view client_body) const {
    std::string out;
    out.reserve(size);
    for (const Piece& p : pieces) out += piece_text(p, client_body);
    return out;
}

void splice_chat_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                      std::string_view upstream_model, SplicedBody* spliced) {
    *spliced = SplicedBody{};
    if (req.duplicate_keys) {
        std::string dom = build_chat_body_dom(cfg, key, req, upstream_model);
        spliced->size = dom.size();
        spliced->pieces.push_back({true, 0, dom.size()});
        spliced->own = std::move(dom);
        return;
    }
    const ProviderKind kind = cfg.providers[key.provider].kind;
    const std::string_view model = provider_body_model(cfg, key, upstream_model);
    std::string model_json;
    dump_string(model_json, model);

    const bool stream_options = sends_stream_options(cfg, key);
    const bool metadata = sends_metadata(cfg, key);
    const bool top_k = sends_top_k(cfg, key, req);

    spliced->pieces.reserve(8);  // a body the splice leaves alone is 1 piece; a new model makes 3
    PieceWriter out(*spliced, req.body);
    out.own('{');
    bool first = true, had_model = false, had_stream_options = false;
    for (size_t i = 0; i < req.members.size(); ++i) {
        const JsonMember& m = req.members[i];
        const TopKey k = top_key(m);
        // route_hint and session_id are ours; the client's own members go where they are defined
        if (k == TopKey::metadata && !(metadata && has_client_metadata(m.value))) continue;
        if (k == TopKey::stream_options && !(req.stream && stream_options)) continue;
        if (k == TopKey::top_k && !top_k) continue;
        if (!first) out.own(',');
        first = false;
        out.own('"');
        out.client(m.key);  // raw key bytes: valid JSON string content
        out.own("\":");
        switch (k) {
        case TopKey::model:
            out.own(model_json);  // the same bytes as the client's when the model is unchanged
            out.replaced(m.value.text);
            had_model = true;
            break;
        case TopKey::stream_options:
            splice_stream_options(out, m.value);
            out.replaced(m.value.text);
            had_stream_options = true;
            break;
        case TopKey::metadata:
            splice_client_metadata(out, m.value);
            out.replaced(m.value.text);
            break;
        case TopKey::messages:
            if (kind == ProviderKind::zai) splice_developer_as_system(out, m.value);
            else out.client(m.value.text);
            break;
        default: out.client(m.value.text); break;
        }
    }
    // as ChatBodyObject::close: the model, and for a stream the usage chunk, when the client sent none
    if (!had_model) {
        if (!first) out.own(',');
        first = false;
        out.own("\"model\":");
        out.own(model_json);
    }
    if (req.stream && stream_options && !had_stream_options) {
        if (!first) out.own(',');
        out.own("\"stream_options\":{\"include_usage\":true}");
    }
    out.own('}');
}

std::string build_chat_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                            std::string_view upstream_model) {
    if (req.duplicate_keys) return build_chat_body_dom(cfg, key, req, upstream_model);
    SplicedBody spliced;
    splice_chat_body(cfg, key, req, upstream_model, &spliced);
    return spliced.flatten(req.body);
}

std::string build_chat_body_dom(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                                std::string_view upstream_model) {
    const ProviderKind kind = cfg.providers[key.provider].kind;
    const std::string_view model = provider_body_model(cfg, key, upstream_model);
    const bool stream_options = sends_stream_options(cfg, key);
    const bool metadata = sends_metadata(cfg, key);
    const bool top_k = sends_top_k(cfg, key, req);

    std::string out;
    out.reserve(256);
    ChatBodyObject body{out};
    const json_t* root = req.dom();
    if (root && json_is_object(root)) {
        const char* k;
        size_t klen;
        json_t* v;
        json_object_keylen_foreach(const_cast<json_t*>(root), k, klen, v) {
            std::string_view key_sv(k, klen);
            if (key_sv == "metadata" && !(metadata && has_client_metadata(v))) continue;
            if (key_sv == "stream_options" && !(req.stream && stream_options)) continue;
            if (key_sv == "top_k" && !top_k) continue;
            body.separate();
            dump_string(out, key_sv);
            out += ':';
            if (key_sv == "model") {
                dump_string(out, model);
                body.had_model = true;
            } else if (key_sv == "metadata") {
                dump_client_metadata(out, v);
            } else if (key_sv == "stream_options") {
                dump_stream_options(out, v);
                body.had_stream_options = true;
            } else if (key_sv == "messages" && kind == ProviderKind::zai) {
                dump_messages_developer_as_system(out, v);
            } else {
                json_dump_append(out, v);
            }
        }
    }
    body.close(model, req.stream, stream_options);
    return out;
}

void append_provider_auth_headers(const Config& cfg, const ProviderKey& key, std::string* out_text) {
    std::string& out = *out_text;
    const Provider& prov = cfg.providers[key.provider];
    // chat_endpoint refuses unsafe values; never emit one here either.
    if (header_safe(key.secret)) {
        switch (key.auth) {
        case AuthShape::bearer:
            out += "Authorization: Bearer ";
            out += key.secret;
            out += "\r\n";
            break;
        case AuthShape::api_key:
            out += "api-key: ";
            out += key.secret;
            out += "\r\n";
            break;
        case AuthShape::x_api_key:
            out += "x-api-key: ";
            out += key.secret;
            out += "\r\n";
            break;
        case AuthShape::none: break;
        }
    }
    if (prov.kind == ProviderKind::openai) {
        std::string_view org = key.meta.organization;
        if (!org.empty() && header_safe(org)) {
            out += "OpenAI-Organization: ";
            out += org;
            out += "\r\n";
        }
        std::string_view proj = key.meta.project;
        if (!proj.empty() && header_safe(proj)) {
            out += "OpenAI-Project: ";
            out += proj;
            out += "\r\n";
        }
    }
}

std::string build_http_request_head(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep,
                                    bool stream, size_t body_size) {
    std::string out;
    out.reserve(512);
    out += "POST ";
    out += ep.path;
    out += " HTTP/1.1\r\nHost: ";
    out += ep.host_header;
    out += "\r\nContent-Type: application/json\r\nContent-Length: ";
    out += std::to_string(body_size);
    out += stream ? "\r\nAccept: text/event-stream" : "\r\nAccept: application/json";
    out += "\r\nUser-Agent: RouteShift/0.1\r\n";

    append_provider_auth_headers(cfg, key, &out);
    out += "\r\n";
    return out;
}

std::string build_http_request(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep, bool stream,
                               std::string_view body) {
    std::string out = build_http_request_head(cfg, key, ep, stream, body.size());
    out += body;
    return out;
}

}  // namespace routeshift
