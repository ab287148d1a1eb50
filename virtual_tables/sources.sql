-- Every attached source: one row per ATTACH. Secrets are never stored here.
CREATE TABLE IF NOT EXISTS sources (
    name          VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,
    uri           VARCHAR NOT NULL,
    options       MAP(VARCHAR, VARCHAR),
    attached_at   TIMESTAMPTZ NOT NULL,
    scanned_at    TIMESTAMPTZ,
    element_count BIGINT,
    status        VARCHAR NOT NULL,
    error         VARCHAR
);
COMMENT ON TABLE sources IS 'Attached sources (one per ATTACH); a reopened workspace re-attaches them, secrets re-read from the environment';
COMMENT ON COLUMN sources.name IS 'Source name given in ATTACH … AS name; the first part of every element ref';
COMMENT ON COLUMN sources.kind IS 'Head that serves the source: files, sql, s3, rds, …';
COMMENT ON COLUMN sources.uri IS 'URI or path as attached, passwords masked (***); ${ENV_VAR} placeholders kept';
COMMENT ON COLUMN sources.options IS 'ATTACH options (TYPE, SCHEMAS, REGION, …); secret options are never stored';
COMMENT ON COLUMN sources.attached_at IS 'When the source was first attached';
COMMENT ON COLUMN sources.scanned_at IS 'When its elements were last enumerated (ATTACH or REFRESH)';
COMMENT ON COLUMN sources.element_count IS 'Number of elements found by the last scan';
COMMENT ON COLUMN sources.status IS 'ok, or error when the last scan failed';
COMMENT ON COLUMN sources.error IS 'The last scan error, one line';
