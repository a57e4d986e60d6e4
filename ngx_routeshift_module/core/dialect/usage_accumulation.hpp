// How every dialect writer adds up the usage a decoder reports: canonical reports are cumulative
// (a field >= 0 replaces the one before), and the gateway accounts prompt tokens including the
// cached ones (OpenAI's convention), whatever the client's dialect shows.
#pragma once
#include "canonical/canonical_event.hpp"
#include "egress/openai/stream_relay.hpp"

namespace routeshift {

// Takes `report` into `tokens` (the reported counts so far) and recomputes `usage` from them, once
// anything billable is known.
void accumulate_usage(const canonical::UsageReport& report, canonical::UsageReport* tokens, Usage* usage);

}  // namespace routeshift
