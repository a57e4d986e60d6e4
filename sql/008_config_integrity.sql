-- 008: refuse, at commit time, the rows the module would reject anyway (issue 12: one bad row must
-- never freeze the fleet). What SQL can check is checked here, with a message naming the row and
-- the fix; what it cannot (a ciphertext that does not decrypt, the module's finer validation) is
-- quarantined by routeshift-sync when it builds the snapshot.
--
-- Triggers rather than CHECK constraints: the messages say what to do, and the checks that span
-- providers and provider_keys need both tables. Rows already stored are not re-checked (the
-- migration never fails on an existing database); the next write to such a row is.

CREATE FUNCTION routeshift_check_provider() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing record;
BEGIN
    IF NEW.kind = 'openai_compat' AND NEW.base_url IS NULL THEN
        RAISE EXCEPTION 'provider %: kind openai_compat needs a base_url', NEW.name
            USING ERRCODE = 'check_violation',
                  HINT = 'set base_url to the OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1';
    END IF;
    IF NEW.base_url IS NOT NULL AND NEW.base_url ~ '[?#]' THEN
        RAISE EXCEPTION 'provider %: base_url must not carry a query or fragment', NEW.name
            USING ERRCODE = 'check_violation', HINT = 'keep only scheme, host, port and path';
    END IF;
    IF NEW.kind = 'azure' AND NEW.base_url IS NULL THEN
        SELECT id, label INTO missing FROM provider_keys
         WHERE provider_id = NEW.id AND NOT (metadata ? 'resource_name') LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'provider %: azure without base_url needs metadata.resource_name on every key (key id %, label %, has none)',
                NEW.name, missing.id, missing.label
                USING ERRCODE = 'check_violation', HINT = 'set base_url, or the keys'' metadata.resource_name first';
        END IF;
    END IF;
    IF NEW.kind = 'bedrock' THEN
        SELECT id, label INTO missing FROM provider_keys
         WHERE provider_id = NEW.id AND NOT (metadata ? 'region') LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'provider %: bedrock needs metadata.region on every key (key id %, label %, has none)',
                NEW.name, missing.id, missing.label
                USING ERRCODE = 'check_violation', HINT = 'set the keys'' metadata.region (e.g. us-east-1) first';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION routeshift_check_provider() IS
    'Refuses provider rows the module would reject (openai_compat without base_url, a base_url with a '
    'query or fragment, azure/bedrock whose keys lack the metadata they need), with a clear message.';

CREATE TRIGGER providers_integrity BEFORE INSERT OR UPDATE ON providers
    FOR EACH ROW EXECUTE FUNCTION routeshift_check_provider();

CREATE FUNCTION routeshift_check_provider_key() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    provider record;
BEGIN
    SELECT name, kind, base_url INTO provider FROM providers WHERE id = NEW.provider_id;
    IF NOT FOUND THEN
        RETURN NEW;  -- the foreign key reports it
    END IF;
    IF provider.kind = 'azure' AND provider.base_url IS NULL AND NOT (NEW.metadata ? 'resource_name') THEN
        RAISE EXCEPTION 'provider key % of provider %: azure without base_url needs metadata.resource_name', NEW.label, provider.name
            USING ERRCODE = 'check_violation', HINT = 'e.g. --metadata ''{"resource_name":"myres","api_version":"v1"}''';
    END IF;
    IF provider.kind = 'bedrock' AND NOT (NEW.metadata ? 'region') THEN
        RAISE EXCEPTION 'provider key % of provider %: bedrock needs metadata.region', NEW.label, provider.name
            USING ERRCODE = 'check_violation', HINT = 'e.g. --metadata ''{"region":"us-east-1","access_key_id":"AKIA..."}''';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION routeshift_check_provider_key() IS
    'Refuses provider keys lacking the metadata their provider''s kind needs (azure resource_name, bedrock region).';

CREATE TRIGGER provider_keys_integrity BEFORE INSERT OR UPDATE ON provider_keys
    FOR EACH ROW EXECUTE FUNCTION routeshift_check_provider_key();
