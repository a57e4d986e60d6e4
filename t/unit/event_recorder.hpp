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
    void text_delta(std::string_view text) override { events.push_back("text " + std::string(text)); }
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
