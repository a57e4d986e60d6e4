// Incremental decoder of the AWS event-stream binary framing (application/vnd.amazon.eventstream;
// docs/wire-formats.md, Bedrock Converse → Event-stream framing): feed bytes in any split, get
// whole messages with both CRCs verified.
// Memory is bounded by the largest single message (and by `max_message_bytes`).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

enum class EsHeaderType : uint8_t {
    bool_true = 0,
    bool_false = 1,
    byte = 2,
    int16 = 3,
    int32 = 4,
    int64 = 5,
    bytes = 6,
    string = 7,
    timestamp = 8,  // int64 milliseconds since the epoch
    uuid = 9,       // 16 raw bytes
};

struct EsHeader {
    std::string_view name;
    EsHeaderType type = EsHeaderType::bool_true;
    int64_t int_value = 0;   // byte/int16/int32/int64/timestamp (sign-extended); bool: 1/0
    std::string_view bytes;  // bytes/string/uuid
};

struct EsMessage {
    uint32_t total_length = 0;
    uint32_t headers_length = 0;
    uint32_t prelude_crc = 0;
    uint32_t message_crc = 0;
    std::vector<EsHeader> headers;  // wire order
    std::string_view payload;

    const EsHeader* header(std::string_view name) const;
    // Value of a string (or bytes) header, "" when absent or of another type.
    std::string_view string_header(std::string_view name) const;
};

// CRC-32 (IEEE 802.3 / zlib), continuing from `crc` (0 to start).
uint32_t crc32_ieee(std::string_view data, uint32_t crc = 0);

class EventStreamDecoder {
public:
    static constexpr size_t kPreludeBytes = 12;
    static constexpr size_t kMinMessageBytes = 16;

    explicit EventStreamDecoder(size_t max_message_bytes = 16u << 20) : max_(max_message_bytes) {}

    // Calls `on_message` for every complete, verified message in the bytes seen so far. Returns
    // false at the first framing error (prelude CRC mismatch, impossible lengths, message larger
    // than the limit, message CRC mismatch, malformed headers): error() describes it, nothing after
    // the bad frame is delivered and every later feed() returns false at once. Messages before the
    // bad frame have already been delivered.
    // Lifetime: every view in an EsMessage points into `bytes` or the decoder's buffer and is valid
    // only during the callback.
    bool feed(std::string_view bytes, const std::function<void(const EsMessage&)>& on_message);

    // Bytes of an incomplete trailing message still held (0 at a clean end of stream).
    size_t pending() const { return buf_.size(); }
    bool failed() const { return failed_; }
    const std::string& error() const { return error_; }
    size_t messages() const { return messages_; }
    void reset() {
        buf_.clear();
        need_ = 0;
        failed_ = false;
        error_.clear();
    }

    // Decodes exactly one message occupying all of `frame` (no buffering). Returns false and fills
    // `error` when the frame is invalid.
    static bool decode_frame(std::string_view frame, EsMessage* out, std::string* error);

private:
    // Validates the 12-byte prelude; returns the total length or 0 (error_ set).
    uint32_t check_prelude(const char* p);
    bool deliver(std::string_view frame, const std::function<void(const EsMessage&)>& on_message);
    bool fail(std::string msg);

    std::string buf_;    // the incomplete trailing message (starts at a message boundary)
    size_t need_ = 0;    // total length of the buffered message once its prelude is checked
    size_t max_;
    bool failed_ = false;
    std::string error_;
    size_t messages_ = 0;
    EsMessage scratch_;  // reused to keep the header vector's capacity
};

}  // namespace routeshift
