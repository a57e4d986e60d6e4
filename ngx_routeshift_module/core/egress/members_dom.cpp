// See members_dom.hpp.
#include "egress/members_dom.hpp"

#include "util/json_builder.hpp"

#include <new>

namespace routeshift {

JsonPtr dom_without_messages(const JsonMembers& members) {
    JsonPtr root(new_json_object());
    for (size_t i = 0; i < members.size(); ++i) {
        const JsonMember& m = members[i];
        if (json_key_equals(m, "messages")) continue;
        JsonPtr value = json_parse(m.value.text, nullptr);
        if (!value) throw std::bad_alloc();  // scanned already: only memory can fail here
        std::string key = m.key_escaped ? json_key_decode(m) : std::string(m.key);
        if (json_object_setn_new(root.get(), key.data(), key.size(), value.release()) != 0) throw std::bad_alloc();
    }
    return root;
}

}  // namespace routeshift
