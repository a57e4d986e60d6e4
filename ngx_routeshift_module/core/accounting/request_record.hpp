// The accounting record of one client request (docs/design.md §11): what becomes one row of
// `request_logs` (sql/002 + sql/006). Built by the nginx glue in the log phase for every request
// that reached a `routeshift_pass` location, whatever its outcome (success, upstream error, blocked
// by a rule, rate-limited, cost ceiling, client gone, auth failure, bad request), and written as one
// JSON line to the spool. Never holds a secret: the virtual key only by id, the provider key only by
// id and label-free.
#pragma once
#include "egress/openai/stream_relay.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

// One upstream attempt of the request, in order.
struct AttemptRecord {
    std::string provider;            // providers.name
    int64_t provider_key_id = 0;     // provider_keys.id
    std::string model;               // the upstream model sent to the provider
    int status = 0;                  // upstream status; 502/504 no answer; 499 the client left first
    int64_t latency_ms = 0;          // from the pick to the end of the attempt
    std::string error_class;         // "" success; "http_<status>", "connect", "timeout", "cut", "client_gone"
    Usage usage;                     // what the attempt reported (-1 = unknown)
    int64_t cost_microcents = 0;     // usage × the price in force at plan time (0: no tokens);
                                     // -1 = unknown: tokens used at a model without a price
};

struct RequestRecord {
    std::string request_id;          // nginx $request_id; with ts the idempotency key
    int64_t ts_ms = 0;               // when the request arrived (unix ms, UTC)
    std::string node;                // host name of the gateway node
    int64_t virtual_key_id = -1;     // -1 = unknown (auth failed)
    int64_t team_id = -1;
    std::string session_id;          // "" = none
    std::string requested_model;     // metadata.route_hint or body.model
    std::string resolved_model;      // upstream model of the last attempt
    std::string provider;            // provider of the last attempt
    int64_t provider_key_id = -1;
    int status = 0;                  // status the client got; 0 = the client went away first
    bool stream = false;
    std::string endpoint;            // what was called: "chat_completions", "messages", relayed "files_upload", ...
    Usage usage;                     // of the answer (or the estimate when usage_estimated)
    bool usage_estimated = false;
    int64_t cost_microcents = -1;    // over every attempt; -1 = unknown (an attempt's cost is)
    int64_t latency_ms = -1;
    int64_t ttfb_ms = -1;
    std::string error;               // error code given to the client ("" on success)
    std::string metadata_json = "{}";  // the client's metadata object minus route_hint/session_id
    std::vector<std::string> tags;   // labels of the matching tag rules
    std::vector<int64_t> matched_rules;  // ids of every applying rule
    std::vector<AttemptRecord> attempts;
};

// One JSON object (no newline), the spool line format of docs/design.md §11. Member names are the
// request_logs columns; integers that are unknown (-1) are written as null.
std::string request_record_json(const RequestRecord& record);

// The metadata object to log: `metadata_text` (the raw JSON of the request's `metadata`, "" when
// absent) without our control fields route_hint and session_id, compact. "{}" when absent, not an
// object or unparsable.
std::string loggable_metadata(std::string_view metadata_text);

// Usage for an answer that was cut before the provider reported any (a broken or abandoned
// stream): the prompt from the request's one estimate (canonical/prompt_size), the completion from
// the answer bytes already relayed to the client. Relayed bytes carry JSON framing (an SSE chunk
// is ~150 bytes around one token's text), so the completion estimate is bytes / 4 for plain JSON
// and bytes / 32 for SSE; both over-count rather than under-count (it is money spent).
Usage estimate_cut_usage(uint64_t estimated_prompt_tokens, uint64_t relayed_body_bytes, bool stream);

// Total cost of the attempts: 0 for none; -1 (unknown) when any attempt used tokens at a model
// without a price -- a partial sum would pass for the whole cost (docs/design.md §12).
int64_t attempts_cost_microcents(const std::vector<AttemptRecord>& attempts);

// "2026-12-02T05:39:54.123Z" for unix ms.
std::string iso8601_utc_ms(int64_t unix_ms);

}  // namespace routeshift
