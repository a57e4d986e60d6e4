// AWS event-stream framing decoder (see aws_eventstream.hpp).
#include "egress/bedrock/aws_eventstream.hpp"
#include "util/hex.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace routeshift {

namespace {

constexpr std::array<uint32_t, 256> make_crc_table() {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[i] = c;
    }
    return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

uint32_t be32(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return (uint32_t(u[0]) << 24) | (uint32_t(u[1]) << 16) | (uint32_t(u[2]) << 8) | uint32_t(u[3]);
}
uint16_t be16(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return static_cast<uint16_t>((u[0] << 8) | u[1]);
}
uint64_t be64(const char* p) { return (uint64_t(be32(p)) << 32) | be32(p + 4); }

std::string hex32(uint32_t v) {
    std::string s;
    append_hex_digits(s, v, 8);
    return s;
}

// Parses the header block of a frame whose CRCs are already verified.
bool parse_headers(std::string_view hb, std::vector<EsHeader>* out, std::string* error) {
    out->clear();
    size_t i = 0;
    auto bad = [error](const char* m) {
        *error = m;
        return false;
    };
    while (i < hb.size()) {
        const size_t name_len = static_cast<unsigned char>(hb[i]);
        ++i;
        if (name_len == 0) return bad("event-stream header with an empty name");
        if (hb.size() - i < name_len + 1) return bad("event-stream header name overruns the header block");
        EsHeader h;
        h.name = hb.substr(i, name_len);
        i += name_len;
        const unsigned t = static_cast<unsigned char>(hb[i]);
        ++i;
        const size_t left = hb.size() - i;
        const char* p = hb.data() + i;
        switch (t) {
        case 0:
        case 1:
            h.type = static_cast<EsHeaderType>(t);
            h.int_value = t == 0 ? 1 : 0;
            break;
        case 2:
            if (left < 1) return bad("event-stream byte header truncated");
            h.type = EsHeaderType::byte;
            h.int_value = static_cast<int8_t>(static_cast<unsigned char>(p[0]));
            i += 1;
            break;
        case 3:
            if (left < 2) return bad("event-stream short header truncated");
            h.type = EsHeaderType::int16;
            h.int_value = static_cast<int16_t>(be16(p));
            i += 2;
            break;
        case 4:
            if (left < 4) return bad("event-stream integer header truncated");
            h.type = EsHeaderType::int32;
            h.int_value = static_cast<int32_t>(be32(p));
            i += 4;
            break;
        case 5:
        case 8:
            if (left < 8) return bad("event-stream long/timestamp header truncated");
            h.type = static_cast<EsHeaderType>(t);
            h.int_value = static_cast<int64_t>(be64(p));
            i += 8;
            break;
        case 6:
        case 7: {
            if (left < 2) return bad("event-stream string header truncated");
            const size_t n = be16(p);
            if (left - 2 < n) return bad("event-stream string header overruns the header block");
            h.type = static_cast<EsHeaderType>(t);
            h.bytes = hb.substr(i + 2, n);
            i += 2 + n;
            break;
        }
        case 9:
            if (left < 16) return bad("event-stream uuid header truncated");
            h.type = EsHeaderType::uuid;
            h.bytes = hb.substr(i, 16);
            i += 16;
            break;
        default: return bad("event-stream header of unknown type");
        }
        out->push_back(h);
    }
    return true;
}

bool check_prelude_bytes(const char* p, size_t max, uint32_t* total, std::string* error) {
    const uint32_t tl = be32(p), hl = be32(p + 4), pc = be32(p + 8);
    const uint32_t crc = crc32_ieee(std::string_view(p, 8));
    if (crc != pc) {
        *error = "Prelude checksum mismatch (computed " + hex32(crc) + ", frame says " + hex32(pc) + ")";
        return false;
    }
    if (tl < EventStreamDecoder::kMinMessageBytes) {
        *error = "event-stream message length " + std::to_string(tl) + " is below the minimum of 16";
        return false;
    }
    if (hl > tl - EventStreamDecoder::kMinMessageBytes) {
        *error = "event-stream headers length " + std::to_string(hl) + " exceeds the message length " +
                 std::to_string(tl);
        return false;
    }
    if (tl > max) {
        *error = "event-stream message of " + std::to_string(tl) + " bytes exceeds the limit of " +
                 std::to_string(max);
        return false;
    }
    *total = tl;
    return true;
}

bool decode_checked(std::string_view frame, EsMessage* m, std::string* error) {
    const char* p = frame.data();
    m->total_length = be32(p);
    m->headers_length = be32(p + 4);
    m->prelude_crc = be32(p + 8);
    m->message_crc = be32(p + frame.size() - 4);
    const uint32_t crc = crc32_ieee(frame.substr(0, frame.size() - 4));
    if (crc != m->message_crc) {
        *error = "Message checksum mismatch (computed " + hex32(crc) + ", frame says " + hex32(m->message_crc) + ")";
        return false;
    }
    if (!parse_headers(frame.substr(12, m->headers_length), &m->headers, error)) return false;
    m->payload = frame.substr(12 + m->headers_length, frame.size() - 16 - m->headers_length);
    return true;
}

}  // namespace

uint32_t crc32_ieee(std::string_view data, uint32_t crc) {
    crc = ~crc;
    for (char ch : data) crc = kCrcTable[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

const EsHeader* EsMessage::header(std::string_view name) const {
    for (const EsHeader& h : headers)
        if (h.name == name) return &h;
    return nullptr;
}

std::string_view EsMessage::string_header(std::string_view name) const {
    const EsHeader* h = header(name);
    if (!h || (h->type != EsHeaderType::string && h->type != EsHeaderType::bytes)) return {};
    return h->bytes;
}

bool EventStreamDecoder::decode_frame(std::string_view frame, EsMessage* out, std::string* error) {
    std::string err;
    uint32_t total = 0;
    if (frame.size() < kPreludeBytes) {
        if (error) *error = "event-stream frame shorter than its prelude";
        return false;
    }
    if (!check_prelude_bytes(frame.data(), 0xFFFFFFFFu, &total, &err)) {
        if (error) *error = err;
        return false;
    }
    if (total != frame.size()) {
        if (error) *error = "event-stream frame length does not match its prelude";
        return false;
    }
    if (!decode_checked(frame, out, &err)) {
        if (error) *error = err;
        return false;
    }
    return true;
}

bool EventStreamDecoder::fail(std::string msg) {
    failed_ = true;
    error_ = std::move(msg);
    buf_.clear();
    buf_.shrink_to_fit();
    need_ = 0;
    return false;
}

uint32_t EventStreamDecoder::check_prelude(const char* p) {
    uint32_t total = 0;
    std::string err;
    if (!check_prelude_bytes(p, max_, &total, &err)) {
        fail(std::move(err));
        return 0;
    }
    return total;
}

bool EventStreamDecoder::deliver(std::string_view frame, const std::function<void(const EsMessage&)>& on_message) {
    std::string err;
    if (!decode_checked(frame, &scratch_, &err)) return fail(std::move(err));
    ++messages_;
    on_message(scratch_);
    return true;
}

bool EventStreamDecoder::feed(std::string_view bytes, const std::function<void(const EsMessage&)>& on_message) {
    if (failed_) return false;
    // 1. Complete the buffered message, if any.
    while (!buf_.empty() && !bytes.empty()) {
        if (buf_.size() < kPreludeBytes) {
            const size_t take = std::min(kPreludeBytes - buf_.size(), bytes.size());
            buf_.append(bytes.data(), take);
            bytes.remove_prefix(take);
            if (buf_.size() < kPreludeBytes) return true;
            need_ = check_prelude(buf_.data());
            if (need_ == 0) return false;
            buf_.reserve(need_);
        }
        const size_t take = std::min(need_ - buf_.size(), bytes.size());
        buf_.append(bytes.data(), take);
        bytes.remove_prefix(take);
        if (buf_.size() < need_) return true;
        std::string frame = std::move(buf_);
        buf_.clear();
        need_ = 0;
        if (!deliver(frame, on_message)) return false;
        buf_ = std::move(frame);  // keep the capacity for the next partial message
        buf_.clear();
    }
    // 2. Whole messages straight from the input, no copy.
    while (bytes.size() >= kPreludeBytes) {
        const uint32_t total = check_prelude(bytes.data());
        if (total == 0) return false;
        if (bytes.size() < total) {
            need_ = total;
            break;
        }
        if (!deliver(bytes.substr(0, total), on_message)) return false;
        bytes.remove_prefix(total);
    }
    // 3. Keep the incomplete tail (its prelude already checked when it is 12 bytes or more).
    if (!bytes.empty()) {
        if (need_) buf_.reserve(need_);
        buf_.append(bytes.data(), bytes.size());
    }
    return true;
}

}  // namespace routeshift
