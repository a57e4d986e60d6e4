// US dollars <-> microcents (1e-6 US cent = 1e-8 USD) for the spend and budget commands: exact
// integer arithmetic, no floating point.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsync {

// "$12.50", "$0.00012345": up to 8 decimals (one microcent), trailing zeros trimmed to 2.
std::string format_usd(int64_t microcents);

// "5", "5.25", "$0.00000001" -> microcents; nullopt for anything else (negative, more than 8
// decimals, too large).
std::optional<int64_t> parse_usd(std::string_view text);

}  // namespace rsync
