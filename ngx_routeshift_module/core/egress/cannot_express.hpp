// The one error every request builder raises for a request its wire format cannot express (or a
// field that is malformed for it): always a 400 invalid_request_error naming the offending `param`.
// Anything else a builder throws is a bug in the gateway, not in the request: 500 server_error.
#pragma once
#include "dialect/openai_error.hpp"

#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace routeshift {

struct CannotExpress {
    std::string param;    // the request field, e.g. "messages[2].content[0].image_url.url" ("" -> null)
    std::string message;  // for the client; never carries a secret
};

[[noreturn]] inline void cannot_express(std::string param, std::string message) {
    throw CannotExpress{std::move(param), std::move(message)};
}

inline void set_cannot_express_error(const CannotExpress& e, ApiError* err) {
    if (!err) return;
    err->status = 400;
    err->type = "invalid_request_error";
    err->message = e.message;
    err->param = e.param;
    err->code.clear();
}

// Runs `build()` (which returns nothing and throws CannotExpress for a request it cannot express):
// CannotExpress -> 400 with param; bad_alloc propagates (the caller's noexcept boundary logs it);
// any other exception -> 500 server_error "could not build the <provider> request".
template <class Build>
bool run_request_builder(std::string_view provider, Build&& build, ApiError* err) {
    try {
        build();
        return true;
    } catch (const CannotExpress& e) {
        set_cannot_express_error(e, err);
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        if (err) {
            err->status = 500;
            err->type = "server_error";
            err->message = "could not build the " + std::string(provider) + " request";
            err->param.clear();
            err->code.clear();
        }
    }
    return false;
}

}  // namespace routeshift
