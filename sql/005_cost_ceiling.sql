-- 005: the per-request cost ceiling (docs/design.md "Cost ceiling"): its gateway-wide default and
-- the per-model output cap that bounds the worst case of an attempt whose request sets no
-- max_tokens / max_completion_tokens.

ALTER TABLE settings
    ADD COLUMN cost_ceiling_microcents bigint CHECK (cost_ceiling_microcents > 0);
COMMENT ON COLUMN settings.cost_ceiling_microcents IS
    'Default per-request cost ceiling in microcents (1e-6 US cent) across all attempts; NULL = none. '
    'A matching routing rule''s cost_ceiling_microcents replaces it. Before each attempt, what the '
    'earlier attempts really cost plus the worst case of the next one must stay within it.';

COMMENT ON COLUMN routing_rules.cost_ceiling_microcents IS
    'Max spend of one client request across all attempts, in microcents; NULL = '
    'settings.cost_ceiling_microcents (itself NULL = no ceiling).';

ALTER TABLE model_prices
    ADD COLUMN max_output_tokens integer CHECK (max_output_tokens > 0);
COMMENT ON COLUMN model_prices.max_output_tokens IS
    'Most completion tokens the model can produce in one answer; the cost ceiling''s worst case '
    'uses it when a request sets neither max_completion_tokens nor max_tokens. NULL = unknown '
    '(only the prompt is counted; routeshift-sync check warns while a ceiling is in force).';

COMMENT ON TABLE model_prices IS
    'Price list per provider and upstream model, in microcents (1e-6 US cent) per 1,000,000 tokens. '
    'A price applies from effective_from until the next row for the same (provider, model). '
    'Keyed by the upstream model name (models.upstream_model, else models.model). Used by the '
    'per-request cost ceiling and by cost accounting.';
