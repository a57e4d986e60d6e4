// The Gemini generateContent / streamGenerateContent?alt=sse wire.
#include "egress/wire_adapters.hpp"

namespace routeshift {
namespace {

class GeminiWire final : public WireAdapter {
public:
    bool endpoint(const Config& cfg, const ProviderKey& key, std::string_view upstream_model, bool stream,
                  UpstreamEndpoint* out, std::string* error) const override {
        const Provider& prov = cfg.providers[key.provider];
        std::string base = prov.base_url_set ? prov.base_url : std::string(kGeminiDefaultBaseUrl);
        if (!endpoint_from_url(base, "", out, error)) return false;
        out->path = gemini_request_path(out->path, upstream_model, stream);
        return true;
    }
    bool build_body(const Config&, const ProviderKey& key, const ChatRequest& req,
                    std::string_view upstream_model, std::string* out, ApiError* err) const override {
        if (!req.gemini_client_body.empty()) {  // a Gemini native client: its body as sent
            *out = req.gemini_client_body;
            return true;
        }
        return gemini_build_body(req, upstream_model, key, out, err);
    }
    bool request_head(const Config&, const ProviderKey& key, const UpstreamEndpoint& ep, bool stream,
                      std::string_view body, int64_t, std::string* out, std::string*) const override {
        *out = json_post_head(ep, stream, body, gemini_request_headers(key));
        return true;
    }
    bool converts() const override { return true; }
    std::unique_ptr<ResponseTranslator> translator(const TranslatorOptions& opt, std::string_view) const override {
        return gemini_translator(opt);
    }
    ErrorVerdict classify_error(int status, std::string_view body, const ErrorContext& ctx) const override {
        return gemini_classify_error(status, body, ctx.secrets);
    }
};

}  // namespace

const WireAdapter& gemini_wire() {
    static const GeminiWire adapter;
    return adapter;
}

}  // namespace routeshift
