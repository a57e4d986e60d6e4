// The provider request of a relayed OpenAI endpoint (docs/design.md §21): the client's body sent
// as spans of its own bytes with a few values replaced (the model, decoded object ids), behind a
// head with the endpoint's method, path and Content-Type and the key's auth.
#pragma once
#include "config/config_snapshot.hpp"
#include "egress/openai/upstream_request.hpp"
#include "util/json_scan.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

// `size` bytes at `offset` of the client's body are sent as `bytes` instead.
struct SpanReplacement {
    size_t offset = 0;
    size_t size = 0;
    std::string bytes;
};

// `body` as pieces (SplicedBody): spans of it between the replacements (which must not overlap;
// any order), the replacements' bytes of our own. A replacement equal to the bytes it replaces
// is sent as the client's (an unchanged body is one span).
void splice_spans(std::string_view body, std::vector<SpanReplacement> replacements, SplicedBody* out);
// The same for a body of `body_size` bytes that is not in memory (nginx's temp file): every
// replacement is sent as ours (the caller leaves out those that change nothing).
void splice_spans(size_t body_size, std::vector<SpanReplacement> replacements, SplicedBody* out);

// The replacement of the value of every top-level member `key` of a scanned JSON body (`members`
// views `body`) by the JSON text `value` (duplicates all replaced: jansson keeps the last, the
// provider may keep any).
void replace_json_member(std::string_view body, const JsonMembers& members, std::string_view key,
                         std::string_view value, std::vector<SpanReplacement>* out);

// The request head: "<method> <path> HTTP/1.1", Host, Content-Type (when `content_type` is not
// empty) and Content-Length (when `has_body`), Accept (text/event-stream for a stream, else any),
// User-Agent, the key's auth headers, blank line.
std::string relay_request_head(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep,
                               std::string_view method, std::string_view path, std::string_view content_type,
                               bool has_body, size_t body_size, bool stream);

}  // namespace routeshift
