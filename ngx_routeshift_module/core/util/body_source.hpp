// A request body read through bounded windows (docs/design.md §21): in memory, or in nginx's
// client-body temp file (the glue's source), so a parser never needs a large upload whole.
#pragma once
#include <cstddef>
#include <string_view>

namespace routeshift {

class BodySource {
public:
    virtual ~BodySource() = default;
    virtual size_t size() const = 0;
    // The bytes at [offset, offset + n), fewer only where the body ends; the view lasts until the
    // next read. False when they could not be read (an I/O error, never a short body).
    virtual bool read(size_t offset, size_t n, std::string_view* out) = 0;
};

// A body held in memory: reads are views of it.
class MemoryBodySource final : public BodySource {
public:
    explicit MemoryBodySource(std::string_view body) : body_(body) {}
    size_t size() const override { return body_.size(); }
    bool read(size_t offset, size_t n, std::string_view* out) override {
        *out = offset >= body_.size() ? std::string_view{} : body_.substr(offset, n);
        return true;
    }

private:
    std::string_view body_;
};

}  // namespace routeshift
