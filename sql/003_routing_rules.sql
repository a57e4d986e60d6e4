-- 003: routing rules get their defined shape (docs/routing-rules.md). The module's parser is the
-- full validator (`routeshift-sync check` and `rule add` run it); these constraints catch the
-- shape early for rows written with plain SQL. NOT VALID: rows written before this migration are
-- not re-checked (the parser reports them by id on the next push), so it never fails on old data.

ALTER TABLE routing_rules ADD CONSTRAINT routing_rules_one_action CHECK (
    (action ? 'route')::int + (action ? 'block')::int + (action ? 'tag')::int + (action ? 'static')::int = 1
    AND action - 'route' - 'block' - 'tag' - 'static' = '{}'::jsonb
) NOT VALID;

ALTER TABLE routing_rules ADD CONSTRAINT routing_rules_block_status CHECK (
    NOT (action ? 'block')
    OR (jsonb_typeof(action -> 'block' -> 'status') = 'number'
        AND (action -> 'block' ->> 'status') ~ '^[45][0-9][0-9]$')
) NOT VALID;

COMMENT ON TABLE routing_rules IS
    'Rule chain evaluated before model resolution (lower priority first, ties by id): tag rules add '
    'labels, the first matching route/block/static rule decides. Shape: docs/routing-rules.md.';
COMMENT ON COLUMN routing_rules.match IS
    'What the rule matches (all keys ANDed): virtual_keys, teams, model / model_glob / model_regex, '
    'content_regex, messages_/characters_/tokens_/system_characters_/system_tokens_ min/max, '
    'metadata {key: "exact" | {"regex": ...}}, stream, tools. {} matches everything.';
COMMENT ON COLUMN routing_rules.action IS
    'Exactly one of {"route": {"model"|"alias"|"models"}}, {"block": {"status": 4xx/5xx, "message"}}, '
    '{"tag": {"labels": [...]}}, {"static": {"content": "..."}}.';
COMMENT ON COLUMN routing_rules.conditions IS
    'Gates: time_zone (IANA, embedded in the snapshot by routeshift-sync), time_windows [{start, end}] '
    '"HH:MM", days ["mon",...], environments (routeshift_environment), virtual_keys, teams, '
    'percentage 0..100 with percentage_by "virtual_key" | "session".';
COMMENT ON COLUMN routing_rules.retry_budget IS
    'Max attempts across the chain when this rule decides (route/block/static; rejected on tag rules); '
    'NULL = settings.';
COMMENT ON COLUMN routing_rules.cost_ceiling_microcents IS
    'Max spend of one client request across all attempts when this rule decides, in microcents; '
    'NULL = the settings default (if any).';
