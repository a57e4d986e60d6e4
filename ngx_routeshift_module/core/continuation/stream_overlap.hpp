// Overlap between the text a client already has and the start of a continuation (docs/design.md
// §19): a continuing model may repeat the last words it was shown.
#pragma once
#include <cstddef>
#include <string_view>

namespace routeshift {

// The longest k in [min_length, max_length] such that `delivered` ends with the first k bytes of
// `continuation`; 0 when there is none.
size_t overlap_length(std::string_view delivered, std::string_view continuation, size_t min_length,
                      size_t max_length);

// Whether more of the continuation could still make a longer overlap than the `continuation`
// bytes seen so far show: its text so far occurs in the last `max_length` bytes of `delivered`
// with room after it.
bool overlap_may_grow(std::string_view delivered, std::string_view continuation, size_t max_length);

}  // namespace routeshift
