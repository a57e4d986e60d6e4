// Parsing and lookup of the snapshot's price list (see model_prices.hpp).
#include "config/model_prices.hpp"

#include "config/snapshot_text.hpp"
#include "util/json_util.hpp"

#include <algorithm>
#include <optional>

namespace routeshift {
namespace {

// One row's fields, with errors that name the row.
class PriceRow {
public:
    PriceRow(size_t index, const json_t* obj) : obj_(obj), name_("model_prices[" + std::to_string(index) + "]") {}

    bool is_object() const { return json_is_object(obj_); }
    const std::string& name() const { return name_; }
    void set_id(int64_t id) { name_ += " (id " + std::to_string(id) + ")"; }

    // Absent and null are the same; `error` is set (and nullopt returned) for a non-integer or an
    // integer below `min`.
    std::optional<int64_t> integer(const char* key, int64_t min, bool required, std::string* error) const {
        const json_t* v = json_object_get(obj_, key);
        if (v == nullptr || json_is_null(v)) {
            if (required) *error = name_ + ": " + key + " is required";
            return std::nullopt;
        }
        if (!json_is_integer(v)) {
            *error = name_ + ": " + key + " must be an integer, got " + json_type_name(v);
            return std::nullopt;
        }
        int64_t x = json_integer_value(v);
        if (x < min) {
            *error = name_ + ": " + key + " " + std::to_string(x) + " must be >= " + std::to_string(min);
            return std::nullopt;
        }
        return x;
    }

    const json_t* get(const char* key) const { return json_object_get(obj_, key); }

private:
    const json_t* obj_;
    std::string name_;
};

}  // namespace

const ModelPrice* ModelPrices::in_force(size_t provider, std::string_view upstream_model, int64_t now_unix) const {
    if (provider >= by_provider_.size()) return nullptr;
    const ByModel& models = by_provider_[provider];
    auto it = models.find(upstream_model);
    if (it == models.end()) return nullptr;
    const ModelPrice* found = nullptr;
    for (const ModelPrice& row : it->second) {  // sorted by effective_from; a handful of rows
        if (row.effective_from > now_unix) break;
        found = &row;
    }
    return found;
}

bool ModelPrices::parse(const json_t* table, const std::unordered_map<int64_t, size_t>& provider_by_id,
                        std::string* error) {
    by_provider_.assign(provider_by_id.size(), ByModel{});
    rows_ = 0;
    error->clear();  // an optional field's error is told apart by a non-empty message
    if (table == nullptr || json_is_null(table)) return true;
    if (!json_is_array(table)) {
        *error = std::string("model_prices must be an array, got ") + json_type_name(table);
        return false;
    }
    for (size_t i = 0; i < json_array_size(table); ++i) {
        PriceRow row(i, json_array_get(table, i));
        if (!row.is_object()) {
            *error = row.name() + ": expected an object";
            return false;
        }
        ModelPrice price;
        auto id = row.integer("id", INT64_MIN, true, error);
        if (!id) return false;
        price.id = *id;
        row.set_id(price.id);
        auto provider_id = row.integer("provider_id", INT64_MIN, true, error);
        if (!provider_id) return false;
        auto provider = provider_by_id.find(*provider_id);
        if (provider == provider_by_id.end()) {
            *error = row.name() + ": provider_id " + std::to_string(*provider_id) + " does not exist";
            return false;
        }
        const json_t* model = row.get("model");
        if (!json_is_string(model) || json_string_length(model) == 0) {
            *error = row.name() + ": model must be a non-empty string";
            return false;
        }
        std::string model_name(json_string_value(model), json_string_length(model));
        if (has_control_characters(model_name)) {
            *error = row.name() + ": model contains control characters";
            return false;
        }
        auto input = row.integer("input_microcents_per_mtok", 0, true, error);
        if (!input) return false;
        auto output = row.integer("output_microcents_per_mtok", 0, true, error);
        if (!output) return false;
        auto cached = row.integer("cached_input_microcents_per_mtok", 0, false, error);
        if (!cached && !error->empty()) return false;
        auto max_output = row.integer("max_output_tokens", 1, false, error);
        if (!max_output && !error->empty()) return false;
        auto effective_from = row.integer("effective_from", INT64_MIN, true, error);
        if (!effective_from) return false;
        price.input_microcents_per_mtok = *input;
        price.output_microcents_per_mtok = *output;
        price.cached_input_microcents_per_mtok = cached.value_or(*input);
        price.max_output_tokens = max_output.value_or(0);
        price.effective_from = *effective_from;

        std::vector<ModelPrice>& rows = by_provider_[provider->second][model_name];
        auto at = std::lower_bound(rows.begin(), rows.end(), price.effective_from,
                                   [](const ModelPrice& r, int64_t t) { return r.effective_from < t; });
        if (at != rows.end() && at->effective_from == price.effective_from) {
            *error = row.name() + ": duplicate price for model " + quote_value(model_name) + " of provider_id " +
                     std::to_string(*provider_id) + " from " + std::to_string(price.effective_from);
            return false;
        }
        rows.insert(at, price);
        ++rows_;
    }
    return true;
}

}  // namespace routeshift
