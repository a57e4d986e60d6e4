// The AWS Bedrock Converse / ConverseStream wire (SigV4 on every attempt).
#include "egress/wire_adapters.hpp"

namespace routeshift {
namespace {

class BedrockWire final : public WireAdapter {
public:
    bool endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model, bool stream,
                  UpstreamEndpoint* out, std::string* error) const override {
        const Provider& prov = cfg.providers[key.provider];
        std::string host = bedrock_default_host(key);
        if (!prov.base_url_set && host.empty()) {
            *error = "bedrock key " + std::to_string(key.id) + " has no usable metadata.region";
            return false;
        }
        std::string base = prov.base_url_set ? prov.base_url : "https://" + host;
        if (!endpoint_from_url(base, "", out, error)) return false;
        out->path += bedrock_path(upstream_model, stream);
        return true;
    }
    bool build_body(const Config&, const ProviderKey& key, const ChatRequest& req,
                    std::string_view upstream_model, std::string* out, ApiError* err) const override {
        return bedrock_build_body(req, upstream_model, key, out, err);
    }
    bool request_head(const Config&, const ProviderKey& key, const UpstreamEndpoint& ep, bool stream,
                      std::string_view body, int64_t now_unix, std::string* out, std::string* error) const override {
        return bedrock_request_head(ep.host, ep.host_header, ep.path, key, stream, body, now_unix, out, error);
    }
    bool converts() const override { return true; }
    std::unique_ptr<ResponseTranslator> translator(const TranslatorOptions& opt, std::string_view) const override {
        return bedrock_translator(opt);
    }
    ErrorVerdict classify_error(int status, std::string_view body, const ErrorContext& ctx) const override {
        return bedrock_classify_error(status, body, ctx.amzn_error_type);
    }
};

}  // namespace

const WireAdapter& bedrock_wire() {
    static const BedrockWire adapter;
    return adapter;
}

}  // namespace routeshift
