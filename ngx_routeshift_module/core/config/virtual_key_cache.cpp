// Cache of successful virtual-key lookups (see virtual_key_cache.hpp).
#include "config/virtual_key_cache.hpp"

#include <openssl/crypto.h>

namespace routeshift {

bool VirtualKeyCache::ConstantTimeEqual::operator()(std::string_view a, std::string_view b) const {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<size_t> VirtualKeyCache::find(std::string_view presented_key) const {
    if (entries_.empty()) return std::nullopt;
    auto it = entries_.find(presented_key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
}

void VirtualKeyCache::remember(std::string_view presented_key, size_t virtual_key_index) {
    size_t cost = presented_key.size() + kEntryOverhead;
    if (entries_.size() >= kMaxEntries || bytes_ + cost > kMaxBytes) return;
    if (entries_.emplace(std::string(presented_key), virtual_key_index).second) bytes_ += cost;
}

}  // namespace routeshift
