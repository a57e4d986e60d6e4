// Provider-key metadata parsing and validation (see key_metadata.hpp).
#include "config/key_metadata.hpp"

#include "config/snapshot_text.hpp"

namespace routeshift {

namespace {

struct MetadataError {
    std::string message;
};

[[noreturn]] void reject(std::string message) { throw MetadataError{std::move(message)}; }

bool valid_dns_label(std::string_view s) {
    if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) return false;
    }
    return true;
}

// What AWS accepts in a credential scope ("us-east-1", "eu-central-2", ...).
bool valid_aws_region(std::string_view s) {
    if (s.empty() || s.size() > 32) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    return true;
}

bool valid_api_version(std::string_view s) {
    if (s.empty() || s.size() > 64) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_';
        if (!ok) return false;
    }
    return true;
}

bool alphanumeric(std::string_view s) {
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

// nullopt when absent or null; a string otherwise (else rejected).
std::optional<std::string> optional_string(const json_t* md, const char* name) {
    const json_t* v = json_object_get(md, name);
    if (!v || json_is_null(v)) return std::nullopt;
    if (!json_is_string(v)) reject(std::string("metadata.") + name + " must be a string, got " + json_type_name(v));
    return std::string(json_string_value(v), json_string_length(v));
}

// "anthropic_beta": one string or an array of strings, sent comma-joined.
std::string anthropic_betas(const json_t* md) {
    const json_t* v = json_object_get(md, "anthropic_beta");
    if (!v || json_is_null(v)) return {};
    if (json_is_string(v)) return std::string(json_string_value(v), json_string_length(v));
    if (!json_is_array(v))
        reject(std::string("metadata.anthropic_beta must be a string or an array of strings, got ") + json_type_name(v));
    std::string joined;
    for (size_t i = 0; i < json_array_size(v); ++i) {
        const json_t* item = json_array_get(v, i);
        if (!json_is_string(item))
            reject("metadata.anthropic_beta[" + std::to_string(i) + "] must be a string, got " + json_type_name(item));
        std::string_view b(json_string_value(item), json_string_length(item));
        if (has_control_characters(b))
            reject("metadata.anthropic_beta[" + std::to_string(i) + "] contains control characters");
        if (b.empty()) continue;
        if (!joined.empty()) joined += ',';
        joined += b;
    }
    return joined;
}

void parse(const json_t* md, ProviderKind kind, KeyMetadata& out) {
    const char* key;
    size_t key_len;
    json_t* value;
    json_object_keylen_foreach(const_cast<json_t*>(md), key, key_len, value) {
        if (json_is_string(value) &&
            has_control_characters(std::string_view(json_string_value(value), json_string_length(value))))
            reject("metadata." + quote_value(std::string_view(key, key_len)) + " contains control characters");
    }
    if (auto v = optional_string(md, "resource_name")) {
        if (!valid_dns_label(*v)) reject("metadata.resource_name must be a DNS label (letters, digits, '-')");
        out.resource_name = std::move(*v);
    }
    if (auto v = optional_string(md, "api_version")) {
        if (!valid_api_version(*v)) reject("metadata.api_version must be \"v1\" or a version such as \"2024-10-21\"");
        out.api_version = std::move(*v);
    }
    if (auto v = optional_string(md, "deployment")) {
        if (v->empty()) reject("metadata.deployment must not be empty");
        out.deployment = std::move(*v);
    }
    out.organization = optional_string(md, "organization").value_or("");
    out.project = optional_string(md, "project").value_or("");
    if (auto v = optional_string(md, "api")) {
        if (*v != "openai" && *v != "anthropic") reject("metadata.api must be \"openai\" or \"anthropic\"");
        out.api = std::move(*v);
    }
    if (auto v = optional_string(md, "region")) {
        if (!valid_dns_label(*v)) reject("metadata.region must be a region name such as us-east-1 or cn");
        if (kind == ProviderKind::bedrock && !valid_aws_region(*v))
            reject("metadata.region is not a valid AWS region name (lower-case, e.g. us-east-1)");
        out.region = std::move(*v);
    }
    if (auto v = optional_string(md, "auth_header")) {
        if (*v == "authorization") out.auth_header = AuthShape::bearer;
        else if (*v == "api-key") out.auth_header = AuthShape::api_key;
        else if (*v == "x-api-key") out.auth_header = AuthShape::x_api_key;
        else if (*v == "none") out.auth_header = AuthShape::none;
        else reject("metadata.auth_header must be one of authorization, api-key, x-api-key, none");
    }
    out.anthropic_version = optional_string(md, "anthropic_version").value_or("");
    out.anthropic_beta = anthropic_betas(md);
    out.access_key_id = optional_string(md, "access_key_id").value_or("");
    out.session_token = optional_string(md, "session_token").value_or("");
    if (auto v = optional_string(md, "continuation")) {
        out.continuation = continuation_style_named(*v);
        if (!out.continuation)
            reject("metadata.continuation must be one of prefill, prefix, continue_final_message, instruction, none");
    }
    if (kind != ProviderKind::bedrock) return;

    // Bedrock signs with SigV4 (access_key_id + the secret) unless the secret is a Bedrock API key.
    if (auto v = optional_string(md, "auth")) {
        if (*v == "api_key" || *v == "bearer") out.bedrock_api_key = true;
        else if (*v != "sigv4") reject("metadata.auth must be \"sigv4\" (default) or \"api_key\"");
    }
    if (out.region.empty()) reject("bedrock key needs metadata.region");
    if (out.bedrock_api_key) return;
    if (out.access_key_id.empty())
        reject("bedrock key needs metadata.access_key_id (or metadata.auth \"api_key\")");
    if (!alphanumeric(out.access_key_id)) reject("metadata.access_key_id is malformed (letters and digits only)");
}

}  // namespace

bool parse_key_metadata(const json_t* md, ProviderKind kind, KeyMetadata* out, std::string* error) {
    KeyMetadata parsed;
    try {
        if (md && !json_is_null(md)) {
            if (!json_is_object(md)) reject(std::string("metadata must be an object, got ") + json_type_name(md));
            parse(md, kind, parsed);
        } else if (kind == ProviderKind::bedrock) {
            reject("bedrock key needs metadata.region");
        }
    } catch (const MetadataError& e) {
        if (error) *error = e.message;
        return false;
    }
    *out = std::move(parsed);
    return true;
}

AuthShape openai_auth_shape(ProviderKind kind, const KeyMetadata& md) {
    if (kind != ProviderKind::openai_compat) return provider_info(kind).auth;
    return md.auth_header.value_or(AuthShape::bearer);
}

}  // namespace routeshift
