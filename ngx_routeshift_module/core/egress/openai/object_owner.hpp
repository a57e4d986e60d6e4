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
// asked for (`fetch`), the client's when it gives none (`client_default`, the provider's documented
// default), and how many provider pages one client call may scan (`max_pages`: the bound on what a
// call costs when the caller's objects are rare in the account).
struct OwnerListLimits {
    size_t fetch = 0;
    size_t client_default = 0;
    size_t max_pages = 0;
};
// False for endpoints that are not owner-filtered lists.
bool owner_list_limits(RelayEndpoint endpoint, OwnerListLimits* limits);

// A team's marks, spelled once for a whole list.
struct OwnerMarks {
    explicit OwnerMarks(int64_t team_id);
    std::string filename_prefix;  // owner_filename_prefix(team)
    std::string team;             // the batch metadata value
};

// Whether a file or batch object of a list carries the team's mark (anything else: no).
bool owned_by(json_t* item, const OwnerMarks& marks);
// The team's mark taken off a file's filename or a batch's metadata (metadata left empty is null,
// as the provider shows a batch created without any).
void remove_owner_mark(json_t* item, const OwnerMarks& marks);

// The position of a list page that kept none of the team's objects (docs/design.md §21): the
// provider's last id scanned, marked so that it reads as a list cursor only. Its client id is a
// valid `after` for the caller, and no object id: a path or body id that decodes to a cursor is
// refused (list_cursor_position), so the caller cannot reach another team's object through it.
std::string list_cursor(std::string_view provider_id);
// True when `provider_id` is a list cursor; `position` the provider id it stands for.
bool list_cursor_position(std::string_view provider_id, std::string_view* position);

struct ObjectOwnerScope {
    int64_t team_id = 0;
};

// A parsed answer of the files/batches endpoints about one object, before its ids are rewritten:
// the team's mark comes off its filename or metadata. Lists are scoped by OwnerListPager.
void scope_answer_to_owner(json_t* root, const ObjectOwnerScope& scope);

}  // namespace routeshift
