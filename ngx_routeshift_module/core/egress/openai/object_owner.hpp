// Which team a file or batch in a shared provider account belongs to (docs/design.md §21). The
// files provider's keys hold every team's files and batches in one account, and the provider's
// list calls return all of them: without a mark, one team's `GET /v1/files` would hand it ids
// (valid for its own team) of another team's files. The gateway marks what a team creates, in the
// only free-form places the provider keeps:
//   - a file: its filename starts with "rs-t<team id>-" (the client's filename follows);
//   - a batch: its metadata carries "routeshift_team": "<team id>" (the client's metadata stays).
// Lists are filtered to the caller's team and the marks are removed from every answer, so clients
// see their own filenames and metadata. Objects without a mark (created outside the gateway, or a
// batch's output files) are in no team's list; they stay reachable through ids the gateway handed
// out (a batch's output_file_id).
#pragma once
#include "egress/openai/relay_request.hpp"
#include "ingress/openai_relay_endpoints.hpp"
#include "util/json_scan.hpp"

#include <jansson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace routeshift {

// "rs-t<team id>-": the start of the provider-side filename of a file `team_id` uploaded.
std::string owner_filename_prefix(int64_t team_id);

// The batch metadata key naming the team that created the batch (reserved: a client's metadata
// may not use it).
inline constexpr std::string_view kBatchOwnerMetadataKey = "routeshift_team";

// Insertions that put the team's filename prefix before each filename value of an upload (the
// offsets of the values of `filename=` / `filename*=` parameters in the client's multipart body).
void mark_upload_owner(const std::vector<size_t>& filename_offsets, int64_t team_id,
                       std::vector<SpanReplacement>* out);

// The replacements that add kBatchOwnerMetadataKey to a batch-create JSON body (`members` are the
// body's top-level members, viewing `body`): into the client's `metadata` object, or as a new
// `metadata` member when there is none (or it is null). False + `error` (a 400's message) when the
// client's metadata is not an object or already uses the reserved key.
bool mark_batch_owner(std::string_view body, const JsonMembers& members, int64_t team_id,
                      std::vector<SpanReplacement>* out, std::string* error);

// List calls over-fetch so that filtering still fills the client's page: the provider's page size
// asked for (`fetch`) and the client's when it gives none (`client_default`, the provider's
// documented default). False for endpoints that are not owner-filtered lists.
bool owner_list_limits(RelayEndpoint endpoint, size_t* fetch, size_t* client_default);

struct ObjectOwnerScope {
    int64_t team_id = 0;
    size_t list_limit = 0;  // a list keeps at most this many items (0: no limit)
};

// A parsed answer of the files/batches endpoints, before its ids are rewritten: a list keeps only
// `scope.team_id`'s objects (at most `list_limit`; `has_more`, `first_id` and `last_id` follow),
// and the marks come off every file's filename and batch's metadata (metadata left empty is null,
// as the provider shows a batch created without any).
void scope_answer_to_owner(json_t* root, const ObjectOwnerScope& scope);

}  // namespace routeshift
