#include "ingress/gemini_native_path.hpp"

namespace routeshift {

bool parse_gemini_native_path(std::string_view path, GeminiNativePath* out) {
    constexpr std::string_view kNative = "/v1beta/models/";
    constexpr std::string_view kAlias = "/v1/models/gemini/";
    std::string_view rest;
    bool alias = false;
    if (path.starts_with(kNative)) {
        rest = path.substr(kNative.size());
    } else if (path.starts_with(kAlias)) {
        rest = path.substr(kAlias.size());
        alias = true;
    } else {
        return false;
    }
    // the method follows the last ':' (model names may hold '/', never ':' before the method);
    // the alias also takes it as the last path segment
    size_t colon = rest.rfind(':');
    size_t slash = alias ? rest.rfind('/') : std::string_view::npos;
    size_t split = colon;
    if (slash != std::string_view::npos && (colon == std::string_view::npos || slash > colon)) split = slash;
    if (split == std::string_view::npos || split == 0 || split + 1 >= rest.size()) return false;
    out->model = rest.substr(0, split);
    out->method = rest.substr(split + 1);
    return out->method.find('/') == std::string_view::npos;
}

}  // namespace routeshift
