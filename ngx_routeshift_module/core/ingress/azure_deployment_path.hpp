// Azure OpenAI's path shape, /openai/deployments/{name}/chat/completions?api-version=... (docs/design.md
// §18 "Azure-style paths"): {name} is the requested model. Azure ignores the body's `model` on these
// paths, and so does the gateway: the body is served with `model` = {name}, added when absent.
#pragma once
#include <string>
#include <string_view>

namespace routeshift {

// `body` with every top-level "model" member's value replaced by the JSON string `deployment`, or
// with `"model":<deployment>` inserted first when it has none. A body that is not a JSON object
// is returned unchanged (the chat parser answers it with its 400). One copy of the body.
std::string body_with_deployment_model(std::string_view body, std::string_view deployment);

}  // namespace routeshift
