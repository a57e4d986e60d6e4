// The wire-format registry and the adapters' shared defaults.
#include "egress/wire_adapter.hpp"
#include "egress/wire_adapters.hpp"
#include "util/redaction.hpp"

namespace routeshift {

bool WireAdapter::body_depends_on_key(const Config&, const ProviderKey&) const { return false; }

bool WireAdapter::spliced_request(const Config&, const ProviderKey&, const UpstreamEndpoint&, const ChatRequest&,
                                  std::string_view, std::string*, SplicedBody*) const {
    return false;
}

std::string WireAdapter::client_error_body(int status, std::string_view body, const ErrorContext& ctx) const {
    // redact the decoded text first: a provider's plain text may quote the key in an escaped form
    // ("\u0073k-...") that is only literal text once serialised (found by fuzz_error_normalizer)
    ApiError e = classify_error(status, body, ctx).error;
    e.message = redact_secrets(e.message, ctx.secrets);
    e.param = redact_secrets(e.param, ctx.secrets);
    e.code = redact_secrets(e.code, ctx.secrets);
    return redact_secrets(openai_error_body(e), ctx.secrets);
}

const WireAdapter& wire_adapter(WireFormat wire) {
    switch (wire) {
    case WireFormat::anthropic: return anthropic_wire();
    case WireFormat::gemini: return gemini_wire();
    case WireFormat::bedrock: return bedrock_wire();
    case WireFormat::openai: break;
    }
    return openai_wire();
}

std::unique_ptr<ResponseDecoder> wire_response_decoder(WireFormat wire, bool stream, std::string gateway_id) {
    switch (wire) {
    case WireFormat::anthropic: return anthropic_response_decoder(stream);
    case WireFormat::gemini: return gemini_response_decoder(stream, std::move(gateway_id));
    case WireFormat::bedrock: return bedrock_response_decoder(stream);
    case WireFormat::openai: break;
    }
    return openai_response_decoder(stream);
}

}  // namespace routeshift
