#include "egress/response_decoder.hpp"

#include <new>

namespace routeshift {

canonical::ErrorReport error_report_for(const ApiError& error) {
    canonical::ErrorReport report;
    report.status = error.status;
    report.type = error.type;
    report.message = error.message;
    report.param = error.param;
    report.code = error.code;
    return report;
}

canonical::ErrorReport stream_error_report(std::string_view message, std::string_view code) {
    canonical::ErrorReport report;
    report.message = message;
    report.code = code;
    return report;
}

void DecodedResponseTranslator::internal_error() {
    writer_.error(stream_error_report("internal error while translating the upstream answer", "translation_error"));
}

bool DecodedResponseTranslator::feed(std::string_view bytes, std::string* out) {
    writer_.bind(out);
    try {
        if (writer_.saw_error() || finished_) return false;  // nothing is accepted after finish()
        if (writer_.complete()) return true;  // trailing bytes after the end of the answer
        bool ok = decoder_->feed(bytes, observer_);
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
        bool first_call = !finished_;
        finished_ = true;
        if (first_call && !writer_.ended()) decoder_->finish(observer_);
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
    w.legacy_functions = options.legacy_functions;
    return w;
}

}  // namespace routeshift
