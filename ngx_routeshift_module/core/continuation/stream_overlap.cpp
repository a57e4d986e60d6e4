// Overlap between delivered text and a continuation (see stream_overlap.hpp). Both bounds are
// small (a few hundred bytes): plain comparisons are enough.
#include "continuation/stream_overlap.hpp"

#include <algorithm>

namespace routeshift {

size_t overlap_length(std::string_view delivered, std::string_view continuation, size_t min_length,
                      size_t max_length) {
    size_t longest = std::min({delivered.size(), continuation.size(), max_length});
    for (size_t k = longest; k >= min_length && k > 0; k--) {
        if (delivered.substr(delivered.size() - k) == continuation.substr(0, k)) return k;
    }
    return 0;
}

bool overlap_may_grow(std::string_view delivered, std::string_view continuation, size_t max_length) {
    if (continuation.size() >= max_length) return false;
    std::string_view tail = delivered.substr(delivered.size() - std::min(delivered.size(), max_length));
    // an occurrence that ends before the tail does: more continuation bytes may extend it
    for (size_t pos = tail.find(continuation); pos != std::string_view::npos; pos = tail.find(continuation, pos + 1)) {
        if (pos + continuation.size() < tail.size()) return true;
    }
    return false;
}

}  // namespace routeshift
