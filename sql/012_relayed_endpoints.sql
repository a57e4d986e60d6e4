-- 012: the relayed OpenAI endpoints (docs/design.md §21). Calls that name no model (file uploads and
-- lists, batch creation and lists) go to one configured provider; the request log says which
-- endpoint each row was.

ALTER TABLE settings ADD COLUMN files_provider text
    REFERENCES providers (name) ON UPDATE CASCADE ON DELETE SET NULL;
COMMENT ON COLUMN settings.files_provider IS
    'The provider (providers.name, an OpenAI-wire kind) that serves calls without a model: POST/GET '
    '/v1/files and POST/GET /v1/batches. NULL = such calls get 400 files_provider_not_configured. '
    'Calls on an existing file/batch/response id go to the provider key that created it (the id says which).';

ALTER TABLE request_logs ADD COLUMN endpoint text;
COMMENT ON COLUMN request_logs.endpoint IS
    'The API endpoint served ("chat_completions", "messages", "embeddings", "files", ...); NULL on rows '
    'written before migration 012.';
