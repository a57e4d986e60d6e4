// One client page of a team-scoped files/batches list, gathered over as many provider pages as it
// takes (docs/design.md §21, "Teams in one provider account"). The files provider's keys hold every
// team's objects; a provider page may hold none of the caller's while the provider has more. The
// pager keeps the caller's objects of each provider page (marks removed) until the client's page is
// full or the provider has no more, and says when another provider page is due (its `after`: the
// provider's last id of the page before). At most `max_pages` provider pages per client call.
#pragma once
#include "egress/openai/object_owner.hpp"
#include "util/json_util.hpp"

#include <jansson.h>

#include <cstdint>
#include <string>

namespace routeshift {

class OwnerListPager {
public:
    // `limit`: the client's page size (>= 1); `max_pages` >= 1.
    OwnerListPager(int64_t team_id, size_t limit, size_t max_pages);

    // One provider page (parsed, provider ids). False: not a list page (no `data` array).
    bool add_page(json_t* page);
    // The client's page is not full, the provider has more and the bound allows another page.
    bool wants_next_page() const;
    // The provider id the next provider page starts after.
    const std::string& next_after() const { return scanned_last_id_; }
    size_t pages() const { return pages_; }
    // The next provider page is the last one this call scans (an answer that cannot be held whole
    // before the client's headers go out cannot be followed by another).
    void end_with_next_page() { max_pages_ = pages_ + 1; }
    bool kept_any() const { return json_array_size(kept_.get()) != 0; }

    // The client's page, in provider ids (the caller rewrites them): the latest provider page's
    // object with `data` = the kept objects, `first_id`/`last_id` = the first and last kept, and
    // `has_more`: an owned object left over, or the provider had more (also when the bound or,
    // with `interrupted`, a failed later provider page ended the scan). A page that kept nothing
    // but stopped at the bound has `last_id` = a list cursor at the last object scanned
    // (list_cursor): the caller may continue there with `after`. Null before the first page.
    JsonPtr answer(bool interrupted) const;

private:
    OwnerMarks marks_;
    size_t limit_;
    size_t max_pages_;
    size_t pages_ = 0;
    JsonPtr kept_;
    JsonPtr last_page_;
    std::string scanned_last_id_;     // the provider's last id of the latest page
    bool provider_has_more_ = false;  // the latest page's has_more
    bool owned_left_over_ = false;    // an owned object found after the page was full
};

}  // namespace routeshift
