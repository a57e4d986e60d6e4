#include "config/snapshot_digest.hpp"

#include "egress/bedrock/sigv4.hpp"  // the one SHA-256 hex helper

namespace routeshift {

std::string snapshot_digest(std::string_view snapshot_text) { return sha256_hex(snapshot_text); }

}  // namespace routeshift
