// The OpenAI-compatible stream relay (stream_relay.hpp) behind the ResponseTranslator
// interface, so the transport treats every provider's answer the same way.
#pragma once
#include "egress/provider_adapter.hpp"
#include <memory>

namespace routeshift {

std::unique_ptr<ResponseTranslator> openai_stream_translator(bool include_usage);

}  // namespace routeshift
