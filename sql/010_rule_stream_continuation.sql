-- 010: a routing rule may turn off mid-stream continuation (issue 11, docs/design.md §19): when a
-- stream breaks after content reached the client, the next candidate continues the same answer
-- unless the deciding rule says false (then the stream ends with its error event, as before).

ALTER TABLE routing_rules ADD COLUMN stream_continuation boolean NOT NULL DEFAULT true;

COMMENT ON COLUMN routing_rules.stream_continuation IS
    'Streams, when this rule decides (route/block/static): whether a stream that breaks after its '
    'first content is continued by the next candidate (true, the default) or ends with an error event.';
