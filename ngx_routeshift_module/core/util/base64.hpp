// base64 (RFC 4648): standard with padding (§4; the embeddings' float32 vectors, docs/design.md
// §22) and base64url without padding (§5; client ids of provider objects, §21). Plain C++.
#pragma once
#include <string>
#include <string_view>

namespace routeshift {

// Appends the base64 text of `bytes` to `out`.
void base64_append(std::string& out, std::string_view bytes);

// Decodes padded standard base64 into `out` (replacing its content). False on any other character,
// a wrong length or bad padding.
bool base64_decode(std::string_view text, std::string* out);

// Whether `c` is one of base64url's 64 characters.
bool base64url_character(char c);

// Appends the unpadded base64url text of `bytes` to `out`.
void base64url_append(std::string& out, std::string_view bytes);

// Decodes unpadded base64url strictly (no stray bits in the last character: one text per byte
// string) into `out`. False on any other character or an impossible length.
bool base64url_decode(std::string_view text, std::string* out);

}  // namespace routeshift
