// A canonical::EventSink that records every event as one line of text, so decoder tests compare
// what a decoder says with what the recorded provider answer holds.
#pragma once
#include "canonical/canonical_event.hpp"

#include <string>
#include <vector>

namespace test {

class EventRecorder final : public routeshift::canonical::EventSink {
public:
    std::vector<std::string> events;

    std::string joined() const {
        std::string all;
        for (const auto& e : events) all += e + "\n";
        return all;
    }

    void message_start(const routeshift::canonical::MessageStart& s) override {
        events.push_back("start " + std::string(s.id) + " " + std::string(s.model));
    }
    void choice(size_t index) override { events.push_back("choice " + std::to_string(index)); }
    void text_delta(std::string_view text) override { events.push_back("text " + std::string(text)); }
    void text_delta_with_logprobs(std::string_view text, std::span<const routeshift::canonical::TokenLogprobs> tokens) override {
        std::string line = "text " + std::string(text) + " logprobs";
        for (const auto& token : tokens) {
            line += " " + std::string(token.chosen.token) + "=" + std::string(token.chosen.logprob) + "[";
            for (size_t i = 0; i < token.top.size(); ++i)
                line += (i ? "," : "") + std::string(token.top[i].token) + "=" + std::string(token.top[i].logprob);
            line += "]";
        }
        events.push_back(line);
    }
    void reasoning_delta(std::string_view text) override { events.push_back("reasoning " + std::string(text)); }
    void reasoning_state(std::string_view blocks) override { events.push_back("state " + std::string(blocks)); }
    void refusal_delta(std::string_view text) override { events.push_back("refusal " + std::string(text)); }
    void tool_call_start(size_t index, std::string_view id, std::string_view name, std::string_view args) override {
        events.push_back("tool " + std::to_string(index) + " " + std::string(id) + " " + std::string(name) + " " +
                         std::string(args));
    }
    void tool_call_arguments_delta(size_t index, std::string_view args) override {
        events.push_back("args " + std::to_string(index) + " " + std::string(args));
    }
    void image(std::string_view media_type, std::string_view data) override {
        events.push_back("image " + std::string(media_type) + " " + std::string(data));
    }
    void usage(const routeshift::canonical::UsageReport& u) override {
        events.push_back("usage " + std::to_string(u.input_tokens) + " " + std::to_string(u.cache_read_tokens) + " " +
                         std::to_string(u.cache_write_tokens) + " " + std::to_string(u.output_tokens) + " " +
                         std::to_string(u.reasoning_tokens));
    }
    void finish(routeshift::canonical::FinishReason r) override {
        using routeshift::canonical::FinishReason;
        events.push_back(std::string("finish ") + (r == FinishReason::stop         ? "stop"
                                                   : r == FinishReason::length     ? "length"
                                                   : r == FinishReason::tool_calls ? "tool_calls"
                                                                                   : "content_filter"));
    }
    void error(const routeshift::canonical::ErrorReport& e) override {
        events.push_back("error " + std::to_string(e.status) + " " + std::string(e.code) + " " + std::string(e.message));
    }
    void keep_alive() override { events.push_back("keep_alive"); }
};

}  // namespace test
