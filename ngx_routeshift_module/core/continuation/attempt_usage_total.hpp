// The running usage total of a request's attempts (docs/design.md §19): a continued stream reports
// to its client the usage of every attempt, so each attempt's usage is added as it is accounted,
// independently of the request log (which is only built when a spool is configured).
#pragma once
#include "egress/openai/stream_relay.hpp"

namespace routeshift {

// Adds the known fields of `attempt` (>= 0) to `total`; a field stays unknown (-1) until some
// attempt reports it. total_tokens is prompt + completion of what is known.
void add_attempt_usage(Usage* total, const Usage& attempt);

// What an attempt used: the usage its error body reported (a failed attempt is billed too), else
// the answer's when it got as far as an answer, else nothing known.
const Usage& attempt_usage(const Usage& error_usage, const Usage& answer_usage, bool answered);

}  // namespace routeshift
