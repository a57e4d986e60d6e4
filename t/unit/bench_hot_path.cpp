// Micro-benchmark of the request hot path: parse_chat_request + build_chat_body +
// usage_from_completion on a ~1 KB realistic body, plus the SSE relay on a realistic stream.
// Not a test: never run by `make check`, never asserts on time.
//
//   make -C t/unit bench                        # current core
//   make -C t/unit bench BENCH_ARGS=500000      # iterations (default 200000)
//   make -C t/unit bench BENCH_CORE=/path/to/other/core BUILD=/tmp/rs-bench-old   # compare
//
// Prints ns/op per phase (thread CPU time, so a busy machine inflates it less than wall time) and
// allocations per op (C++ operator new + jansson's allocator).
//
// Then the cost per prompt byte of building the translated bodies (anthropic_build_body,
// gemini_build_body, bedrock_build_body) for conversations of 1 KB, 10 KB, 100 KB and 1 MB: ns/byte
// and, where the kernel lets a process count its own instructions (perf_event_paranoid <= 2),
// instructions/byte.
//   make -C t/unit bench BENCH_ARGS="200000 anthropic"      # only the Anthropic part (or gemini, bedrock)
//   bench_hot_path 3 gemini 100                             # one size (KB), 1 + 3 calls: for
//   valgrind --tool=callgrind --toggle-collect='routeshift::gemini_build_body*' (instructions)
// Each builder runs max(3, iterations / size in KB) calls per size.
#include "ingress/chat_request.hpp"
#include "snapshot_fixture.hpp"
#include "egress/openai/stream_relay.hpp"
#include "egress/openai/upstream_request.hpp"
#include "egress/provider_adapter.hpp"

#include <atomic>
#include <cstring>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

using namespace routeshift;

// ---- allocation counting -----------------------------------------------------------------------

static std::atomic<uint64_t> g_new{0}, g_jansson{0};

void* operator new(size_t n) {
    g_new.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

static void* jansson_malloc(size_t n) {
    g_jansson.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n);
}

// ---- inputs ------------------------------------------------------------------------------------

static const std::string kBody = R"({
  "model": "smart",
  "messages": [
    {"role": "system", "content": "You are a concise assistant for a travel booking site. Answer in at most three sentences and never invent prices."},
    {"role": "user", "content": "I want to fly from Lisbon to Tokyo in late March. Which airports should I consider, and is a stopover in Istanbul a good idea?"},
    {"role": "assistant", "content": "Consider Haneda (HND) for easier city access or Narita (NRT) for more options. An Istanbul stopover works well with Turkish Airlines and often lowers the fare."},
    {"role": "user", "content": "Great. Can you check availability for March 24 and suggest a hotel near Shinjuku station?"}
  ],
  "temperature": 0.7,
  "max_tokens": 512,
  "stream": true,
  "stream_options": {"include_usage": true},
  "tools": [{"type": "function", "function": {"name": "search_flights", "description": "Search flights", "parameters": {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "date": {"type": "string", "format": "date"}}, "required": ["from", "to", "date"]}}}],
  "user": "user-1234",
  "metadata": {"route_hint": "openai/gpt-4o", "session_id": "sess-5f2c"}
})";

static const std::string kAnswer =
    R"({"id":"chatcmpl-AbCdEf0123456789","object":"chat.completion","created":1731000000,"model":"gpt-4o-2024-11-20",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"For March 24 there are several options via Istanbul. )"
    R"(Near Shinjuku station, consider the Keio Plaza or the Hilton Tokyo; both are within walking distance.",)"
    R"("refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":231,"completion_tokens":48,"total_tokens":279,)"
    R"("prompt_tokens_details":{"cached_tokens":128,"audio_tokens":0},)"
    R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},)"
    R"("service_tier":"default","system_fingerprint":"fp_abc123"})";

static std::string make_stream() {
    std::string s;
    const char* words[] = {"For", " March", " 24", " there", " are", " several", " options", " via", " Istanbul", "."};
    for (int i = 0; i < 20; ++i) {
        s += R"(data: {"id":"chatcmpl-AbC","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o",)"
             R"("choices":[{"index":0,"delta":{"content":")";
        s += words[i % 10];
        s += R"("},"logprobs":null,"finish_reason":null}],"usage":null})";
        s += "\n\n";
    }
    s += R"(data: {"id":"chatcmpl-AbC","object":"chat.completion.chunk","created":1731000000,"model":"gpt-4o",)"
         R"("choices":[],"usage":{"prompt_tokens":231,"completion_tokens":48,"total_tokens":279,)"
         R"("prompt_tokens_details":{"cached_tokens":128}}})";
    s += "\n\ndata: [DONE]\n\n";
    return s;
}

// ---- timing ------------------------------------------------------------------------------------

static volatile size_t g_sink;

static double cpu_ns() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

template <class F>
static void run(const char* name, size_t iters, F&& f) {
    for (size_t i = 0; i < iters / 20 + 1; ++i) g_sink = g_sink + f();  // warm-up
    uint64_t n0 = g_new.load(), j0 = g_jansson.load();
    double t0 = cpu_ns();
    size_t acc = 0;
    for (size_t i = 0; i < iters; ++i) acc += f();
    double t1 = cpu_ns();
    g_sink = g_sink + acc;
    double ns = (t1 - t0) / static_cast<double>(iters);
    double news = static_cast<double>(g_new.load() - n0) / static_cast<double>(iters);
    double jans = static_cast<double>(g_jansson.load() - j0) / static_cast<double>(iters);
    std::printf("%-52s %9.0f ns/op   %6.1f new/op   %6.1f jansson allocs/op\n", name, ns, news, jans);
}

// ---- Anthropic body building per prompt byte ---------------------------------------------------

// A conversation of about `target` bytes: system prompt, alternating user/assistant turns of prose
// with the escapes and non-ASCII real prompts carry, one tool and its call in the history.
static std::string conversation(size_t target) {
    static const char* kProse =
        "Please review the following paragraph and suggest improvements.\\n\\nThe quarterly report shows "
        "a 12% increase in revenue (\\\"year over year\\\") driven by the caf\\u00e9 segment \xe2\x80\x94 "
        "especially in M\xc3\xbcnchen and S\xc3\xa3o Paulo \xf0\x9f\x98\x80. Costs rose\\tslightly; margins held. ";
    std::string body = R"({"model":"claude","max_tokens":1024,"stream":true,"temperature":0.7,)"
                       R"("tools":[{"type":"function","function":{"name":"search","description":"Search the docs",)"
                       R"("parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}],)"
                       R"("messages":[{"role":"system","content":"You are a careful editor."},)"
                       R"({"role":"user","content":"Find the style guide."},)"
                       R"({"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",)"
                       R"("function":{"name":"search","arguments":"{\"q\":\"style guide\"}"}}]},)"
                       R"({"role":"tool","tool_call_id":"call_1","content":"Use active voice. Avoid jargon."})";
    bool user = true;
    while (body.size() + 4 < target) {
        body += user ? R"(,{"role":"user","content":")" : R"(,{"role":"assistant","content":")";
        size_t n = 0;
        do body += kProse; while (++n < 4 && body.size() + 4 < target);
        body += "\"}";
        user = !user;
    }
    if (!user) body += R"(,{"role":"user","content":"Go on."})";
    return body + "]}";
}

// Counts this thread's user-space instructions; unavailable (-1) where the kernel refuses.
class InstructionCounter {
public:
    InstructionCounter() {
        perf_event_attr a;
        std::memset(&a, 0, sizeof a);
        a.type = PERF_TYPE_HARDWARE;
        a.size = sizeof a;
        a.config = PERF_COUNT_HW_INSTRUCTIONS;
        a.disabled = 1;
        a.exclude_kernel = 1;
        a.exclude_hv = 1;
        fd_ = static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
        if (fd_ >= 0) ioctl(fd_, PERF_EVENT_IOC_ENABLE, 0);
    }
    ~InstructionCounter() {
        if (fd_ >= 0) close(fd_);
    }
    long long read() const {
        long long v = -1;
        if (fd_ < 0 || ::read(fd_, &v, sizeof v) != sizeof v) return -1;
        return v;
    }

private:
    int fd_ = -1;
};

// `build(req, out, err)` builds one provider body; `label` names it in the table.
template <class Build>
static void bench_builder(const char* label, size_t iters, size_t only_kb, Build&& build) {
    InstructionCounter counter;
    std::printf("\n%s per prompt byte%s\n", label,
                counter.read() < 0 ? " (instruction counting unavailable here)" : "");
    for (size_t kb : {size_t(1), size_t(10), size_t(100), size_t(1024)}) {
        if (only_kb && kb != only_kb) continue;
        std::string body = conversation(kb << 10);
        ApiError err;
        auto req = parse_chat_request(body, &err);
        if (!req) {
            std::fprintf(stderr, "%s bench body refused: %s\n", label, err.message.c_str());
            std::exit(1);
        }
        std::string out;
        if (!build(*req, &out, &err)) {
            std::fprintf(stderr, "%s bench body not built: %s\n", label, err.message.c_str());
            std::exit(1);
        }
        size_t calls = std::max<size_t>(3, iters / kb);
        uint64_t n0 = g_new.load(), j0 = g_jansson.load();
        long long i0 = counter.read();
        double t0 = cpu_ns();
        for (size_t i = 0; i < calls; ++i) {
            build(*req, &out, &err);
            g_sink = g_sink + out.size();
        }
        double t1 = cpu_ns();
        long long i1 = counter.read();
        double bytes = static_cast<double>(body.size()) * static_cast<double>(calls);
        std::printf("  %8zu bytes -> %8zu: %9.0f ns/op %6.2f ns/byte", body.size(), out.size(),
                    (t1 - t0) / static_cast<double>(calls), (t1 - t0) / bytes);
        if (i0 >= 0 && i1 >= 0)
            std::printf(" %10.0f instr/op %6.2f instr/byte", static_cast<double>(i1 - i0) / static_cast<double>(calls),
                        static_cast<double>(i1 - i0) / bytes);
        std::printf("   %7.1f new/op %7.1f jansson allocs/op\n",
                    static_cast<double>(g_new.load() - n0) / static_cast<double>(calls),
                    static_cast<double>(g_jansson.load() - j0) / static_cast<double>(calls));
    }
}

// The three translating builders; `only` ("anthropic", "gemini", "bedrock" or "" for all).
static void bench_builders(const ProviderKey& key, size_t iters, const std::string& only, size_t only_kb) {
    if (only.empty() || only == "anthropic")
        bench_builder("anthropic_build_body", iters, only_kb, [&](const ChatRequest& r, std::string* out, ApiError* err) {
            return anthropic_build_body(r, "claude-sonnet-4-5", "anthropic", key, out, err);
        });
    if (only.empty() || only == "gemini")
        bench_builder("gemini_build_body", iters, only_kb, [&](const ChatRequest& r, std::string* out, ApiError* err) {
            return gemini_build_body(r, "gemini-2.5-flash", key, out, err);
        });
    if (only.empty() || only == "bedrock")
        bench_builder("bedrock_build_body", iters, only_kb, [&](const ChatRequest& r, std::string* out, ApiError* err) {
            return bedrock_build_body(r, "anthropic.claude-sonnet-4-5", key, out, err);
        });
}

int main(int argc, char** argv) {
    size_t iters = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
    std::string only_builder = argc > 2 ? argv[2] : "";  // anthropic | gemini | bedrock
    json_set_alloc_funcs(jansson_malloc, std::free);
    auto cfg = test::fixture_config();
    const ProviderKey& openai = test::key_by_id(*cfg, 10);
    const ProviderKey& azure = test::key_by_id(*cfg, 20);
    const ProviderKey& zai = test::key_by_id(*cfg, 60);
    const std::string stream = make_stream();

    ProviderKey builder_key;
    builder_key.secret = "sk-bench-builder-key";
    builder_key.metadata = json_parse("{}", nullptr);
    if (!only_builder.empty()) {
        bench_builders(builder_key, iters, only_builder, argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0);
        return 0;
    }

    ApiError err;
    auto probe = parse_chat_request(kBody, &err);
    if (!probe) {
        std::fprintf(stderr, "bench body refused: %s\n", err.message.c_str());
        return 1;
    }
    std::printf("body %zu bytes, answer %zu bytes, stream %zu bytes, %zu iterations\n", kBody.size(), kAnswer.size(),
                stream.size(), iters);

    run("parse_chat_request", iters, [&] {
        auto r = parse_chat_request(kBody, &err);
        return r->message_count;
    });
    run("build_chat_body (openai)", iters, [&] { return build_chat_body(*cfg, openai, *probe, "gpt-4o-2024-11-20").size(); });
    run("build_chat_body (azure v1)", iters, [&] { return build_chat_body(*cfg, azure, *probe, "gpt-4o").size(); });
    run("build_chat_body (zai)", iters, [&] { return build_chat_body(*cfg, zai, *probe, "glm-4.6").size(); });
    run("usage_from_completion", iters, [&] { return static_cast<size_t>(usage_from_completion(kAnswer).total_tokens); });
    run("parse + build + usage (one request, one attempt)", iters, [&] {
        auto r = parse_chat_request(kBody, &err);
        size_t n = build_chat_body(*cfg, openai, *r, "gpt-4o-2024-11-20").size();
        return n + static_cast<size_t>(usage_from_completion(kAnswer).total_tokens);
    });
    run("OpenAIStreamRelay, 22-event stream", iters / 10, [&] {
        OpenAIStreamRelay relay(false);
        std::string out;
        relay.feed(stream, &out);
        relay.finish(&out);
        return out.size() + static_cast<size_t>(relay.usage().total_tokens);
    });
    bench_builders(builder_key, iters, "", 0);
    return 0;
}
