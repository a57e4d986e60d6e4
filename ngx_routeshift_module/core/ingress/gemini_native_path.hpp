// The Gemini native paths (docs/design.md §18 "Gemini native"): `/v1beta/models/{model}:{method}`
// as @google/genai calls them, and the peers' aliases `/v1/models/gemini/{model}:{method}` and
// `/v1/models/gemini/{model}/{method}`. `{model}` is the requested (public) model name.
#pragma once
#include <string_view>

namespace routeshift {

struct GeminiNativePath {
    std::string_view model;   // may contain '/' (e.g. "openai/gpt-4o"); never empty
    std::string_view method;  // "generateContent", "streamGenerateContent", "countTokens", ...
};

// False when `path` (decoded, no query, no trailing slash) is not a model method path.
bool parse_gemini_native_path(std::string_view path, GeminiNativePath* out);

}  // namespace routeshift
