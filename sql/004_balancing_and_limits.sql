-- 004: balancing strategies, failover tiers, team limits and the circuit breaker
-- (docs/design.md §9). Every new column is carried into the snapshot by routeshift-sync.

ALTER TABLE settings
    ADD COLUMN circuit_breaker_threshold integer NOT NULL DEFAULT 5
        CHECK (circuit_breaker_threshold BETWEEN 0 AND 1000),
    ADD COLUMN latency_window_seconds integer NOT NULL DEFAULT 300
        CHECK (latency_window_seconds BETWEEN 5 AND 86400),
    ADD COLUMN rate_limit_window_seconds integer NOT NULL DEFAULT 60
        CHECK (rate_limit_window_seconds BETWEEN 1 AND 86400);
COMMENT ON COLUMN settings.circuit_breaker_threshold IS
    'Consecutive failures (ones that park the key) that open a key''s circuit for its cooldown, for '
    'keys whose circuit_breaker_threshold is NULL; 0 = no circuit breaker.';
COMMENT ON COLUMN settings.latency_window_seconds IS
    'Window of the p50 the latency strategy compares (5 buckets of window/5); default 5 minutes.';
COMMENT ON COLUMN settings.rate_limit_window_seconds IS
    'The "minute" of every RPM/TPM limit (sliding window). 60 in production; shorter in tests.';

ALTER TABLE providers
    ADD COLUMN balancing text NOT NULL DEFAULT 'weighted_round_robin'
        CHECK (balancing IN ('weighted_round_robin', 'latency', 'least_busy'));
COMMENT ON COLUMN providers.balancing IS
    'How a request picks among this provider''s keys of one priority tier: weighted_round_robin '
    '(by weight), latency (lowest p50 over settings.latency_window_seconds; keys without samples are '
    'explored), least_busy (fewest in-flight requests across workers, ties by weight).';

ALTER TABLE provider_keys
    ADD COLUMN priority integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 1000),
    ADD COLUMN circuit_breaker_threshold integer CHECK (circuit_breaker_threshold BETWEEN 0 AND 1000);
COMMENT ON COLUMN provider_keys.priority IS
    'Failover tier (ordered failover): a key gets traffic only while every key of a lower number '
    'serving the request is cooling, rate-limited, open-circuit or already failed for it.';
COMMENT ON COLUMN provider_keys.circuit_breaker_threshold IS
    'Consecutive failures that open this key''s circuit for its cooldown; NULL = settings default, '
    '0 = no circuit breaker.';
COMMENT ON COLUMN provider_keys.rpm IS
    'Requests per minute (settings.rate_limit_window_seconds) this credential may receive, across '
    'all workers; a key at its limit is skipped. NULL = unlimited.';
COMMENT ON COLUMN provider_keys.tpm IS
    'Tokens per minute: estimated prompt tokens + max_tokens are reserved before an attempt and '
    'corrected with the real usage after. NULL = unlimited.';

ALTER TABLE models
    ADD COLUMN priority integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 1000);
COMMENT ON COLUMN models.priority IS
    'Failover tier among the providers serving this public name (lower first; before the key''s '
    'own priority).';

ALTER TABLE teams
    ADD COLUMN rpm_limit integer CHECK (rpm_limit > 0),
    ADD COLUMN tpm_limit bigint CHECK (tpm_limit > 0);
COMMENT ON COLUMN teams.rpm_limit IS
    'Requests per minute for all virtual keys of the team together; over it → 429. NULL = unlimited.';
COMMENT ON COLUMN teams.tpm_limit IS
    'Tokens per minute for the whole team (reserved before the request, corrected with usage). '
    'NULL = unlimited.';

COMMENT ON COLUMN virtual_keys.rpm_limit IS
    'Requests per minute for this virtual key; over it → 429 rate_limit_exceeded before planning. '
    'NULL = unlimited.';
COMMENT ON COLUMN virtual_keys.tpm_limit IS
    'Tokens per minute for this virtual key (reserved before the request, corrected with usage). '
    'NULL = unlimited.';
