-- 002: request_logs, one row per client request (written by the log shipper of a later issue).
--
-- Partitioned by RANGE (ts) from the start so retention and volume are handled by adding/dropping
-- partitions rather than rewriting the table. For now a single DEFAULT partition holds every row; the
-- log-shipping issue adds monthly partitions ahead of time (rows already in the default partition for
-- that range must be moved first, which is why that should happen before traffic grows).
--
-- Idempotent shipping: a node retries a batch with the same (request_id, ts) and uses
-- INSERT ... ON CONFLICT (request_id, ts) DO NOTHING. (A unique constraint on a partitioned table
-- must contain the partition key, hence ts is part of it; request_id alone is globally unique by
-- construction.) No foreign keys: logs outlive the keys, teams and providers they mention.
-- Not a config table: no NOTIFY trigger.

CREATE SEQUENCE request_logs_id_seq AS bigint;
COMMENT ON SEQUENCE request_logs_id_seq IS 'Ids of request_logs rows.';

CREATE TABLE request_logs (
    id                 bigint NOT NULL DEFAULT nextval('request_logs_id_seq'),
    ts                 timestamptz NOT NULL DEFAULT now(),
    request_id         text NOT NULL CHECK (request_id ~ '^[^[:space:][:cntrl:]]{1,128}$'),
    node               text NOT NULL DEFAULT '',
    virtual_key_id     bigint,
    team_id            bigint,
    session_id         text,
    requested_model    text,
    resolved_model     text,
    provider           text,
    provider_key_id    bigint,
    status             smallint NOT NULL CHECK (status BETWEEN 0 AND 999),
    attempts           smallint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    attempt_statuses   smallint[] NOT NULL DEFAULT '{}',
    stream             boolean NOT NULL DEFAULT false,
    prompt_tokens      integer CHECK (prompt_tokens >= 0),
    completion_tokens  integer CHECK (completion_tokens >= 0),
    cached_tokens      integer CHECK (cached_tokens >= 0),
    cost_microcents    bigint CHECK (cost_microcents >= 0),
    latency_ms         integer CHECK (latency_ms >= 0),
    ttfb_ms            integer CHECK (ttfb_ms >= 0),
    error              text,
    metadata           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    tags               text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, ts),
    UNIQUE (request_id, ts)
) PARTITION BY RANGE (ts);
ALTER SEQUENCE request_logs_id_seq OWNED BY request_logs.id;

CREATE TABLE request_logs_default PARTITION OF request_logs DEFAULT;
COMMENT ON TABLE request_logs_default IS
    'Catch-all partition of request_logs (rows outside every explicit range partition).';

CREATE INDEX request_logs_ts_idx ON request_logs (ts);
CREATE INDEX request_logs_team_ts_idx ON request_logs (team_id, ts);
CREATE INDEX request_logs_virtual_key_ts_idx ON request_logs (virtual_key_id, ts);
CREATE INDEX request_logs_session_ts_idx ON request_logs (session_id, ts) WHERE session_id IS NOT NULL;

COMMENT ON TABLE request_logs IS
    'One row per client request as seen by a gateway node, partitioned by ts. Never contains '
    'provider secrets or virtual keys (only their ids).';
COMMENT ON COLUMN request_logs.id IS 'Row id (unique together with ts).';
COMMENT ON COLUMN request_logs.ts IS 'When the request arrived at nginx; the partition key.';
COMMENT ON COLUMN request_logs.request_id IS
    'Gateway request id (nginx $request_id or equivalent); with ts the idempotency key for shipping.';
COMMENT ON COLUMN request_logs.node IS 'Gateway node (host name) that served the request.';
COMMENT ON COLUMN request_logs.virtual_key_id IS 'virtual_keys.id of the caller; NULL when auth failed.';
COMMENT ON COLUMN request_logs.team_id IS 'teams.id of the caller.';
COMMENT ON COLUMN request_logs.session_id IS 'metadata.session_id or the inferred session.';
COMMENT ON COLUMN request_logs.requested_model IS 'metadata.route_hint or body.model as sent by the client.';
COMMENT ON COLUMN request_logs.resolved_model IS 'Model that served the request (X-RouteShift-Resolved-Model).';
COMMENT ON COLUMN request_logs.provider IS 'providers.name of the last attempt (X-RouteShift-Provider).';
COMMENT ON COLUMN request_logs.provider_key_id IS 'provider_keys.id of the last attempt.';
COMMENT ON COLUMN request_logs.status IS 'HTTP status returned to the client (0 = client went away).';
COMMENT ON COLUMN request_logs.attempts IS 'Upstream attempts made (X-RouteShift-Attempts).';
COMMENT ON COLUMN request_logs.attempt_statuses IS 'Upstream status of each attempt in order, e.g. {429,200}.';
COMMENT ON COLUMN request_logs.stream IS 'Whether the client asked for SSE streaming.';
COMMENT ON COLUMN request_logs.prompt_tokens IS 'usage.prompt_tokens reported upstream.';
COMMENT ON COLUMN request_logs.completion_tokens IS 'usage.completion_tokens reported upstream.';
COMMENT ON COLUMN request_logs.cached_tokens IS 'usage.prompt_tokens_details.cached_tokens reported upstream.';
COMMENT ON COLUMN request_logs.cost_microcents IS
    'Cost across all attempts in microcents (1e-6 US cent), from model_prices.';
COMMENT ON COLUMN request_logs.latency_ms IS 'Time from request start to the last byte sent to the client.';
COMMENT ON COLUMN request_logs.ttfb_ms IS 'Time from request start to the first upstream response byte.';
COMMENT ON COLUMN request_logs.error IS 'Error code/message given to the client (never contains secrets).';
COMMENT ON COLUMN request_logs.metadata IS 'The request''s metadata object (minus route_hint), for analytics.';
COMMENT ON COLUMN request_logs.tags IS 'Tags attached by routing rules.';
