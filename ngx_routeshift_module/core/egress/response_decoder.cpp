#include "egress/response_decoder.hpp"

#include <new>

namespace routeshift {

void DecodedResponseTranslator::internal_error() {
    canonical::ErrorReport report;
    report.message = "internal error while translating the upstream answer";
    report.code = "translation_error";
    writer_.error(report);
}

bool DecodedResponseTranslator::feed(std::string_view bytes, std::string* out) {
    writer_.bind(out);
    try {
        if (writer_.saw_error()) return false;
        if (writer_.complete()) return true;  // trailing bytes after the end of the answer
        bool ok = decoder_->feed(bytes, writer_);
        return ok && !writer_.saw_error();
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        internal_error();
        return false;
    }
}

bool DecodedResponseTranslator::finish(std::string* out) {
    writer_.bind(out);
    try {
        if (!writer_.ended() && !finished_) {
            finished_ = true;
            decoder_->finish(writer_);
        }
        return writer_.complete();
    } catch (const std::bad_alloc&) {
        throw;
    } catch (...) {
        internal_error();
        return false;
    }
}

OpenAIChatWriterOptions writer_options(const TranslatorOptions& options, std::string_view fallback_id) {
    OpenAIChatWriterOptions w;
    w.stream = options.stream;
    w.include_usage = options.include_usage;
    w.model = options.model;
    w.id = options.id;
    w.fallback_id.assign(fallback_id);
    w.created = options.created;
    return w;
}

}  // namespace routeshift
