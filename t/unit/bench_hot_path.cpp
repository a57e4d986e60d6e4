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
#include "ingress/chat_request.hpp"
#include "snapshot_fixture.hpp"
#include "egress/openai/stream_relay.hpp"
#include "egress/openai/upstream_request.hpp"

#include <atomic>
#include <time.h>
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

int main(int argc, char** argv) {
    size_t iters = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
    json_set_alloc_funcs(jansson_malloc, std::free);
    auto cfg = test::fixture_config();
    const ProviderKey& openai = test::key_by_id(*cfg, 10);
    const ProviderKey& azure = test::key_by_id(*cfg, 20);
    const ProviderKey& zai = test::key_by_id(*cfg, 60);
    const std::string stream = make_stream();

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
    return 0;
}
