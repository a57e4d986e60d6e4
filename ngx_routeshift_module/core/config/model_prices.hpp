// The snapshot's price list (`model_prices`, docs/design.md §2 and "Cost ceiling"): typed rows
// indexed by (provider, upstream model), so the row in force at any instant is one hash lookup
// and a short scan. Prices are keyed by the UPSTREAM model name (what is sent to the provider and
// what it bills), as the column comment of sql/001 says; a public name or alias has no price of
// its own.
#pragma once
#include <jansson.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace routeshift {

// One price row. Money in microcents (1e-6 US cent) per 1,000,000 tokens.
struct ModelPrice {
    int64_t id = 0;
    int64_t input_microcents_per_mtok = 0;
    int64_t output_microcents_per_mtok = 0;
    int64_t cached_input_microcents_per_mtok = 0;  // the input price when the row leaves it NULL
    int64_t max_output_tokens = 0;                 // the model's output cap; 0 = not configured
    int64_t effective_from = 0;                    // unix seconds: first instant the row applies
};

class ModelPrices {
public:
    // The row in force at `now_unix` for `upstream_model` at provider `provider` (index into
    // Config::providers): the one with the latest effective_from <= now. Rows with a later
    // effective_from take over at their time without a new snapshot. Null when none applies.
    const ModelPrice* in_force(size_t provider, std::string_view upstream_model, int64_t now_unix) const;
    size_t size() const { return rows_; }

    // Parses the snapshot's `model_prices` array (null = no prices). `provider_by_id` maps provider
    // ids to indexes into Config::providers. On a bad row returns false and sets `error` to a
    // message naming it ("model_prices[2] (id 7): ...").
    bool parse(const json_t* table, const std::unordered_map<int64_t, size_t>& provider_by_id,
               std::string* error);

private:
    struct NameHash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    using ByModel = std::unordered_map<std::string, std::vector<ModelPrice>, NameHash, std::equal_to<>>;
    std::vector<ByModel> by_provider_;  // index = provider index; each vector sorted by effective_from
    size_t rows_ = 0;
};

}  // namespace routeshift
