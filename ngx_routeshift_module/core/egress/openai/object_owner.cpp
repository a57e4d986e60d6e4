// Team marks on files and batches of a shared provider account (see object_owner.hpp).
#include "egress/openai/object_owner.hpp"

#include "util/json_util.hpp"

namespace routeshift {
namespace {

std::string team_text(int64_t team_id) { return std::to_string(team_id); }

// `"routeshift_team":"<team>"`
std::string owner_member(int64_t team_id) {
    std::string member = "\"";
    member += kBatchOwnerMetadataKey;
    member += "\":\"";
    member += team_text(team_id);
    member += '"';
    return member;
}

bool file_owned(json_t* file, std::string_view prefix) {
    std::string_view name = json_string_view(file, "filename");
    return name.size() >= prefix.size() && name.substr(0, prefix.size()) == prefix;
}

void unmark_file(json_t* file, std::string_view prefix) {
    if (!file_owned(file, prefix)) return;
    std::string_view name = json_string_view(file, "filename");
    name.remove_prefix(prefix.size());
    json_object_set_new(file, "filename", json_stringn(name.data(), name.size()));
}

// kBatchOwnerMetadataKey views a literal: NUL-terminated, as jansson's keys must be
const char* const kOwnerKey = kBatchOwnerMetadataKey.data();

bool batch_owned(json_t* batch, std::string_view team) {
    json_t* metadata = json_object_get(batch, "metadata");
    return json_is_string(json_object_get(metadata, kOwnerKey)) && json_string_view(metadata, kOwnerKey) == team;
}

void unmark_batch(json_t* batch) {
    json_t* metadata = json_object_get(batch, "metadata");
    if (!json_is_object(metadata)) return;
    if (json_object_del(metadata, kOwnerKey) != 0) return;
    if (json_object_size(metadata) == 0) json_object_set_new(batch, "metadata", json_null());
}

// Marks no provider id has (theirs are "file-…", "batch_…").
constexpr std::string_view kListCursorMark = "rs-cursor:";

}  // namespace

std::string owner_filename_prefix(int64_t team_id) { return "rs-t" + team_text(team_id) + "-"; }

OwnerMarks::OwnerMarks(int64_t team_id) : filename_prefix(owner_filename_prefix(team_id)), team(team_text(team_id)) {}

bool owned_by(json_t* item, const OwnerMarks& marks) {
    std::string_view object = json_string_view(item, "object");
    if (object == "file") return file_owned(item, marks.filename_prefix);
    if (object == "batch") return batch_owned(item, marks.team);
    return false;  // a list of these endpoints holds nothing else: what cannot be attributed is not shown
}

void remove_owner_mark(json_t* item, const OwnerMarks& marks) {
    std::string_view object = json_string_view(item, "object");
    if (object == "file") unmark_file(item, marks.filename_prefix);
    else if (object == "batch") unmark_batch(item);
}

std::string list_cursor(std::string_view provider_id) {
    std::string cursor(kListCursorMark);
    cursor.append(provider_id);
    return cursor;
}

bool list_cursor_position(std::string_view provider_id, std::string_view* position) {
    if (provider_id.substr(0, kListCursorMark.size()) != kListCursorMark) return false;
    *position = provider_id.substr(kListCursorMark.size());
    return true;
}

void mark_upload_owner(const std::vector<size_t>& filename_offsets, int64_t team_id,
                       std::vector<SpanReplacement>* out) {
    for (size_t offset : filename_offsets) out->push_back(SpanReplacement{offset, 0, owner_filename_prefix(team_id)});
}

bool mark_batch_owner(std::string_view body, const JsonMembers& members, int64_t team_id,
                      std::vector<SpanReplacement>* out, std::string* error) {
    JsonValue metadata = json_find(members, "metadata");
    if (!metadata) {
        size_t open = body.find('{');  // the scanned body is an object: only whitespace before it
        std::string member = "\"metadata\":{" + owner_member(team_id) + "}";
        if (!members.empty()) member += ',';
        out->push_back(SpanReplacement{open + 1, 0, std::move(member)});
        return true;
    }
    size_t at = (size_t)(metadata.text.data() - body.data());
    if (metadata.is(JsonType::null)) {
        out->push_back(SpanReplacement{at, metadata.text.size(), "{" + owner_member(team_id) + "}"});
        return true;
    }
    if (!metadata.is(JsonType::object)) {
        *error = "'metadata' must be an object.";
        return false;
    }
    JsonObjectReader reader(metadata);
    JsonMember m;
    bool empty = true;
    while (reader.next(&m)) {
        empty = false;
        if (json_key_equals(m, kBatchOwnerMetadataKey)) {
            *error = "The metadata key '" + std::string(kBatchOwnerMetadataKey) + "' is reserved by the gateway.";
            return false;
        }
    }
    std::string member = owner_member(team_id);
    if (!empty) member += ',';
    out->push_back(SpanReplacement{at + 1, 0, std::move(member)});  // after the object's '{'
    return true;
}

bool owner_list_limits(RelayEndpoint endpoint, OwnerListLimits* limits) {
    switch (endpoint) {
    case RelayEndpoint::files_list:  // OpenAI: limit 1..10000, default 10000; 10 pages: 100000 files
        *limits = OwnerListLimits{10000, 10000, 10};
        return true;
    case RelayEndpoint::batches_list:  // OpenAI: limit 1..100, default 20; 50 pages: 5000 batches
        *limits = OwnerListLimits{100, 20, 50};
        return true;
    default:
        return false;
    }
}

void scope_answer_to_owner(json_t* root, const ObjectOwnerScope& scope) {
    if (!json_is_object(root) || json_string_view(root, "object") == "list") return;  // lists: OwnerListPager
    remove_owner_mark(root, OwnerMarks(scope.team_id));
}

}  // namespace routeshift
