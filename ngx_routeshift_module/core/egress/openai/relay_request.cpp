// Provider requests of the relayed endpoints (see relay_request.hpp).
#include "egress/openai/relay_request.hpp"

#include <algorithm>

namespace routeshift {
namespace {

// `body` is empty when the client's bytes are not in memory (nothing to compare with).
void splice_spans_of(std::string_view body, size_t body_size, std::vector<SpanReplacement> replacements,
                     SplicedBody* out) {
    std::sort(replacements.begin(), replacements.end(),
              [](const SpanReplacement& a, const SpanReplacement& b) { return a.offset < b.offset; });
    out->own.clear();
    out->pieces.clear();
    out->size = 0;
    size_t at = 0;
    auto client = [&](size_t from, size_t to) {
        if (to <= from) return;
        if (!out->pieces.empty() && !out->pieces.back().own &&
            out->pieces.back().offset + out->pieces.back().size == from) {
            out->pieces.back().size += to - from;  // adjacent client spans stay one piece
        } else {
            out->pieces.push_back({false, from, to - from});
        }
        out->size += to - from;
    };
    for (const SpanReplacement& r : replacements) {
        client(at, r.offset);
        if (!body.empty() && body.substr(r.offset, r.size) == r.bytes) {
            client(r.offset, r.offset + r.size);
        } else if (!r.bytes.empty()) {
            out->pieces.push_back({true, out->own.size(), r.bytes.size()});
            out->own += r.bytes;
            out->size += r.bytes.size();
        }
        at = r.offset + r.size;
    }
    client(at, body_size);
}

}  // namespace

void splice_spans(std::string_view body, std::vector<SpanReplacement> replacements, SplicedBody* out) {
    splice_spans_of(body, body.size(), std::move(replacements), out);
}

void splice_spans(size_t body_size, std::vector<SpanReplacement> replacements, SplicedBody* out) {
    splice_spans_of({}, body_size, std::move(replacements), out);
}

void replace_json_member(std::string_view body, const JsonMembers& members, std::string_view key,
                         std::string_view value, std::vector<SpanReplacement>* out) {
    for (size_t i = 0; i < members.size(); i++) {
        const JsonMember& m = members[i];
        if (!json_key_equals(m, key) || m.value.text.empty()) continue;
        size_t offset = (size_t)(m.value.text.data() - body.data());
        out->push_back(SpanReplacement{offset, m.value.text.size(), std::string(value)});
    }
}

std::string relay_request_head(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep,
                               std::string_view method, std::string_view path, std::string_view content_type,
                               bool has_body, size_t body_size, bool stream) {
    std::string out;
    out.reserve(512);
    out += method;
    out += ' ';
    out += path;
    out += " HTTP/1.1\r\nHost: ";
    out += ep.host_header;
    out += "\r\n";
    if (!content_type.empty()) {
        out += "Content-Type: ";
        out += content_type;
        out += "\r\n";
    }
    if (has_body) {
        out += "Content-Length: ";
        out += std::to_string(body_size);
        out += "\r\n";
    }
    out += stream ? "Accept: text/event-stream\r\n" : "Accept: */*\r\n";
    out += "User-Agent: RouteShift/0.1\r\n";
    append_provider_auth_headers(cfg, key, &out);
    out += "\r\n";
    return out;
}

}  // namespace routeshift
