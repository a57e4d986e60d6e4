-- 011: error-class fallbacks (issue 11 item 5, docs/design.md §20): a request whose prompt is too
-- long for its model (the provider answers context_length_exceeded) goes on to a configured
-- larger-context model instead of failing. Per model row, and per route rule (the rule's wins).

ALTER TABLE models ADD COLUMN context_fallback_model text
    CHECK (context_fallback_model ~ '^[^[:space:][:cntrl:]]{1,200}$'),
    ADD CONSTRAINT models_context_fallback_not_any CHECK (model <> '*' OR context_fallback_model IS NULL);

COMMENT ON COLUMN models.context_fallback_model IS
    'Where a request goes when the provider says its prompt exceeds this model''s context window: a '
    'public model, provider/model or alias (the caller''s team aliases first), planned like the '
    'request''s own model and tried only after the context-length error; NULL = the error goes to '
    'the client (code context_length_exceeded). routeshift-sync check fails for a name that '
    'resolves to nothing.';

ALTER TABLE routing_rules ADD COLUMN context_fallback_model text
    CHECK (context_fallback_model ~ '^[^[:space:][:cntrl:]]{1,200}$');

COMMENT ON COLUMN routing_rules.context_fallback_model IS
    'Route rules only: the context fallback model (as models.context_fallback_model) when this rule '
    'decides; replaces the models rows'' own. NULL = theirs.';
