// A team's list page over several provider pages (see owner_list_pages.hpp).
#include "egress/openai/owner_list_pages.hpp"

namespace routeshift {

OwnerListPager::OwnerListPager(int64_t team_id, size_t limit, size_t max_pages)
    : marks_(team_id), limit_(limit ? limit : 1), max_pages_(max_pages ? max_pages : 1), kept_(json_array()) {}

bool OwnerListPager::add_page(json_t* page) {
    json_t* data = json_is_object(page) ? json_object_get(page, "data") : nullptr;
    if (!json_is_array(data)) return false;
    pages_++;
    size_t i;
    json_t* item;
    json_array_foreach(data, i, item) {
        if (!owned_by(item, marks_)) continue;
        if (json_array_size(kept_.get()) == limit_) {
            owned_left_over_ = true;
            break;
        }
        remove_owner_mark(item, marks_);
        json_array_append(kept_.get(), item);
    }
    provider_has_more_ = json_is_true(json_object_get(page, "has_more"));
    // the provider's cursor: its last_id, else the id of the page's last object
    std::string_view last = json_string_view(page, "last_id");
    size_t n = json_array_size(data);
    if (last.empty() && n) last = json_string_view(json_array_get(data, n - 1), "id");
    scanned_last_id_.assign(last);
    last_page_.reset(json_incref(page));
    return true;
}

bool OwnerListPager::wants_next_page() const {
    return pages_ && json_array_size(kept_.get()) < limit_ && provider_has_more_ && !scanned_last_id_.empty() &&
           pages_ < max_pages_;
}

JsonPtr OwnerListPager::answer(bool interrupted) const {
    if (!last_page_) return nullptr;
    JsonPtr out(json_copy(last_page_.get()));  // shallow: its data is replaced
    if (!out) return nullptr;
    size_t n = json_array_size(kept_.get());
    json_t* first = n ? json_object_get(json_array_get(kept_.get(), 0), "id") : nullptr;
    json_t* last = n ? json_object_get(json_array_get(kept_.get(), n - 1), "id") : nullptr;
    bool has_more = owned_left_over_ || provider_has_more_ || (interrupted && n);
    json_object_set(out.get(), "data", kept_.get());
    json_object_set(out.get(), "first_id", json_is_string(first) ? first : json_null());
    if (json_is_string(last)) {
        json_object_set(out.get(), "last_id", last);
    } else if (has_more && !scanned_last_id_.empty()) {
        // nothing kept within the bound: where the scan stopped, for the caller's next `after`
        std::string cursor = list_cursor(scanned_last_id_);
        json_object_set_new(out.get(), "last_id", json_stringn(cursor.data(), cursor.size()));
    } else {
        json_object_set(out.get(), "last_id", json_null());
    }
    json_object_set_new(out.get(), "has_more", json_boolean(has_more));
    return out;
}

}  // namespace routeshift
