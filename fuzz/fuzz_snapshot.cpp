// The snapshot parser: any bytes give a Config or an error, never a crash; an accepted snapshot
// parses the same way twice (no hidden state), and an error never quotes a key's secret.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    auto cfg = routeshift::parse_snapshot(text, &error);
    if (!cfg) {
        fuzz::check(!error.empty(), "a snapshot refused without a reason", text);
        // The secret marker is a secret only where the input has it as a key's "secret"; a fuzzed
        // input that moved it into a name or kind may see it quoted like any other name.
        size_t anywhere = 0, as_secret = 0;
        for (size_t p = text.find(fuzz::kSecret); p != std::string_view::npos; p = text.find(fuzz::kSecret, p + 1)) {
            ++anywhere;
            std::string_view before = text.substr(0, p);
            if (before.size() >= 10 && before.substr(before.size() - 10) == "\"secret\":\"") ++as_secret;
        }
        if (anywhere == as_secret)
            fuzz::check(error.find(fuzz::kSecret) == std::string::npos, "snapshot error quotes the secret", error);
        return 0;
    }
    std::string error2;
    auto again = routeshift::parse_snapshot(text, &error2);
    fuzz::check(again && again->keys.size() == cfg->keys.size() && again->providers.size() == cfg->providers.size(),
                "the same snapshot parsed twice differs", text);
    return 0;
}
