// Tool-call ids across providers (see tool_call_id.hpp).
#include "egress/tool_call_id.hpp"

#include "egress/bedrock/sigv4.hpp"

namespace routeshift {

bool portable_tool_call_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

std::string provider_tool_call_id(std::string_view id) {
    if (portable_tool_call_id(id)) return std::string(id);
    return "rs_" + sha256_hex(id).substr(0, 40);
}

}  // namespace routeshift
