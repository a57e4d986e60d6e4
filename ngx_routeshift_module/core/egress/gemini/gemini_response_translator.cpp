// Gemini response translator: GenerateContentResponse JSON or SSE events -> chat.completion /
// chat.completion.chunk, one upstream event at a time.
#include "egress/gemini/gemini_internal.hpp"

#include "util/sse_parser.hpp"

#include <algorithm>
#include <ctime>
#include <vector>

namespace routeshift {

using namespace gemini_internal;

namespace {

// ---- response translation ----------------------------------------------------------------------

constexpr size_t kMaxJsonBody = 64u << 20;  // non-streaming answer (may carry generated images)
constexpr size_t kMaxChoices = 16;          // candidateCount is at most 8

void append_json_string(string& out, string_view s) {
    out += '"';
    json_escape_append(out, s);
    out += '"';
}

// FNV-1a 64 + the splitmix64 finalizer (full avalanche), for deterministic synthesized tool-call ids.
uint64_t fnv1a(string_view s, uint64_t h) {
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

// Gemini finishReason -> OpenAI finish_reason. RECITATION withholds the rest of the answer
// because of a citation filter, so it is reported as content_filter (the reference leaves this
// open; "stop" would make a cut answer look complete).
string_view map_finish(string_view f) {
    if (f == "MAX_TOKENS") return "length";
    static const char* const filtered[] = {"SAFETY",      "BLOCKLIST",         "PROHIBITED_CONTENT",
                                           "SPII",        "IMAGE_SAFETY",      "IMAGE_PROHIBITED_CONTENT",
                                           "LANGUAGE",    "RECITATION",        "IMAGE_RECITATION",
                                           "MODEL_ARMOR", "JAILBREAK"};
    for (const char* x : filtered) {
        if (f == x) return "content_filter";
    }
    return "stop";  // STOP, OTHER, IMAGE_OTHER, NO_IMAGE, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL, ...
}

class GeminiTranslator final : public ResponseTranslator {
public:
    explicit GeminiTranslator(const TranslatorOptions& opt) : opt_(opt) {}

    bool feed(string_view bytes, string* out) override;
    bool finish(string* out) override;
    const Usage& usage() const override { return usage_; }
    // Gemini's only end-of-answer signal is finishReason *plus* the clean end of the body (a
    // finishReason may be followed by more data or an error, as recorded): complete once finish()
    // has produced the finish/usage/[DONE] tail. Until then an interrupted stream needs the
    // glue's error event.
    bool complete() const override { return finish_result_; }
    bool saw_error() const override { return error_; }

private:
    struct Choice {
        bool started = false;   // role chunk sent (stream)
        bool seen = false;      // a candidate with this index arrived
        string finish;          // last Gemini finishReason ("" = none yet)
        int tool_calls = 0;
        int images = 0;
        // non-streaming accumulation
        string content, reasoning, tools_json, images_json, logprobs_json;
        bool has_content = false, has_reasoning = false, has_logprobs = false;
    };

    void on_event(const SseEvent& ev, string* out);
    void process(const json_t* resp, string* out);
    void process_candidate(const json_t* cand, string* out);
    void tool_call(size_t idx, Choice& ch, const json_t* part, string* out);
    void image(size_t idx, Choice& ch, const json_t* inl, string* out);
    void text_run(size_t idx, Choice& ch, bool thought, string_view text, string* out, const string* logprobs);
    string logprobs_entries(const json_t* lr) const;
    void read_usage(const json_t* um);
    void ensure_meta(const json_t* resp);
    Choice& choice(size_t idx, string* out);
    void chunk_open(string& out) const;
    void chunk_close(string& out) const;
    void role_chunk(size_t idx, string* out);
    void fail(string* out, const ApiError& e);
    void fail_truncated(string* out, string_view message);
    bool signalled_complete() const;
    bool blocked() const { return !block_reason_.empty() || (feedback_only_ && !any_seen()); }
    bool any_seen() const {
        for (const auto& c : choices_) {
            if (c.seen) return true;
        }
        return false;
    }
    string_view finish_of(const Choice& c) const {
        if (c.tool_calls > 0) return "tool_calls";
        if (c.finish.empty()) return blocked() ? "content_filter" : "stop";
        return map_finish(c.finish);
    }
    string usage_json() const;
    string completion_json() const;

    TranslatorOptions opt_;
    SseParser parser_;
    string body_;                  // non-streaming answer
    std::vector<Choice> choices_;
    Usage usage_;
    int64_t reasoning_tokens_ = 0;
    bool have_usage_ = false;
    string block_reason_;
    bool feedback_only_ = false;   // a promptFeedback arrived in an event without candidates
    bool meta_ = false;            // id/model fixed
    string prefix_;                // `data: {"id":...,"choices":[` of every chunk
    string id_, model_;
    int64_t created_ = 0;
    bool error_ = false;
    bool broken_ = false;          // no more input is accepted
    bool finished_ = false;
    bool finish_result_ = false;
    // truncation tracking (streams): position after the last non-blank byte fed, and the number
    // of bytes the SSE parser delivered as events
    uint64_t fed_ = 0, last_text_end_ = 0, dispatched_ = 0;
};

void GeminiTranslator::ensure_meta(const json_t* resp) {
    if (meta_) return;
    meta_ = true;
    string_view rid = sv(json_object_get(resp, "responseId"));
    string_view mv = sv(json_object_get(resp, "modelVersion"));
    id_ = !opt_.id.empty() ? opt_.id : ("chatcmpl-" + (rid.empty() ? string("gemini") : string(rid)));
    model_ = !opt_.model.empty() ? opt_.model : string(mv);
    created_ = opt_.created ? opt_.created : static_cast<int64_t>(std::time(nullptr));
    prefix_ = "data: {\"id\":";
    append_json_string(prefix_, id_);
    prefix_ += ",\"object\":\"chat.completion.chunk\",\"created\":";
    prefix_ += std::to_string(created_);
    prefix_ += ",\"model\":";
    append_json_string(prefix_, model_);
    prefix_ += ",\"choices\":[";
}

void GeminiTranslator::chunk_open(string& out) const { out += prefix_; }
void GeminiTranslator::chunk_close(string& out) const {
    out += opt_.include_usage ? "],\"usage\":null}\n\n" : "]}\n\n";
}

void GeminiTranslator::role_chunk(size_t idx, string* out) {
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) +
            ",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}";
    chunk_close(*out);
}

GeminiTranslator::Choice& GeminiTranslator::choice(size_t idx, string* out) {
    if (choices_.size() <= idx) choices_.resize(idx + 1);
    Choice& ch = choices_[idx];
    if (opt_.stream && !ch.started) {
        ch.started = true;
        role_chunk(idx, out);
    }
    return ch;
}

void GeminiTranslator::fail(string* out, const ApiError& e) {
    error_ = true;
    broken_ = true;
    if (opt_.stream) {
        *out += "data: ";
        *out += openai_error_body(e);
        *out += "\n\n";
    } else {
        *out += openai_error_body(e);
    }
}

void GeminiTranslator::fail_truncated(string* out, string_view message) {
    error_ = true;
    broken_ = true;
    if (opt_.stream) {
        *out += OpenAIStreamRelay::error_event(message, "stream_truncated");
    } else {
        ApiError e;
        e.status = 502;
        e.type = "server_error";
        e.code = "invalid_upstream_response";
        e.message = string(message);
        *out += openai_error_body(e);
    }
}

void GeminiTranslator::read_usage(const json_t* um) {
    auto get = [&](const char* k) -> int64_t {
        const json_t* v = json_object_get(um, k);
        return json_is_integer(v) ? static_cast<int64_t>(json_integer_value(v)) : 0;  // proto3 omits zeros
    };
    int64_t prompt = get("promptTokenCount") + get("toolUsePromptTokenCount");
    int64_t thoughts = get("thoughtsTokenCount");
    int64_t completion = get("candidatesTokenCount") + thoughts;
    usage_.prompt_tokens = prompt;
    usage_.completion_tokens = completion;
    usage_.total_tokens = prompt + completion;
    usage_.cached_tokens = get("cachedContentTokenCount");
    reasoning_tokens_ = thoughts;
    have_usage_ = true;
}

string GeminiTranslator::usage_json() const {
    auto n = [](int64_t v) { return std::to_string(v < 0 ? 0 : v); };
    string u = "{\"prompt_tokens\":" + n(usage_.prompt_tokens) + ",\"completion_tokens\":" + n(usage_.completion_tokens) +
               ",\"total_tokens\":" + n(usage_.total_tokens) + ",\"prompt_tokens_details\":{\"cached_tokens\":" +
               n(usage_.cached_tokens) + "},\"completion_tokens_details\":{\"reasoning_tokens\":" + n(reasoning_tokens_) + "}}";
    return u;
}

// logprobsResult -> the entries of OpenAI `logprobs.content` (comma-separated, no brackets).
string GeminiTranslator::logprobs_entries(const json_t* lr) const {
    const json_t* chosen = json_object_get(lr, "chosenCandidates");
    const json_t* top = json_object_get(lr, "topCandidates");
    string out;
    auto entry = [](string& o, const json_t* c) {
        string_view tok = sv(json_object_get(c, "token"));
        const json_t* lp = json_object_get(c, "logProbability");
        o += "{\"token\":";
        append_json_string(o, tok);
        o += ",\"logprob\":";
        if (json_is_number(lp)) json_dump_append(o, lp);
        else o += "0";
        o += ",\"bytes\":[";
        for (size_t i = 0; i < tok.size(); ++i) {
            if (i) o += ',';
            o += std::to_string(static_cast<unsigned char>(tok[i]));
        }
        o += ']';
    };
    size_t i;
    json_t* c;
    json_array_foreach(chosen, i, c) {
        if (!out.empty()) out += ',';
        entry(out, c);
        out += ",\"top_logprobs\":[";
        const json_t* alts = json_object_get(json_array_get(top, i), "candidates");
        size_t k;
        json_t* a;
        json_array_foreach(alts, k, a) {
            if (k) out += ',';
            entry(out, a);
            out += '}';
        }
        out += "]}";
    }
    return out;
}

void GeminiTranslator::text_run(size_t idx, Choice& ch, bool thought, string_view text, string* out,
                                const string* logprobs) {
    if (!opt_.stream) {
        if (thought) {
            ch.reasoning.append(text);
            ch.has_reasoning = true;
        } else {
            ch.content.append(text);
            ch.has_content = true;
        }
        return;
    }
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{";
    *out += thought ? "\"reasoning_content\":" : "\"content\":";
    append_json_string(*out, text);
    *out += "},\"logprobs\":";
    if (logprobs) *out += "{\"content\":[" + *logprobs + "],\"refusal\":null}";
    else *out += "null";
    *out += ",\"finish_reason\":null}";
    chunk_close(*out);
}

void GeminiTranslator::tool_call(size_t idx, Choice& ch, const json_t* part, string* out) {
    const json_t* fc = json_object_get(part, "functionCall");
    string_view name = sv(json_object_get(fc, "name"));
    const json_t* args = json_object_get(fc, "args");
    string args_text;
    if (json_is_object(args)) json_dump_append(args_text, args);
    else args_text = "{}";
    int ordinal = ch.tool_calls++;
    string id(sv(json_object_get(fc, "id")));
    if (id.empty()) {
        // Gemini usually sends no id: derive one from the response id, choice and ordinal so it
        // is unique per response and identical however the stream was split.
        string seed = id_ + "/" + std::to_string(idx) + "/" + std::to_string(ordinal);
        static const char hex[] = "0123456789abcdef";
        uint64_t a = fnv1a(seed, 14695981039346656037ULL), b = fnv1a(seed, 0x9e3779b97f4a7c15ULL);
        id = "call_";
        for (int i = 0; i < 12; ++i) id += hex[(a >> (60 - 4 * i)) & 15];
        for (int i = 0; i < 12; ++i) id += hex[(b >> (60 - 4 * i)) & 15];
    }
    string_view sig = sv(json_object_get(part, "thoughtSignature"));
    if (!sig.empty()) {
        id += kThoughtSep;
        id += sig;
    }
    string call;
    if (opt_.stream) call = "{\"index\":" + std::to_string(ordinal) + ",";
    else call = "{";
    call += "\"id\":";
    append_json_string(call, id);
    call += ",\"type\":\"function\",\"function\":{\"name\":";
    append_json_string(call, name);
    call += ",\"arguments\":";
    append_json_string(call, args_text);
    call += "}}";
    if (!opt_.stream) {
        if (!ch.tools_json.empty()) ch.tools_json += ',';
        ch.tools_json += call;
        return;
    }
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{\"tool_calls\":[" + call +
            "]},\"logprobs\":null,\"finish_reason\":null}";
    chunk_close(*out);
}

// Generated media (image models): OpenRouter's convention, `images: [{type:"image_url",
// image_url:{url:"data:..."}}]` on the message / delta, so the bytes are not silently dropped.
void GeminiTranslator::image(size_t idx, Choice& ch, const json_t* inl, string* out) {
    string_view mime = sv(json_object_get(inl, "mimeType"));
    string_view data = sv(json_object_get(inl, "data"));
    if (data.empty()) return;
    int ordinal = ch.images++;
    string img;
    if (opt_.stream) img = "{\"index\":" + std::to_string(ordinal) + ",";
    else img = "{";
    img += "\"type\":\"image_url\",\"image_url\":{\"url\":\"data:";
    json_escape_append(img, mime.empty() ? string_view("application/octet-stream") : mime);
    img += ";base64,";
    json_escape_append(img, data);
    img += "\"}}";
    if (!opt_.stream) {
        if (!ch.images_json.empty()) ch.images_json += ',';
        ch.images_json += img;
        return;
    }
    chunk_open(*out);
    *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{\"images\":[" + img +
            "]},\"logprobs\":null,\"finish_reason\":null}";
    chunk_close(*out);
}

void GeminiTranslator::process_candidate(const json_t* cand, string* out) {
    if (!json_is_object(cand)) return;
    const json_t* ix = json_object_get(cand, "index");
    json_int_t raw_idx = json_is_integer(ix) ? json_integer_value(ix) : 0;
    if (raw_idx < 0 || static_cast<size_t>(raw_idx) >= kMaxChoices) {
        ApiError e;
        e.status = 502;
        e.type = "server_error";
        e.code = "invalid_upstream_response";
        e.message = "Gemini sent a candidate index the gateway does not accept";
        fail(out, e);
        return;
    }
    size_t idx = static_cast<size_t>(raw_idx);
    Choice* ch = &choice(idx, out);
    ch->seen = true;

    string lp;
    const json_t* lr = json_object_get(cand, "logprobsResult");
    if (json_is_object(lr)) lp = logprobs_entries(lr);
    bool lp_used = lp.empty();

    const json_t* parts = json_object_get(json_object_get(cand, "content"), "parts");
    int run_kind = 0;  // 0 none, 1 text, 2 thought
    string run;
    auto flush = [&]() {
        if (run_kind != 0 && !run.empty()) {
            bool attach = run_kind == 1 && !lp_used;
            text_run(idx, *ch, run_kind == 2, run, out, attach ? &lp : nullptr);
            if (attach) lp_used = true;
        }
        run.clear();
        run_kind = 0;
    };
    size_t i;
    json_t* part;
    json_array_foreach(parts, i, part) {
        if (!json_is_object(part)) continue;
        const json_t* text = json_object_get(part, "text");
        if (json_is_string(text)) {
            if (json_string_length(text) == 0) continue;  // e.g. a bare thoughtSignature carrier
            int kind = json_is_true(json_object_get(part, "thought")) ? 2 : 1;
            if (kind != run_kind) flush();
            run_kind = kind;
            run.append(sv(text));
        } else if (json_is_object(json_object_get(part, "functionCall"))) {
            flush();
            tool_call(idx, *ch, part, out);
        } else if (const json_t* inl = json_object_get(part, "inlineData"); json_is_object(inl)) {
            flush();
            if (!json_is_true(json_object_get(part, "thought"))) image(idx, *ch, inl, out);
        }
        // executableCode / codeExecutionResult / fileData: only produced by tools this adapter
        // never enables
    }
    flush();
    if (!lp_used) {  // logprobs without text in this event
        if (opt_.stream) {
            chunk_open(*out);
            *out += "{\"index\":" + std::to_string(idx) + ",\"delta\":{},\"logprobs\":{\"content\":[" + lp +
                    "],\"refusal\":null},\"finish_reason\":null}";
            chunk_close(*out);
        }
    }
    if (!opt_.stream && !lp.empty()) {
        if (!ch->logprobs_json.empty()) ch->logprobs_json += ',';
        ch->logprobs_json += lp;
        ch->has_logprobs = true;
    } else if (!opt_.stream && json_is_object(lr)) {
        ch->has_logprobs = true;
    }
    if (const json_t* fr = json_object_get(cand, "finishReason"); json_is_string(fr) && json_string_length(fr) > 0)
        ch->finish = sv(fr);
}

void GeminiTranslator::process(const json_t* resp, string* out) {
    if (json_is_array(resp)) {  // a JSON array of responses (streamGenerateContent without alt=sse)
        size_t i;
        json_t* r;
        json_array_foreach(resp, i, r) {
            if (broken_) return;
            process(r, out);
        }
        return;
    }
    if (!json_is_object(resp)) {
        ApiError e;
        e.status = 502;
        e.type = "server_error";
        e.code = "invalid_upstream_response";
        e.message = "Gemini sent an event that is not a JSON object";
        fail(out, e);
        return;
    }
    if (const json_t* err = find_error(resp)) {
        GoogleError g = read_google_error(err);
        fail(out, verdict(0, g).error);
        return;
    }
    ensure_meta(resp);
    if (opt_.stream && choices_.empty()) choice(0, out);  // the role chunk leads
    const json_t* cands = json_object_get(resp, "candidates");
    size_t i;
    json_t* c;
    json_array_foreach(cands, i, c) {
        process_candidate(c, out);
        if (broken_) return;
    }
    if (const json_t* pf = json_object_get(resp, "promptFeedback"); json_is_object(pf)) {
        string_view br = sv(json_object_get(pf, "blockReason"));
        if (!br.empty() && br != "BLOCKED_REASON_UNSPECIFIED") block_reason_ = br;
        if (json_array_size(cands) == 0) feedback_only_ = true;
    }
    if (const json_t* um = json_object_get(resp, "usageMetadata"); json_is_object(um)) read_usage(um);
}

// One SSE event. Gemini sends `data: <GenerateContentResponse>`; an error may also arrive as a raw
// JSON object outside any data: field (recorded: firebase-vertexai_streaming-failure-error-mid-
// stream.sse), which the SSE parser sees as lines of unknown fields.
void GeminiTranslator::on_event(const SseEvent& ev, string* out) {
    dispatched_ += ev.raw.size();
    if (broken_) return;
    // lines that are not SSE fields (data/event/id/retry) or comments
    size_t foreign = string_view::npos;
    {
        string_view r = ev.raw;
        size_t p = 0;
        while (p < r.size()) {
            size_t e = r.find_first_of("\r\n", p);
            if (e == string_view::npos) e = r.size();
            string_view line = r.substr(p, e - p);
            if (!line.empty() && line.front() != ':') {
                string_view field = line.substr(0, line.find(':'));
                if (starts_with(field, "\xEF\xBB\xBF")) field.remove_prefix(3);
                if (field != "data" && field != "event" && field != "id" && field != "retry") {
                    foreign = p;
                    break;
                }
            }
            p = e;
            if (p < r.size() && r[p] == '\r') ++p;
            if (p < r.size() && r[p] == '\n') ++p;
        }
    }
    string_view data = trim(ev.data);
    if (!data.empty()) {
        JsonPtr j = json_parse(data, nullptr);
        if (!j) {
            ApiError e;
            e.status = 502;
            e.type = "server_error";
            e.code = "invalid_upstream_response";
            e.message = "Gemini sent a stream event that is not valid JSON";
            fail(out, e);
            return;
        }
        process(j.get(), out);
        if (broken_) return;
    }
    if (foreign != string_view::npos) {
        JsonPtr j = json_parse(trim(ev.raw.substr(foreign)), nullptr);
        const json_t* err = j ? find_error(j.get()) : nullptr;
        if (err) {
            fail(out, verdict(0, read_google_error(err)).error);
        } else {
            ApiError e;
            e.status = 502;
            e.type = "server_error";
            e.code = "invalid_upstream_response";
            e.message = "Gemini sent data outside the SSE framing";
            fail(out, e);
        }
    }
}

bool GeminiTranslator::feed(string_view bytes, string* out) {
    if (broken_ || finished_) return false;
    if (!opt_.stream) {
        if (body_.size() + bytes.size() > kMaxJsonBody) {
            ApiError e;
            e.status = 502;
            e.type = "server_error";
            e.code = "upstream_response_too_large";
            e.message = "Gemini answer is larger than the gateway accepts";
            fail(out, e);
            return false;
        }
        body_.append(bytes);
        return true;
    }
    for (size_t i = bytes.size(); i > 0; --i) {
        if (!is_ws(bytes[i - 1])) {
            last_text_end_ = fed_ + i;
            break;
        }
    }
    fed_ += bytes.size();
    bool ok = parser_.feed(bytes, [this, out](const SseEvent& ev) { on_event(ev, out); });
    if (!ok && !broken_) {
        broken_ = error_ = true;
        *out += OpenAIStreamRelay::error_event("upstream sent an event larger than the gateway accepts", "stream_event_too_large");
    }
    return !broken_;
}

bool GeminiTranslator::signalled_complete() const {
    if (blocked()) return true;
    bool any = false;
    for (const auto& c : choices_) {
        if (!c.seen) continue;
        any = true;
        if (c.finish.empty()) return false;
    }
    return any;
}

string GeminiTranslator::completion_json() const {
    string o = "{\"id\":";
    append_json_string(o, id_);
    o += ",\"object\":\"chat.completion\",\"created\":" + std::to_string(created_) + ",\"model\":";
    append_json_string(o, model_);
    o += ",\"choices\":[";
    bool first = true;
    for (size_t i = 0; i < choices_.size(); ++i) {
        const Choice& c = choices_[i];
        if (!c.seen && !(i == 0 && blocked())) continue;
        if (!first) o += ',';
        first = false;
        o += "{\"index\":" + std::to_string(i) + ",\"message\":{\"role\":\"assistant\",\"content\":";
        if (c.has_content) append_json_string(o, c.content);
        else o += c.tool_calls > 0 ? "null" : "\"\"";
        if (c.has_reasoning) {
            o += ",\"reasoning_content\":";
            append_json_string(o, c.reasoning);
        }
        if (c.tool_calls > 0) o += ",\"tool_calls\":[" + c.tools_json + "]";
        if (c.images > 0) o += ",\"images\":[" + c.images_json + "]";
        o += ",\"refusal\":null},\"logprobs\":";
        if (c.has_logprobs) o += "{\"content\":[" + c.logprobs_json + "],\"refusal\":null}";
        else o += "null";
        o += ",\"finish_reason\":\"";
        o += finish_of(c);
        o += "\"}";
    }
    o += "],\"usage\":" + usage_json() + "}";
    return o;
}

bool GeminiTranslator::finish(string* out) {
    if (finished_) return finish_result_;
    finished_ = true;
    if (broken_) return false;

    if (!opt_.stream) {
        string_view body = trim(body_);
        JsonPtr root = json_parse(body, nullptr);
        if (!root) {
            fail_truncated(out, body.empty() ? "Gemini sent an empty answer" : "Gemini sent an answer that is not valid JSON");
            return false;
        }
        process(root.get(), out);  // non-streaming: only an error writes to `out` here
        if (broken_) return false;
        if (!meta_ || (!any_seen() && !blocked())) {
            fail_truncated(out, "Gemini sent an answer without candidates");
            return false;
        }
        if (choices_.empty()) choices_.resize(1);
        // A unary answer is complete by construction (the HTTP body ended cleanly); a candidate
        // without finishReason is reported as "stop".
        *out += completion_json();
        finish_result_ = true;
        return true;
    }

    parser_.flush([this, out](const SseEvent& ev) { on_event(ev, out); });
    if (broken_) return false;
    if (last_text_end_ > dispatched_) {
        fail_truncated(out, "upstream stream ended in the middle of an event");
        return false;
    }
    if (!signalled_complete()) {
        fail_truncated(out, "upstream stream ended before completion");
        return false;
    }
    if (choices_.empty()) choice(0, out);
    for (size_t i = 0; i < choices_.size(); ++i) {
        const Choice& c = choices_[i];
        if (!c.started) continue;
        chunk_open(*out);
        *out += "{\"index\":" + std::to_string(i) + ",\"delta\":{},\"logprobs\":null,\"finish_reason\":\"";
        *out += finish_of(c);
        *out += "\"}";
        chunk_close(*out);
    }
    if (opt_.include_usage) {
        chunk_open(*out);
        *out += "],\"usage\":" + usage_json() + "}\n\n";
    }
    *out += "data: [DONE]\n\n";
    finish_result_ = true;
    return true;
}

}  // namespace

std::unique_ptr<ResponseTranslator> gemini_translator(const TranslatorOptions& opt) {
    return std::make_unique<GeminiTranslator>(opt);
}

}  // namespace routeshift
