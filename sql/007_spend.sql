-- 007: spend views over request_logs and per-virtual-key / per-team spend budgets
-- (docs/design.md §13).
--
-- Money is in microcents (1e-6 US cent = 1e-8 USD), like request_logs.cost_microcents. Days and
-- months are UTC: a request belongs to the UTC day of its ts.
--
-- Indexes: the views filtered by time use request_logs_ts_idx (002); the per-caller sums that
-- routeshift-sync serve pushes every second (today's and this month's spend of each budgeted key
-- and team) use request_logs_virtual_key_ts_idx and request_logs_team_ts_idx (002); sessions use
-- request_logs_session_ts_idx (002). Nothing else is needed.

-- ---------------------------------------------------------------------------------------------
-- Budgets (config: part of the snapshot; NULL = no budget)

ALTER TABLE virtual_keys
    ADD COLUMN IF NOT EXISTS daily_budget_microcents bigint CHECK (daily_budget_microcents > 0),
    ADD COLUMN IF NOT EXISTS monthly_budget_microcents bigint CHECK (monthly_budget_microcents > 0);
COMMENT ON COLUMN virtual_keys.daily_budget_microcents IS
    'Most the key may spend per UTC day, in microcents (1e-6 US cent); NULL = no daily budget. '
    'Once the day''s spend (request_logs.cost_microcents) reaches it, requests get 429 budget_exceeded '
    'until 00:00 UTC.';
COMMENT ON COLUMN virtual_keys.monthly_budget_microcents IS
    'Most the key may spend per UTC calendar month, in microcents; NULL = no monthly budget. Once '
    'reached, requests get 429 budget_exceeded until the next month begins (UTC).';
COMMENT ON COLUMN virtual_keys.budget_microcents IS
    'Not enforced. Superseded by daily_budget_microcents and monthly_budget_microcents (sql/007).';

ALTER TABLE teams
    ADD COLUMN IF NOT EXISTS daily_budget_microcents bigint CHECK (daily_budget_microcents > 0),
    ADD COLUMN IF NOT EXISTS monthly_budget_microcents bigint CHECK (monthly_budget_microcents > 0);
COMMENT ON COLUMN teams.daily_budget_microcents IS
    'Most all of the team''s virtual keys together may spend per UTC day, in microcents; NULL = none.';
COMMENT ON COLUMN teams.monthly_budget_microcents IS
    'Most all of the team''s virtual keys together may spend per UTC calendar month, in microcents; '
    'NULL = none.';

-- ---------------------------------------------------------------------------------------------
-- Spend and usage views

CREATE VIEW request_spend AS
SELECT l.ts,
       (l.ts AT TIME ZONE 'UTC')::date                 AS day,
       l.team_id,
       t.name                                          AS team_name,
       l.virtual_key_id,
       v.name                                          AS virtual_key_name,
       coalesce(l.resolved_model, l.requested_model)   AS model,
       l.provider,
       l.session_id,
       l.status,
       coalesce(l.prompt_tokens, 0)                    AS prompt_tokens,
       coalesce(l.completion_tokens, 0)                AS completion_tokens,
       coalesce(l.cached_tokens, 0)                    AS cached_tokens,
       coalesce(l.cost_microcents, 0)                  AS cost_microcents
  FROM request_logs l
  LEFT JOIN teams t ON t.id = l.team_id
  LEFT JOIN virtual_keys v ON v.id = l.virtual_key_id;
COMMENT ON VIEW request_spend IS
    'One row per request_logs row with what spend reports group by: UTC day, team and virtual key '
    '(with their current names), model (resolved, else requested), provider, session; unknown token '
    'counts and costs as 0. The base of the spend_daily_* views and of `routeshift-sync spend`.';

CREATE VIEW spend_daily_by_team AS
SELECT day, team_id, max(team_name) AS team_name, count(*) AS requests,
       sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens,
       sum(cached_tokens) AS cached_tokens, sum(cost_microcents) AS cost_microcents
  FROM request_spend GROUP BY day, team_id;
COMMENT ON VIEW spend_daily_by_team IS
    'Requests, tokens and cost (microcents) per UTC day and team (team_id NULL = unauthenticated).';

CREATE VIEW spend_daily_by_virtual_key AS
SELECT day, virtual_key_id, max(virtual_key_name) AS virtual_key_name, max(team_id) AS team_id,
       count(*) AS requests, sum(prompt_tokens) AS prompt_tokens,
       sum(completion_tokens) AS completion_tokens, sum(cached_tokens) AS cached_tokens,
       sum(cost_microcents) AS cost_microcents
  FROM request_spend GROUP BY day, virtual_key_id;
COMMENT ON VIEW spend_daily_by_virtual_key IS
    'Requests, tokens and cost (microcents) per UTC day and virtual key (NULL = auth failed).';

CREATE VIEW spend_daily_by_model AS
SELECT day, model, count(*) AS requests, sum(prompt_tokens) AS prompt_tokens,
       sum(completion_tokens) AS completion_tokens, sum(cached_tokens) AS cached_tokens,
       sum(cost_microcents) AS cost_microcents
  FROM request_spend GROUP BY day, model;
COMMENT ON VIEW spend_daily_by_model IS
    'Requests, tokens and cost (microcents) per UTC day and model (the upstream model that served, '
    'else the requested one; NULL = none, e.g. refused before routing).';

CREATE VIEW spend_daily_by_provider AS
SELECT day, provider, count(*) AS requests, sum(prompt_tokens) AS prompt_tokens,
       sum(completion_tokens) AS completion_tokens, sum(cached_tokens) AS cached_tokens,
       sum(cost_microcents) AS cost_microcents
  FROM request_spend GROUP BY day, provider;
COMMENT ON VIEW spend_daily_by_provider IS
    'Requests, tokens and cost (microcents) per UTC day and provider of the last attempt (NULL = no '
    'attempt).';

CREATE VIEW spend_sessions AS
SELECT session_id, count(*) AS turns, sum(prompt_tokens) AS prompt_tokens,
       sum(completion_tokens) AS completion_tokens, sum(cached_tokens) AS cached_tokens,
       sum(cost_microcents) AS cost_microcents, min(ts) AS first_seen, max(ts) AS last_seen
  FROM request_spend WHERE session_id IS NOT NULL GROUP BY session_id;
COMMENT ON VIEW spend_sessions IS
    'One row per session (request_logs.session_id): turns (requests), tokens, cost (microcents), '
    'first and last request time.';
