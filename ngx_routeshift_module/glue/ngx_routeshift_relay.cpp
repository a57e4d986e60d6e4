// The OpenAI endpoints other than chat, relayed to OpenAI-wire providers (docs/design.md §21):
// a JSON body is read in memory like chat's (one buffer, bounded by routeshift_max_body_size), a
// multipart one by nginx's reader (its temp file beyond client_body_buffer_size:
// ngx_routeshift_body_file.cpp); both are checked without a DOM (JSON: json_scan; multipart: its
// part headers and small fields, read through windows), the call is planned
// (a model: the planner with only OpenAI-wire keys; no model: the files provider; an object id:
// the key that holds the object), and each attempt sends the client's bytes as spans with the
// model and decoded ids replaced. Retries, cooldowns, holding and accounting are chat's.
#include "ngx_routeshift.hpp"

#include "egress/openai/object_owner.hpp"
#include "egress/openai/owner_list_pages.hpp"
#include "egress/openai/relay_answer.hpp"
#include "egress/openai/relay_request.hpp"
#include "ingress/multipart_model_field.hpp"
#include "ingress/openai_relay_endpoints.hpp"
#include "ingress/openai_relay_plan.hpp"
#include "routing/model_resolver.hpp"
#include "util/json_util.hpp"
#include "util/percent_encoding.hpp"

namespace routeshift {

// What the relay knows about the call between planning and the attempts.
struct RelayCall {
    RelayRoute route;
    std::string path;                 // the client's path (errors)
    std::string content_type;         // multipart: the client's (its boundary); else ours
    JsonMembers members;              // a JSON body's top-level members (view the body)
    bool has_model = false;
    size_t model_offset = 0;          // the model value in the body: a JSON string token, or a multipart field
    size_t model_size = 0;
    std::string provider_object_id;   // the path's object, decoded
    std::vector<SpanReplacement> fixed;  // decoded ids in the body (input_file_id, previous_response_id)
    std::string query;                // the client's query, ids decoded
    std::string gathered_body;        // a small multipart body nginx left in several buffers
    // A files/batches list: the caller's objects gathered over the provider's pages
    // (owner_list_pages.hpp); `page_due`: the next provider page's attempt is being started.
    std::optional<OwnerListPager> pages;
    bool page_due = false;
};

namespace {

ngx_int_t fail_with(RequestCtx& ctx, int status, std::string message, std::string param, std::string code) {
    ctx.fail(status, std::move(message), status == 404 ? "invalid_request_error" : openai_error_type_for_status(status),
             std::move(param), std::move(code));
    return finalize_error(ctx);
}

ngx_int_t fail_with(RequestCtx& ctx, const ApiError& e) {
    ctx.error = e;
    ctx.phase = Phase::failed;
    return finalize_error(ctx);
}

// A relay plan's environment: the glue's, with every key that does not speak the OpenAI wire
// unusable (the endpoints exist only there).
class RelayEnvironment final : public PlanEnvironment {
public:
    RelayEnvironment(RequestCtx& ctx, std::unique_ptr<PlanEnvironment> glue) : ctx_(ctx), glue_(std::move(glue)) {}
    const UpstreamEndpoint* endpoint(size_t key, const std::string& model, bool stream, std::string* error) override {
        if (ctx_.cfg->keys[key].wire != WireFormat::openai) {
            *error = "the endpoint exists only on the OpenAI wire";
            return nullptr;
        }
        return glue_->endpoint(key, model, stream, error);
    }
    KeyHealth health(std::span<const PlannedCandidate> candidates) override { return glue_->health(candidates); }

private:
    RequestCtx& ctx_;
    std::unique_ptr<PlanEnvironment> glue_;
};

// The key of a client's object id (of the caller's team, issued by that key), or 404. A list
// cursor (list_cursor) names no object: only a list's `after` (`cursor`) takes it, as its position.
bool object_key(RequestCtx& ctx, std::string_view client_id, ProviderObjectKind kind, size_t* key_index,
                std::string* provider_id, bool cursor = false) {
    ParsedProviderObjectId parsed;
    std::optional<size_t> ki;
    std::string_view position;
    if (parse_provider_object_id(client_id, kind, &parsed) && (ki = key_index_by_id(*ctx.cfg, parsed.key_id)) &&
        provider_object_id_authentic(parsed, ctx.cfg->keys[*ki].secret, ctx.vk->team_id)) {
        bool is_cursor = list_cursor_position(parsed.provider_id, &position);
        if (!is_cursor || cursor) {
            *key_index = *ki;
            *provider_id = is_cursor ? std::string(position) : std::move(parsed.provider_id);
            return true;
        }
    }
    std::string shown(client_id.substr(0, 128));
    for (char& c : shown)
        if ((unsigned char)c < 0x20 || c == '"' || c == '\\') c = '?';
    std::string what = kind == ProviderObjectKind::file ? "File" : kind == ProviderObjectKind::batch ? "Batch" : "Response";
    ctx.fail(404, "No such " + what + " object: " + shown, "invalid_request_error", "", "not_found");
    return false;
}

// A JSON string member that carries a client id: decoded, pinned to its key, replaced in the body.
bool pin_body_id(RequestCtx& ctx, RelayCall& call, std::string_view body, std::string_view member,
                 ProviderObjectKind kind, std::optional<size_t>* pinned) {
    JsonValue v = json_find(call.members, member);
    if (v.absent_or_null()) return true;
    std::string client_id;
    if (!v.is(JsonType::string) || !json_string_decode(v, &client_id)) {
        ctx.fail(400, "'" + std::string(member) + "' must be a string.", "invalid_request_error", std::string(member),
                 "invalid_type");
        return false;
    }
    size_t key_index;
    std::string provider_id;
    if (!object_key(ctx, client_id, kind, &key_index, &provider_id)) return false;
    if (*pinned && **pinned != key_index) {
        ctx.fail(400, "The objects this request names are held by different provider accounts.",
                 "invalid_request_error", std::string(member), "objects_on_different_keys");
        return false;
    }
    *pinned = key_index;
    std::string quoted;
    json_quoted_append(quoted, provider_id);
    replace_json_member(body, call.members, member, quoted, &call.fixed);
    return true;
}

// A files/batches list's `limit`: the client's is kept for the answer, the provider is asked for its
// largest pages (the answer keeps only the caller's team's objects, gathered over as many provider
// pages as it takes: owner_list_pages.hpp).
void list_limit_query(RequestCtx& ctx, RelayCall& call, std::string_view client_limit, bool given) {
    OwnerListLimits limits;
    if (!owner_list_limits(call.route.endpoint, &limits)) return;
    size_t limit = 0;
    bool number = given && !client_limit.empty() && client_limit.size() <= 6;
    for (char c : client_limit) number = number && c >= '0' && c <= '9';
    if (number) limit = (size_t)std::stoul(std::string(client_limit));
    if (given && (!number || limit == 0 || limit > limits.fetch)) {
        if (!call.query.empty()) call.query += '&';  // not a page size the provider takes: it judges it
        call.query += "limit=";
        call.query.append(client_limit);
        // should it answer a list all the same, that page is still the caller's objects only
        call.pages.emplace(ctx.vk->team_id, SIZE_MAX, 1);
        return;
    }
    call.pages.emplace(ctx.vk->team_id, given ? limit : limits.client_default, limits.max_pages);
    if (!call.query.empty()) call.query += '&';
    call.query += "limit=" + std::to_string(limits.fetch);
}

// A later provider page's query: the call's, its `after` the provider's last id of the page before.
std::string next_page_query(std::string_view query, std::string_view after) {
    std::string out;
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.substr(0, 6) == "after=" || pair == "after") continue;
        if (!out.empty()) out += '&';
        out += pair;
    }
    if (!out.empty()) out += '&';
    out += "after=";
    percent_encode_append(out, after);
    return out;
}

// The client's query with list cursors (`after`, `before`) decoded from client ids, and a list's
// page size (list_limit_query).
bool relay_query(RequestCtx& ctx, RelayCall& call) {
    std::string_view args = string_view_of(ctx.r->args);
    for (unsigned char c : args) {
        if (c <= 0x20 || c == 0x7f) {
            ctx.fail(400, "The query string is malformed.", "invalid_request_error", "", "invalid_query");
            return false;
        }
    }
    ProviderObjectKind kind;
    if (!relay_answer_object_kind(call.route.endpoint, &kind)) kind = call.route.object_kind;
    bool limit_given = false;
    std::string_view client_limit;
    while (!args.empty()) {
        size_t amp = args.find('&');
        std::string_view pair = args.substr(0, amp);
        args = amp == std::string_view::npos ? std::string_view{} : args.substr(amp + 1);
        size_t eq = pair.find('=');
        std::string_view name = pair.substr(0, eq);
        OwnerListLimits limits;
        if (name == "limit" && eq != std::string_view::npos && owner_list_limits(call.route.endpoint, &limits)) {
            limit_given = true;
            client_limit = pair.substr(eq + 1);  // the last one wins, as the provider's parser does
            continue;
        }
        if (!call.query.empty()) call.query += '&';
        if (eq == std::string_view::npos || (name != "after" && name != "before")) {
            call.query += pair;
            continue;
        }
        std::string value = percent_decode(pair.substr(eq + 1));
        ParsedProviderObjectId parsed;
        if (!parse_provider_object_id(value, kind, &parsed)) {
            call.query += pair;  // not one of ours: the provider judges it
            continue;
        }
        size_t key_index;
        std::string provider_id;
        if (!object_key(ctx, value, kind, &key_index, &provider_id, name == "after")) return false;
        call.query += name;
        call.query += '=';
        percent_encode_append(call.query, provider_id);
    }
    list_limit_query(ctx, call, client_limit, limit_given);
    return true;
}

// A JSON body: validated, its model (and stream flag) found without a DOM.
bool read_json_body(RequestCtx& ctx, RelayCall& call, std::string_view body, std::string* model) {
    JsonValue root;
    if (!json_scan(body, &root, &call.members, nullptr) || !root.is(JsonType::object)) {
        ctx.fail(400, "We could not parse the JSON body of your request: it must be a JSON object.",
                 "invalid_request_error", "", "invalid_json");
        return false;
    }
    JsonValue stream = json_find(call.members, "stream");
    if (!stream.absent_or_null() && !json_read_bool(stream, &ctx.req.stream)) {
        ctx.fail(400, "'stream' must be a boolean.", "invalid_request_error", "stream", "invalid_type");
        return false;
    }
    JsonValue m = json_find(call.members, "model");
    if (m.absent_or_null() || !call.route.names_model) return true;
    if (!m.is(JsonType::string) || !json_string_decode(m, model)) {
        ctx.fail(400, "'model' must be a string.", "invalid_request_error", "model", "invalid_type");
        return false;
    }
    call.has_model = true;
    call.model_offset = (size_t)(m.text.data() - body.data());
    call.model_size = m.text.size();
    return true;
}

// A multipart body: its boundary and small fields, read through `source` (the file parts are
// searched for the next delimiter, never kept).
bool read_multipart_body(RequestCtx& ctx, RelayCall& call, BodySource& source, std::string* model) {
    std::string_view content_type =
        ctx.r->headers_in.content_type ? string_view_of(ctx.r->headers_in.content_type->value) : std::string_view{};
    std::string boundary;
    if (!multipart_boundary(content_type, &boundary)) {
        ctx.fail(400, "This endpoint takes multipart/form-data with a boundary.", "invalid_request_error", "",
                 "invalid_content_type");
        return false;
    }
    MultipartFields fields;
    std::string error;
    auto read_failed = [&] {
        ngx_log_error(NGX_LOG_ERR, ctx.r->connection->log, ngx_errno, "routeshift: reading the upload's temp file failed");
        ctx.fail(500, "The request body could not be read.", "server_error", "", "body_unreadable");
        return false;
    };
    if (!read_multipart_fields(source, boundary, &fields, &error)) {
        if (fields.read_failed) return read_failed();
        ctx.fail(400, error, "invalid_request_error", "", "invalid_multipart");
        return false;
    }
    call.content_type.assign(content_type);
    if (call.route.endpoint == RelayEndpoint::files_upload)  // the uploading team's mark on the filename
        mark_upload_owner(fields.file_name_offsets, ctx.vk->team_id, &call.fixed);
    std::string value;
    if (const MultipartField* stream = fields.find("stream")) {
        if (!multipart_field_value(source, *stream, &value)) return read_failed();
        ctx.req.stream = value == "true";
    }
    const MultipartField* m = call.route.names_model ? fields.find("model") : nullptr;
    if (m == nullptr) return true;
    if (!multipart_field_value(source, *m, model)) return read_failed();
    call.has_model = true;
    call.model_offset = m->offset;
    call.model_size = m->size;
    return true;
}

// The body of a call (none, JSON or multipart) read and checked; false: ctx failed.
bool read_relay_body(ngx_http_request_t* r, RequestCtx& ctx, RelayCall& call, std::string* model) {
    if (call.route.body == RelayBody::none) return true;
    if (call.route.body == RelayBody::json) {
        std::string_view body;
        if (!request_body_text(r, &body)) {
            ctx.fail(413, "Request body is too large.", "invalid_request_error", "", "request_too_large");
            return false;
        }
        ctx.req.body = body;  // the attempts send spans of it
        return read_json_body(ctx, call, body, model);
    }
    SpooledBody spooled;
    if (!spooled_body(r, &call.gathered_body, &spooled)) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "routeshift: the upload's body has an unexpected layout");
        ctx.fail(500, "The request body could not be read.", "server_error", "", "body_unreadable");
        return false;
    }
    if (spooled.file) {
        ctx.client_body_file = spooled.file;
        ctx.client_body_size = spooled.size;
        std::unique_ptr<BodySource> source = file_body_source(spooled.file, spooled.size);
        return read_multipart_body(ctx, call, *source, model);
    }
    ctx.req.body = spooled.memory;
    MemoryBodySource source(spooled.memory);
    return read_multipart_body(ctx, call, source, model);
}

void plan_and_start(ngx_http_request_t* r, RequestCtx& ctx, RelayCall& call, std::optional<size_t> pinned,
                    const std::string& model) {
    auto* lc = static_cast<LocConf*>(ngx_http_get_module_loc_conf(r, ngx_http_routeshift_module));
    RelayEnvironment env(ctx, glue_plan_environment(ctx));
    const Config& cfg = *ctx.cfg;
    if (pinned) {
        const ProviderKey& key = cfg.keys[*pinned];
        ctx.plan = plan_provider_call(cfg, key.provider, pinned, cfg.providers[key.provider].name,
                                      (unsigned)lc->retry_budget, env);
        std::vector<Target> targets;  // a model with a pinned key: its name at that key's provider
        if (call.has_model && resolve_model(cfg, ctx.vk->team_id, model, &targets, nullptr)) {
            for (const Target& t : targets)
                if (t.provider == key.provider) ctx.plan.targets[0].upstream_model = t.upstream_model;
        }
    } else if (call.has_model) {
        ApiError err;
        if (!relay_model_on_openai_wire(cfg, ctx.vk->team_id, model, call.path, &err)) {
            ngx_http_finalize_request(r, fail_with(ctx, err));
            return;
        }
        plan_with_location(ctx, env);
    } else {
        size_t provider;
        ApiError err;
        if (!relay_files_provider(cfg, &provider, &err)) {
            ngx_http_finalize_request(r, fail_with(ctx, err));
            return;
        }
        ctx.plan = plan_provider_call(cfg, provider, std::nullopt, cfg.providers[provider].name,
                                      (unsigned)lc->retry_budget, env);
    }
    if (ctx.plan.static_answer) {  // a static rule answers in chat's shape: not for these endpoints
        ctx.fail(400, "A static routing rule matched; it answers chat completions only.", "invalid_request_error", "",
                 "static_rule_not_applicable");
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    start_planned(ctx);
}

// The request's relayed endpoint (its path without trailing slashes); false: none.
bool relay_route_of(ngx_http_request_t* r, std::string_view* path, RelayRoute* route) {
    *path = string_view_of(r->uri);
    while (path->size() > 1 && path->back() == '/') path->remove_suffix(1);
    return route_relay(string_view_of(r->method_name), *path, route);
}

}  // namespace

bool relay_body_spools(ngx_http_request_t* r) {
    RelayRoute route;
    std::string_view path;
    return relay_route_of(r, &path, &route) && route.body == RelayBody::multipart;
}

void relay_read_and_plan(ngx_http_request_t* r, RequestCtx& ctx) {
    auto call = std::make_shared<RelayCall>();
    ctx.relay = call;
    std::string_view path;
    bool routed = relay_route_of(r, &path, &call->route);
    call->path.assign(path);
    if (!routed) {  // dispatch said it is one
        ngx_http_finalize_request(r, fail_with(ctx, 404, "Unknown endpoint.", "", "unknown_url"));
        return;
    }
    ctx.req.host_splices_body = true;
    std::string model;
    bool ok = read_relay_body(r, ctx, *call, &model);
    std::string_view body = ctx.req.body;  // JSON (batches, responses) is always in memory
    if (ok && call->has_model && !valid_model_name(model, &ctx.error)) {
        ctx.phase = Phase::failed;
        ok = false;
    }
    if (ok && call->route.names_model && !call->has_model && !call->route.model_optional) {
        ctx.fail(400, "You must provide a model parameter.", "invalid_request_error", "model", "missing_model");
        ok = false;
    }
    std::optional<size_t> pinned;
    if (ok && call->route.has_object) {
        size_t key_index;
        ok = object_key(ctx, call->route.object_id, call->route.object_kind, &key_index, &call->provider_object_id);
        if (ok) pinned = key_index;
    }
    if (ok && call->route.endpoint == RelayEndpoint::batches_create) {
        if (json_find(call->members, "input_file_id").absent_or_null()) {
            ctx.fail(400, "Missing required parameter: 'input_file_id'.", "invalid_request_error", "input_file_id",
                     "missing_required_parameter");
            ok = false;
        } else {
            ok = pin_body_id(ctx, *call, body, "input_file_id", ProviderObjectKind::file, &pinned);
        }
        std::string error;
        if (ok && !mark_batch_owner(body, call->members, ctx.vk->team_id, &call->fixed, &error)) {
            ctx.fail(400, std::move(error), "invalid_request_error", "metadata", "invalid_metadata");
            ok = false;
        }
    }
    if (ok && call->route.endpoint == RelayEndpoint::responses)
        ok = pin_body_id(ctx, *call, body, "previous_response_id", ProviderObjectKind::response, &pinned);
    if (ok) ok = relay_query(ctx, *call);
    if (!ok) {
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    ctx.req.model = model;
    if (!admit_caller(ctx)) {
        ngx_http_finalize_request(r, finalize_error(ctx));
        return;
    }
    plan_and_start(r, ctx, *call, pinned, model);
}

bool relay_attempt_request(RequestCtx& ctx, const Candidate& c, std::string* head, SplicedBody* body,
                           std::string* error) {
    const RelayCall& call = *ctx.relay;
    const ProviderKey& key = ctx.cfg->keys[c.key];
    std::string path;
    std::string later_page;  // a list's later provider page: after the page before (§21)
    if (call.pages && call.pages->pages() > 0) later_page = next_page_query(call.query, call.pages->next_after());
    if (!relay_upstream_path(c.ent->path, call.route, call.provider_object_id,
                             later_page.empty() ? call.query : later_page, &path)) {
        *error = "its URL has no /chat/completions to relay from";
        return false;
    }
    std::vector<SpanReplacement> replacements = call.fixed;
    // an Azure v1 key names its deployment in the body (§21)
    std::string_view upstream_model = provider_body_model(*ctx.cfg, key, ctx.plan.targets[c.target].upstream_model);
    if (call.has_model && !upstream_model.empty()) {
        std::string bytes;
        if (call.route.body == RelayBody::json) json_quoted_append(bytes, upstream_model);
        else bytes = upstream_model;  // a multipart field's value is raw text (no CR/LF in model names)
        if (!(ctx.client_body_file && upstream_model == ctx.req.model))  // in a file: unchanged stays the client's
            replacements.push_back(SpanReplacement{call.model_offset, call.model_size, std::move(bytes)});
    }
    std::string_view method = string_view_of(ctx.r->method_name);
    std::string_view content_type;
    bool has_body = method == "POST";
    if (call.route.body == RelayBody::json) content_type = "application/json";
    else if (call.route.body == RelayBody::multipart) content_type = call.content_type;
    if (!has_body) *body = SplicedBody{};
    else if (ctx.client_body_file) splice_spans(ctx.client_body_size, std::move(replacements), body);
    else splice_spans(ctx.req.body, std::move(replacements), body);
    *head = relay_request_head(*ctx.cfg, key, *c.ent, method, path, content_type, has_body, body->size, ctx.req.stream);
    return true;
}

std::string_view request_endpoint_name(const RequestCtx& ctx) {
    if (ctx.endpoint == Endpoint::openai_relay && ctx.relay) return relay_endpoint_name(ctx.relay->route.endpoint);
    return endpoint_name(ctx.endpoint);
}

namespace {

// The caller's client ids for provider ids of the current attempt's key.
ProviderObjectIdEncoder client_id_encoder(const RequestCtx& ctx) {
    const ProviderKey& key = ctx.cfg->keys[ctx.cands[(size_t)ctx.current].key];
    int64_t key_id = key.id;
    const std::string* secret = &key.secret;  // the config outlives the request's translator
    int64_t team_id = ctx.vk->team_id;
    return [key_id, secret, team_id](ProviderObjectKind kind, std::string_view provider_id) {
        return encode_provider_object_id(kind, key_id, *secret, team_id, provider_id);
    };
}

}  // namespace

std::unique_ptr<ResponseTranslator> relay_translator(RequestCtx& ctx, std::string_view content_type) {
    RelayCall& call = *ctx.relay;
    RelayAnswerOptions options;
    options.content_type = content_type;
    options.stream = ctx.req.stream;
    options.rewrite_ids = relay_answer_object_kind(call.route.endpoint, &options.kind);
    if (options.rewrite_ids && options.kind != ProviderObjectKind::response)
        options.owner = ObjectOwnerScope{ctx.vk->team_id};
    if (call.pages) {
        const ngx_http_upstream_t* u = ctx.r->upstream;
        // only an answer held whole (framed) can be followed by another page before the headers
        if (!u->headers_in.chunked && u->headers_in.content_length_n < 0) call.pages->end_with_next_page();
        options.pages = &*call.pages;
    }
    options.encode = client_id_encoder(ctx);
    return relay_answer_translator(std::move(options));
}

bool relay_turn_page(ngx_http_request_t* r, RequestCtx& ctx) {
    if (!ctx.relay || !ctx.relay->pages || !ctx.relay->pages->wants_next_page()) return false;
    ctx.relay->page_due = true;
    // nginx's next-upstream path takes one try off (peer_free): one stays for the page's attempt,
    // and none after it, so a failed later page ends the call (relay_interrupted_page)
    r->upstream->peer.tries = 2;
    return true;
}

bool relay_page_due(const RequestCtx& ctx) { return ctx.relay && ctx.relay->page_due; }

int relay_page_pick(RequestCtx& ctx) {
    ctx.relay->page_due = false;
    return zone_pick(ctx.zone, ctx, true, ctx.current);  // the same key: the cursor is its account's
}

bool relay_following_page(const RequestCtx& ctx) {
    return ctx.relay && ctx.relay->pages && ctx.relay->pages->pages() > 0;
}

bool relay_interrupted_page(const RequestCtx& ctx, std::string* body) {
    if (!relay_following_page(ctx) || !ctx.relay->pages->kept_any() || ctx.current < 0) return false;
    ProviderObjectKind kind;
    if (!relay_answer_object_kind(ctx.relay->route.endpoint, &kind)) return false;
    *body = client_list_page(*ctx.relay->pages, true, kind, client_id_encoder(ctx));
    return !body->empty();
}

}  // namespace routeshift
