-- 009: a routing rule may set its own first-token limit for streams (issue 11): a rule routing to a
-- slow reasoning model waits longer than the location's routeshift_first_token_timeout, a rule for
-- latency-sensitive traffic fails over sooner. NULL = the directive's limit.

ALTER TABLE routing_rules ADD COLUMN first_token_timeout_ms bigint
    CHECK (first_token_timeout_ms BETWEEN 1 AND 3600000);

COMMENT ON COLUMN routing_rules.first_token_timeout_ms IS
    'Streams, when this rule decides (route/block/static; rejected on tag rules): per attempt, the time '
    'from the pick to the first content-bearing event before the next candidate is tried, in ms '
    '(1..3600000); NULL = routeshift_first_token_timeout.';
