// Text being written into an Anthropic Messages body, as pieces in order: bytes of the builder's own
// (kept in one buffer shared by every list of the request) and views of the client's body (message
// text, images as the escaped tokens the client sent). The body gets each piece once, at the end: a
// 100 KB prompt is copied once instead of into a turn, then a merged turn, then the body.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift::anthropic_internal {

class BlockList {
public:
    // `own`: where the builder's own bytes go; outlives the list and is only ever appended to.
    explicit BlockList(std::string* own) : own_(own) {}

    bool empty() const { return pieces_.empty(); }

    // The builder's own bytes (merged with the previous piece when that one ends the buffer).
    BlockList& operator+=(std::string_view bytes) {
        adopt(own_->size(), bytes.size());
        own_->append(bytes);
        return *this;
    }
    BlockList& operator+=(char c) { return *this += std::string_view(&c, 1); }
    // Bytes written by `write(std::string&)` at the end of the own buffer (json_quoted_append, ...).
    template <class Write>
    void write(Write&& write) {
        size_t at = own_->size();
        write(*own_);
        adopt(at, own_->size() - at);
    }
    // Bytes of the client's body (which outlives the list), not copied until the body is written;
    // the piece's index, for replace().
    size_t borrow(std::string_view bytes) {
        reserve_first();
        pieces_.push_back({bytes.data(), 0, bytes.size()});
        return pieces_.size() - 1;
    }
    // Every piece of `other` (same own buffer) after this list's.
    void append(const BlockList& other) { pieces_.insert(pieces_.end(), other.pieces_.begin(), other.pieces_.end()); }

    size_t piece_count() const { return pieces_.size(); }
    std::string_view piece(size_t i) const {
        const Piece& p = pieces_[i];
        return p.borrowed ? std::string_view(p.borrowed, p.size) : std::string_view(*own_).substr(p.begin, p.size);
    }
    // Piece `i` becomes `bytes` (copied to the own buffer).
    void replace(size_t i, std::string_view bytes) {
        pieces_[i] = {nullptr, own_->size(), bytes.size()};
        own_->append(bytes);
    }

    size_t size() const {
        size_t n = 0;
        for (const Piece& p : pieces_) n += p.size;
        return n;
    }
    void append_to(std::string& out) const {
        for (size_t i = 0; i < pieces_.size(); ++i) out.append(piece(i));
    }

private:
    struct Piece {
        const char* borrowed;  // null: `size` bytes of the own buffer at `begin`
        size_t begin, size;
    };

    void adopt(size_t at, size_t n) {
        if (n == 0) return;
        if (!pieces_.empty()) {
            Piece& last = pieces_.back();
            if (!last.borrowed && last.begin + last.size == at) {
                last.size += n;
                return;
            }
        }
        reserve_first();
        pieces_.push_back({nullptr, at, n});
    }
    // A text block is ~3 pieces: room for a few at once (growing one by one allocated 3 times).
    void reserve_first() {
        if (pieces_.capacity() == 0) pieces_.reserve(8);
    }

    std::string* own_;
    std::vector<Piece> pieces_;
};

}  // namespace routeshift::anthropic_internal
