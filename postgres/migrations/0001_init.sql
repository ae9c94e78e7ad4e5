-- 0001: keys, their encrypted secrets and upstreams, and the change feed.
-- Objects are created in the connection's current schema (search_path).

CREATE TABLE signet_keys (
    id               text PRIMARY KEY CHECK (id <> '' AND octet_length(id) <= 256),
    tenant           text NOT NULL DEFAULT '',
    schemes          text[] NOT NULL DEFAULT '{}',
    algorithms       text[] NOT NULL DEFAULT '{}',
    max_expires_ms   bigint NOT NULL DEFAULT 0 CHECK (max_expires_ms >= 0),
    single_use       boolean NOT NULL DEFAULT false,
    rate_rps         double precision NOT NULL DEFAULT 0 CHECK (rate_rps >= 0),
    rate_burst       integer NOT NULL DEFAULT 0 CHECK (rate_burst >= 0),
    bytes_per_minute bigint NOT NULL DEFAULT 0 CHECK (bytes_per_minute >= 0),
    fail_open        boolean NOT NULL DEFAULT false,
    public_key_pem   text,
    revoked_at       timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signet_keys_tenant ON signet_keys (tenant);

-- ciphertext is AES-256-GCM (format byte, nonce, sealed value); its
-- additional data binds it to (key_id, version).
CREATE TABLE signet_secrets (
    key_id     text NOT NULL REFERENCES signet_keys (id) ON DELETE CASCADE ON UPDATE CASCADE,
    version    integer NOT NULL CHECK (version > 0),
    ciphertext bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, version)
);

-- headers_ciphertext seals the JSON object of injected headers, bound to
-- (key_id, origin); header_names is the plaintext list of their names, so
-- that listing a key needs no master key.
CREATE TABLE signet_upstreams (
    key_id             text NOT NULL REFERENCES signet_keys (id) ON DELETE CASCADE ON UPDATE CASCADE,
    origin             text NOT NULL CHECK (origin <> ''),
    header_names       text[] NOT NULL DEFAULT '{}',
    headers_ciphertext bytea,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, origin)
);

-- Every change to a key, its secrets or its upstreams tells the gateways
-- which key to reload. TG_ARGV[0] names the column holding the key id.
CREATE FUNCTION signet_notify_key() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_id text;
    new_id text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_id := to_jsonb(OLD) ->> TG_ARGV[0];
        PERFORM pg_notify('signet_keys', old_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_id := to_jsonb(NEW) ->> TG_ARGV[0];
        IF new_id IS DISTINCT FROM old_id THEN
            PERFORM pg_notify('signet_keys', new_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER signet_keys_notify AFTER INSERT OR UPDATE OR DELETE ON signet_keys
    FOR EACH ROW EXECUTE FUNCTION signet_notify_key('id');
CREATE TRIGGER signet_secrets_notify AFTER INSERT OR UPDATE OR DELETE ON signet_secrets
    FOR EACH ROW EXECUTE FUNCTION signet_notify_key('key_id');
CREATE TRIGGER signet_upstreams_notify AFTER INSERT OR UPDATE OR DELETE ON signet_upstreams
    FOR EACH ROW EXECUTE FUNCTION signet_notify_key('key_id');

-- TRUNCATE fires no row trigger: an empty payload means "reload every key".
CREATE FUNCTION signet_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('signet_keys', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER signet_keys_truncate AFTER TRUNCATE ON signet_keys
    FOR EACH STATEMENT EXECUTE FUNCTION signet_notify_all();
CREATE TRIGGER signet_secrets_truncate AFTER TRUNCATE ON signet_secrets
    FOR EACH STATEMENT EXECUTE FUNCTION signet_notify_all();
CREATE TRIGGER signet_upstreams_truncate AFTER TRUNCATE ON signet_upstreams
    FOR EACH STATEMENT EXECUTE FUNCTION signet_notify_all();
