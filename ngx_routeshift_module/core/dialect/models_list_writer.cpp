#include "dialect/models_list_writer.hpp"

#include "util/json_util.hpp"
#include "util/percent_encoding.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace routeshift {
namespace {

void append_openai_model(std::string& out, const ListedModel& m, int64_t created) {
    out += R"({"id":)";
    json_quoted_append(out, m.id);
    out += R"(,"object":"model","created":)";
    out += std::to_string(created);
    out += R"(,"owned_by":)";
    json_quoted_append(out, m.owned_by);
    out += '}';
}

// RFC 3339 in UTC, as Anthropic writes created_at ("2025-02-19T00:00:00Z").
std::string rfc3339(int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(text, n);
}

void append_anthropic_model(std::string& out, const ListedModel& m, const std::string& created_at) {
    out += R"({"type":"model","id":)";
    json_quoted_append(out, m.id);
    out += R"(,"display_name":)";
    json_quoted_append(out, m.id);
    out += R"(,"created_at":)";
    json_quoted_append(out, created_at);
    out += '}';
}

bool bad_limit(ApiError* err) {
    err->status = 400;
    err->type = "invalid_request_error";
    err->message = "limit: Input should be an integer between 1 and 1000.";
    err->param = "limit";
    err->code.clear();
    return false;
}

}  // namespace

std::string openai_models_list_json(std::span<const ListedModel> models, int64_t created) {
    std::string out = R"({"object":"list","data":[)";
    for (size_t i = 0; i < models.size(); i++) {
        if (i) out += ',';
        append_openai_model(out, models[i], created);
    }
    out += "]}";
    return out;
}

std::string openai_model_json(const ListedModel& model, int64_t created) {
    std::string out;
    append_openai_model(out, model, created);
    return out;
}

bool anthropic_models_page_from_query(std::string_view query, AnthropicModelsPage* page, ApiError* err) {
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        size_t eq = pair.find('=');
        std::string_view name = pair.substr(0, eq);
        std::string value = eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
        if (name == "limit") {
            size_t limit = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
            if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > 1000) return bad_limit(err);
            page->limit = limit;
        } else if (name == "after_id") {
            page->after_id = std::move(value);
        } else if (name == "before_id") {
            page->before_id = std::move(value);
        }
    }
    return true;
}

std::string anthropic_models_list_json(std::span<const ListedModel> models, int64_t created,
                                       const AnthropicModelsPage& page) {
    // The list is sorted by id: a page is a window of it. before_id pages backwards (the `limit`
    // entries just before it), as Anthropic's cursor does.
    auto position = [&](const std::string& id) {
        return static_cast<size_t>(std::find_if(models.begin(), models.end(),
                                                [&](const ListedModel& m) { return m.id == id; }) - models.begin());
    };
    size_t begin = 0, end = models.size();
    if (!page.after_id.empty()) begin = std::min(models.size(), position(page.after_id) + 1);
    if (!page.before_id.empty()) end = std::max(begin, position(page.before_id));
    bool has_more;
    if (!page.before_id.empty() && page.after_id.empty()) {
        has_more = end - begin > page.limit;
        begin = end - std::min(end - begin, page.limit);
    } else {
        has_more = end - begin > page.limit;
        end = begin + std::min(end - begin, page.limit);
    }
    const std::string created_at = rfc3339(created);
    std::string out = R"({"data":[)";
    for (size_t i = begin; i < end; i++) {
        if (i > begin) out += ',';
        append_anthropic_model(out, models[i], created_at);
    }
    out += R"(],"has_more":)";
    out += has_more ? "true" : "false";
    out += R"(,"first_id":)";
    if (begin < end) json_quoted_append(out, models[begin].id);
    else out += "null";
    out += R"(,"last_id":)";
    if (begin < end) json_quoted_append(out, models[end - 1].id);
    else out += "null";
    out += '}';
    return out;
}

std::string anthropic_model_json(const ListedModel& model, int64_t created) {
    std::string out;
    append_anthropic_model(out, model, rfc3339(created));
    return out;
}

}  // namespace routeshift
