// A client error found while converting another dialect's body (Anthropic Messages, Gemini
// GenerateContentRequest) into the OpenAI chat shape: thrown where it is found, with the field it
// names, and turned into the one 400 where the conversion started.
#pragma once
#include "dialect/openai_error.hpp"

#include <jansson.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace routeshift {

struct InvalidRequest {
    std::string message;
    std::string param;
};

// Throws InvalidRequest: "<param>: <what>" (just `what` for the body as a whole).
[[noreturn]] inline void invalid(std::string param, std::string what) {
    std::string message = param.empty() ? what : param + ": " + what;
    throw InvalidRequest{std::move(message), std::move(param)};
}

// `e` as the 400 invalid_request_error in `err`; false, for `return refuse(e, err);`.
inline bool refuse(InvalidRequest& e, ApiError* err) {
    err->status = 400;
    err->type = "invalid_request_error";
    err->message = std::move(e.message);
    err->param = std::move(e.param);
    err->code.clear();
    return false;
}

// Google rejects members it does not know ("Unknown name"); so do the Gemini ingresses, rather than
// dropping what the client asked for. Throws InvalidRequest at `where`.
inline void only_known(const json_t* object, const std::string& where, std::initializer_list<const char*> known) {
    const char* key;
    const json_t* value;
    json_object_foreach(const_cast<json_t*>(object), key, value) {
        bool found = false;
        for (const char* k : known) found |= std::string_view(k) == key;
        if (!found) {
            invalid(where, std::string("Invalid JSON payload received. Unknown name \"") + key + "\": Cannot find field.");
        }
    }
}

}  // namespace routeshift
