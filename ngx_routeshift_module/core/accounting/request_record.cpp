#include "accounting/request_record.hpp"

#include "accounting/cost.hpp"
#include "util/json_builder.hpp"
#include "util/json_util.hpp"

#include <cstdio>
#include <ctime>

namespace routeshift {
namespace {

json_t* integer_or_null(int64_t value) {
    return require_allocated(value >= 0 ? json_integer(value) : json_null());
}

json_t* optional_string(std::string_view text) {
    return text.empty() ? require_allocated(json_null()) : new_json_string(text);
}

void set_usage(json_t* object, const Usage& usage) {
    set_json_member(object, "prompt_tokens", integer_or_null(usage.prompt_tokens));
    set_json_member(object, "completion_tokens", integer_or_null(usage.completion_tokens));
    set_json_member(object, "cached_tokens", integer_or_null(usage.cached_tokens));
}

json_t* attempt_json(const AttemptRecord& attempt) {
    json_t* object = new_json_object();
    JsonPtr owner(object);
    set_json_member(object, "provider", new_json_string(attempt.provider));
    set_json_member(object, "provider_key_id", require_allocated(json_integer(attempt.provider_key_id)));
    set_json_member(object, "model", new_json_string(attempt.model));
    set_json_member(object, "status", require_allocated(json_integer(attempt.status)));
    set_json_member(object, "latency_ms", integer_or_null(attempt.latency_ms));
    set_json_member(object, "error_class", optional_string(attempt.error_class));
    set_usage(object, attempt.usage);
    set_json_member(object, "cost_microcents", integer_or_null(attempt.cost_microcents));
    return owner.release();
}

}  // namespace

std::string iso8601_utc_ms(int64_t unix_ms) {
    time_t seconds = (time_t)(unix_ms / 1000);
    struct tm parts;
    gmtime_r(&seconds, &parts);
    char text[80];  // room for any int the compiler imagines in each field
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, (int)(unix_ms % 1000));
    return text;
}

std::string request_record_json(const RequestRecord& record) {
    JsonPtr root(new_json_object());
    json_t* object = root.get();
    set_json_member(object, "request_id", new_json_string(record.request_id));
    set_json_member(object, "ts", new_json_string(iso8601_utc_ms(record.ts_ms)));
    set_json_member(object, "node", new_json_string(record.node));
    set_json_member(object, "virtual_key_id", integer_or_null(record.virtual_key_id));
    set_json_member(object, "team_id", integer_or_null(record.team_id));
    set_json_member(object, "session_id", optional_string(record.session_id));
    set_json_member(object, "requested_model", optional_string(record.requested_model));
    set_json_member(object, "resolved_model", optional_string(record.resolved_model));
    set_json_member(object, "provider", optional_string(record.provider));
    set_json_member(object, "provider_key_id", integer_or_null(record.provider_key_id));
    set_json_member(object, "status", require_allocated(json_integer(record.status)));
    set_json_member(object, "attempts", require_allocated(json_integer((json_int_t)record.attempts.size())));
    json_t* statuses = new_json_array();
    set_json_member(object, "attempt_statuses", statuses);
    for (const AttemptRecord& attempt : record.attempts) {
        append_json_element(statuses, require_allocated(json_integer(attempt.status)));
    }
    set_json_member(object, "stream", require_allocated(json_boolean(record.stream)));
    set_json_member(object, "endpoint", optional_string(record.endpoint));
    set_usage(object, record.usage);
    set_json_member(object, "usage_estimated", require_allocated(json_boolean(record.usage_estimated)));
    set_json_member(object, "cost_microcents", integer_or_null(record.cost_microcents));
    set_json_member(object, "latency_ms", integer_or_null(record.latency_ms));
    set_json_member(object, "ttfb_ms", integer_or_null(record.ttfb_ms));
    set_json_member(object, "error", optional_string(record.error));
    std::string parse_error;
    JsonPtr metadata = json_parse(record.metadata_json, &parse_error);
    set_json_member(object, "metadata", json_is_object(metadata.get()) ? metadata.release() : new_json_object());
    json_t* tags = new_json_array();
    set_json_member(object, "tags", tags);
    for (const std::string& tag : record.tags) append_json_element(tags, new_json_string(tag));
    json_t* rules = new_json_array();
    set_json_member(object, "matched_rules", rules);
    for (int64_t id : record.matched_rules) append_json_element(rules, require_allocated(json_integer(id)));
    json_t* attempts = new_json_array();
    set_json_member(object, "attempt_details", attempts);
    for (const AttemptRecord& attempt : record.attempts) append_json_element(attempts, attempt_json(attempt));
    return json_dump_compact(object);
}

std::string loggable_metadata(std::string_view metadata_text) {
    if (metadata_text.empty()) return "{}";
    std::string error;
    JsonPtr metadata = json_parse(metadata_text, &error);
    if (!json_is_object(metadata.get())) return "{}";
    // our control fields steer the gateway; they are columns (session_id) or routing, not analytics
    json_object_del(metadata.get(), "route_hint");
    json_object_del(metadata.get(), "session_id");
    return json_dump_compact(metadata.get());
}

Usage estimate_cut_usage(uint64_t estimated_prompt_tokens, uint64_t relayed_body_bytes, bool stream) {
    constexpr uint64_t kJsonBytesPerToken = 4;
    constexpr uint64_t kSseBytesPerToken = 32;
    uint64_t per_token = stream ? kSseBytesPerToken : kJsonBytesPerToken;
    Usage usage;
    usage.prompt_tokens = (int64_t)estimated_prompt_tokens;
    usage.completion_tokens = (int64_t)((relayed_body_bytes + per_token - 1) / per_token);
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    usage.cached_tokens = -1;
    return usage;
}

int64_t attempts_cost_microcents(const std::vector<AttemptRecord>& attempts) {
    int64_t total = 0;
    for (const AttemptRecord& attempt : attempts) {
        if (attempt.cost_microcents < 0) return -1;
        total = add_microcents(total, attempt.cost_microcents);
    }
    return total;
}

}  // namespace routeshift
