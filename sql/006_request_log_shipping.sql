-- 006: request log shipping (docs/design.md §11). The nginx module spools one JSON record per client
-- request; routeshift-sync ships the records with INSERT ... ON CONFLICT (request_id, ts) DO NOTHING
-- (002's unique key; unchanged) and keeps the table in monthly partitions.
--
-- request_logs is already partitioned by RANGE (ts) with only a DEFAULT partition (002). Monthly
-- partitions are created ahead of time by request_logs_ensure_partitions(), which the shipper calls
-- at start and hourly: rows the DEFAULT partition already holds for a new month are moved into it
-- in the same transaction before it is attached, so nothing is lost and ATTACH cannot fail on them.
-- Retention drops whole monthly partitions (and deletes old rows of the DEFAULT one).

-- What the record adds to 002's columns.
ALTER TABLE request_logs ADD COLUMN attempt_details jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(attempt_details) = 'array');
ALTER TABLE request_logs ADD COLUMN usage_estimated boolean NOT NULL DEFAULT false;
ALTER TABLE request_logs ADD COLUMN matched_rules bigint[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN request_logs.attempt_details IS
    'Every upstream attempt in order: [{provider, provider_key_id, model, status, latency_ms, error_class, '
    'prompt_tokens, completion_tokens, cached_tokens, cost_microcents}] (error_class: null on success, '
    'http_<status>, connect, timeout, cut, client_gone).';
COMMENT ON COLUMN request_logs.usage_estimated IS
    'The answer was cut before the provider reported usage: the token counts (and cost) are the '
    'gateway''s estimate (prompt estimate + relayed bytes), see docs/design.md §11.';
COMMENT ON COLUMN request_logs.matched_rules IS 'Ids of every routing rule that applied.';

ALTER TABLE settings ADD COLUMN request_log_retention_days integer
    CHECK (request_log_retention_days BETWEEN 1 AND 36500);
COMMENT ON COLUMN settings.request_log_retention_days IS
    'Keep request_logs this many days (NULL = forever): the shipper drops monthly partitions that end '
    'before now() - this, and deletes older rows of the default partition. Not part of the snapshot.';

-- Creates the monthly partitions (UTC months) from this month to `months_ahead` months ahead that do
-- not exist yet; returns how many it created. Serialised by an advisory lock (several shippers).
CREATE FUNCTION request_logs_ensure_partitions(months_ahead integer DEFAULT 2) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamp;
    lower_bound timestamptz;
    upper_bound timestamptz;
    partition_name text;
    created integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('request_logs_partitions'));
    FOR i IN 0..months_ahead LOOP
        month_start := date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i);
        partition_name := 'request_logs_' || to_char(month_start, 'YYYY_MM');
        CONTINUE WHEN to_regclass(partition_name) IS NOT NULL;
        lower_bound := month_start AT TIME ZONE 'UTC';
        upper_bound := (month_start + interval '1 month') AT TIME ZONE 'UTC';
        EXECUTE format('CREATE TABLE %I (LIKE request_logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       partition_name);
        EXECUTE format('WITH moved AS (DELETE FROM request_logs_default WHERE ts >= %L AND ts < %L RETURNING *) '
                       'INSERT INTO %I SELECT * FROM moved', lower_bound, upper_bound, partition_name);
        EXECUTE format('ALTER TABLE request_logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       partition_name, lower_bound, upper_bound);
        EXECUTE format('COMMENT ON TABLE %I IS %L', partition_name,
                       'request_logs of ' || to_char(month_start, 'YYYY-MM') || ' (UTC), created by the log shipper');
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION request_logs_ensure_partitions(integer) IS
    'Creates missing monthly request_logs partitions from this month to N months ahead (rows of the default '
    'partition in their range are moved in first). Called by routeshift-sync''s log shipper.';

-- Applies settings.request_log_retention_days: drops the monthly partitions that end before the
-- cut-off and deletes older rows of the default partition. Returns the partitions dropped.
CREATE FUNCTION request_logs_apply_retention() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    days integer;
    cutoff timestamptz;
    part record;
    dropped integer := 0;
BEGIN
    SELECT request_log_retention_days INTO days FROM settings;
    IF days IS NULL THEN
        RETURN 0;
    END IF;
    cutoff := now() - make_interval(days => days);
    PERFORM pg_advisory_xact_lock(hashtext('request_logs_partitions'));
    FOR part IN
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'request_logs'::regclass AND c.relname ~ '^request_logs_[0-9]{4}_[0-9]{2}$'
    LOOP
        IF ((to_date(substr(part.relname, 14), 'YYYY_MM')::timestamp + interval '1 month') AT TIME ZONE 'UTC')
               <= cutoff THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    DELETE FROM request_logs_default WHERE ts < cutoff;
    RETURN dropped;
END
$$;
COMMENT ON FUNCTION request_logs_apply_retention() IS
    'Drops request_logs partitions older than settings.request_log_retention_days (NULL = keep forever).';

SELECT request_logs_ensure_partitions(2);
