#include "ingress/azure_deployment_path.hpp"

#include "util/json_scan.hpp"
#include "util/json_util.hpp"

namespace routeshift {

std::string body_with_deployment_model(std::string_view body, std::string_view deployment) {
    JsonValue root;
    JsonMembers members;
    if (!json_scan(body, &root, &members, nullptr) || !root.is(JsonType::object)) return std::string(body);
    std::string model;
    json_quoted_append(model, deployment);
    std::string out;
    out.reserve(body.size() + model.size() + 16);
    const char* copied = body.data();  // everything before this is in `out`
    bool replaced = false;
    for (size_t i = 0; i < members.size(); i++) {
        if (!json_key_equals(members[i], "model")) continue;
        const JsonValue& v = members[i].value;
        out.append(copied, v.text.data());
        out += model;
        copied = v.text.data() + v.text.size();
        replaced = true;
    }
    if (!replaced) {
        const char* open = root.text.data() + 1;  // just after '{'
        out.append(body.data(), open);
        out += "\"model\":";
        out += model;
        if (!members.empty()) out += ',';
        copied = open;
    }
    out.append(copied, body.data() + body.size());
    return out;
}

}  // namespace routeshift
