// The Anthropic Messages wire (anthropic, minimax, moonshot; zai/mimo with "api":"anthropic").
#include "egress/wire_adapters.hpp"
#include "ingress/anthropic_messages_ingress.hpp"

namespace routeshift {
namespace {

class AnthropicWire final : public WireAdapter {
public:
    bool endpoint(const Config& cfg, const ProviderKey& key, std::string_view, bool, UpstreamEndpoint* out,
                  std::string* error) const override {
        const Provider& prov = cfg.providers[key.provider];
        std::string base = prov.base_url_set ? prov.base_url : anthropic_default_base_url(prov.kind, key);
        return endpoint_from_url(base, kAnthropicMessagesPath, out, error);
    }
    bool build_body(const Config& cfg, const ProviderKey& key, const ChatRequest& req,
                    std::string_view upstream_model, std::string* out, ApiError* err) const override {
        if (!req.anthropic_client_body.empty()) {  // an Anthropic client: its body, model replaced
            *out = anthropic_body_with_model(req.anthropic_client_body, upstream_model);
            return true;
        }
        return anthropic_build_body(req, upstream_model, cfg.providers[key.provider].kind, key, out, err);
    }
    bool request_head(const Config& cfg, const ProviderKey& key, const UpstreamEndpoint& ep, bool stream,
                      std::string_view body, int64_t, std::string* out, std::string*) const override {
        // secrets and metadata with control characters never get past snapshot validation
        *out = json_post_head(ep, stream, body, anthropic_request_headers(cfg.providers[key.provider].kind, key));
        return true;
    }
    bool converts() const override { return true; }
    std::unique_ptr<ResponseTranslator> translator(const TranslatorOptions& opt, std::string_view) const override {
        return anthropic_translator(opt);
    }
    ErrorVerdict classify_error(int status, std::string_view body, const ErrorContext& ctx) const override {
        return anthropic_classify_error(status, body, ctx.secrets);
    }
};

}  // namespace

const WireAdapter& anthropic_wire() {
    static const AnthropicWire adapter;
    return adapter;
}

}  // namespace routeshift
