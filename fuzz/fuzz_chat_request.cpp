// The chat-request parser and every wire's body builder and request head: a refused request gets
// a valid JSON error; an accepted one gives, for every provider key, a valid JSON body (the
// OpenAI splice equal to the DOM-built body), an upstream path without dot segments or bytes that
// need escaping, and a request head whose lines hold no CR, LF or control byte and whose request
// line is bounded by the model-name limit. The session digest of an accepted request (a later turn
// from the request alone, or a first turn completed from answer pieces cut out of the input) is
// the forced id or "ses_" + 32 hex digits, the same when computed twice.
#include "fuzz_support.hpp"
#include "accounting/session_inference.hpp"
#include "egress/wire_adapter.hpp"
#include "ingress/chat_request.hpp"

namespace {

void check_path(std::string_view path) {
    for (char ch : path) {
        unsigned char c = static_cast<unsigned char>(ch);
        fuzz::check(c > 0x20 && c < 0x7f, "upstream path holds a byte that needs escaping", path);
    }
    std::string_view p = path.substr(0, path.find('?'));
    for (size_t s = 0; s < p.size();) {
        size_t e = p.find('/', s + 1);
        std::string_view seg = p.substr(s + 1, e == std::string_view::npos ? std::string_view::npos : e - s - 1);
        fuzz::check(seg != "." && seg != "..", "upstream path has a dot segment", path);
        if (e == std::string_view::npos) break;
        s = e;
    }
}

void check_head(std::string_view head) {
    fuzz::check(head.ends_with("\r\n\r\n"), "request head does not end with a blank line", head);
    std::string_view lines = head.substr(0, head.size() - 2);
    size_t n = 0;
    while (!lines.empty()) {
        size_t e = lines.find("\r\n");
        fuzz::check(e != std::string_view::npos, "request head line without CRLF", head);
        std::string_view line = lines.substr(0, e);
        for (char ch : line) {
            unsigned char c = static_cast<unsigned char>(ch);
            fuzz::check((c >= 0x20 && c != 0x7f) || c == '\t', "control byte in a request head line", line);
        }
        if (n++ == 0) {
            fuzz::check(line.size() <= 3 * routeshift::kMaxModelNameBytes + 1024, "request line is not bounded", line);
        }
        lines.remove_prefix(e + 2);
    }
}

bool same_json(std::string_view a, std::string_view b) {
    routeshift::JsonPtr x = routeshift::json_parse(a, nullptr), y = routeshift::json_parse(b, nullptr);
    return x && y && json_equal(x.get(), y.get());
}

void check_session(const routeshift::ChatRequest& req, std::string_view input) {
    auto infer = [&] {
        routeshift::SessionInference session;
        session.begin(req, 7);
        session.answer_text(input.substr(0, input.size() / 2));
        session.answer_tool_call(0, input.substr(0, 8), input.substr(input.size() / 2));
        session.answer_tool_arguments(0, input);
        session.answer_openai_chunk(input);
        session.answer_openai_completion(input);
        session.complete_answer();
        return std::string(session.id());
    };
    std::string id = infer();
    fuzz::check(id == infer(), "session id differs between two runs", id);
    routeshift::ApiError error;
    if (!req.session_id.empty()) {
        if (routeshift::check_forced_session_id(req.session_id, &error)) {
            fuzz::check(id == req.session_id, "forced session id not kept", id);
        }
        return;
    }
    bool hex = id.size() == 4 + 2 * routeshift::kSessionDigestBytes && id.starts_with("ses_");
    for (size_t i = 4; hex && i < id.size(); ++i) hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    fuzz::check(hex, "inferred session id is not ses_ + 32 hex digits", id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    routeshift::ApiError err;
    auto req = routeshift::parse_chat_request(body, &err);
    if (!req) {
        fuzz::check(err.status == 400, "a refused request is not a 400");
        fuzz::check(fuzz::valid_json_document(routeshift::openai_error_body(err)), "error body is not valid JSON",
                    routeshift::openai_error_body(err));
        return 0;
    }
    fuzz::check(req->model.size() <= routeshift::kMaxModelNameBytes, "model longer than the limit accepted");
    check_session(*req, body);
    const routeshift::Config& cfg = fuzz::config();
    for (const routeshift::ProviderKey& key : cfg.keys) {
        const routeshift::WireAdapter& wire = routeshift::wire_adapter(key);
        routeshift::UpstreamEndpoint ep;
        std::string error;
        if (!wire.endpoint(cfg, key, req->model, req->stream, &ep, &error)) continue;
        check_path(ep.path);
        std::string out;
        routeshift::ApiError build_err;
        if (!wire.build_body(cfg, key, *req, req->model, &out, &build_err)) {
            fuzz::check(build_err.status == 400, "a body that cannot be built is not a 400");
            fuzz::check(fuzz::valid_json_document(routeshift::openai_error_body(build_err)),
                        "build error is not valid JSON");
            continue;
        }
        fuzz::check(fuzz::valid_json_document(out), "provider body is not valid JSON", out);
        std::string head;
        if (wire.request_head(cfg, key, ep, req->stream, out, 1763700000, &head, &error)) check_head(head);
        routeshift::SplicedBody spliced;
        std::string spliced_head;
        if (wire.spliced_request(cfg, key, ep, *req, req->model, &spliced_head, &spliced)) {
            check_head(spliced_head);
            std::string flat = spliced.flatten(req->body);
            fuzz::check(flat.size() == spliced.size, "spliced size differs from its pieces");
            fuzz::check(same_json(flat, routeshift::build_chat_body_dom(cfg, key, *req, req->model)),
                        "spliced body differs from the DOM-built body", flat);
        }
    }
    return 0;
}
