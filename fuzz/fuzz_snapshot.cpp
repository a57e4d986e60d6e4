// The snapshot parser: any bytes give a Config or an error, never a crash; an accepted snapshot
// parses the same way twice (no hidden state), and an error never quotes a key's secret.
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    auto cfg = routeshift::parse_snapshot(text, &error);
    if (!cfg) {
        fuzz::check(!error.empty(), "a snapshot refused without a reason", text);
        fuzz::check(error.find(fuzz::kSecret) == std::string::npos, "snapshot error quotes the secret", error);
        return 0;
    }
    std::string error2;
    auto again = routeshift::parse_snapshot(text, &error2);
    fuzz::check(again && again->keys.size() == cfg->keys.size() && again->providers.size() == cfg->providers.size(),
                "the same snapshot parsed twice differs", text);
    return 0;
}
