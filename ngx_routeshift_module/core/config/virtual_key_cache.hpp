// Per-worker cache of successful virtual-key lookups: presented key string -> index into
// Config::virtual_keys, so a key seen before costs a hash-map probe instead of a SHA-256. Only
// keys that matched are stored, so its size is bounded by the fleet; the limits below bound it
// anyway. It lives in the Config it indexes and is dropped with it. Not thread-safe: one worker
// (one thread) uses it.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace routeshift {

class VirtualKeyCache {
public:
    static constexpr size_t kMaxEntries = 16384;
    static constexpr size_t kMaxBytes = 2 * 1024 * 1024;  // key bytes plus per-entry overhead

    // The virtual-key index cached for `presented_key`, or nullopt.
    std::optional<size_t> find(std::string_view presented_key) const;
    // Remembers a successful lookup; ignored once a limit would be exceeded (then such keys just
    // pay the hash, nothing is evicted).
    void remember(std::string_view presented_key, size_t virtual_key_index);

    size_t size() const { return entries_.size(); }
    size_t bytes() const { return bytes_; }

private:
    // The presented key is a credential: compare it in constant time (for equal lengths).
    // Both transparent: a lookup hashes the string_view, no temporary std::string.
    struct ConstantTimeEqual {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const;
    };
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    static constexpr size_t kEntryOverhead = 64;  // node, hash, bucket: roughly
    std::unordered_map<std::string, size_t, Hash, ConstantTimeEqual> entries_;
    size_t bytes_ = 0;
};

}  // namespace routeshift
