-- Every element of every EXTRACT run.
CREATE TABLE IF NOT EXISTS transfers (
    run_id      VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    ref         VARCHAR NOT NULL,
    target_uri  VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,
    rows        BIGINT,
    bytes       BIGINT,
    files       INTEGER,
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    error       VARCHAR,
    target_root VARCHAR,
    format      VARCHAR,
    checksum    VARCHAR
);
COMMENT ON TABLE transfers IS 'Outcome of every element of every EXTRACT run';
COMMENT ON COLUMN transfers.run_id IS 'Identifier of the EXTRACT run';
COMMENT ON COLUMN transfers.source IS 'Source of the element';
COMMENT ON COLUMN transfers.ref IS 'Element ref (or the query label for EXTRACT (query))';
COMMENT ON COLUMN transfers.target_uri IS 'Folder or s3:// prefix the element was written to (where its _manifest.json is)';
COMMENT ON COLUMN transfers.status IS 'running, done, skipped (already complete), failed, interrupted (the process running it ended: kill -9, crash)';
COMMENT ON COLUMN transfers.rows IS 'Rows written';
COMMENT ON COLUMN transfers.bytes IS 'Bytes written';
COMMENT ON COLUMN transfers.files IS 'Data files written';
COMMENT ON COLUMN transfers.started_at IS 'When the element started';
COMMENT ON COLUMN transfers.finished_at IS 'When it finished or failed';
COMMENT ON COLUMN transfers.error IS 'Why it failed, one line';
COMMENT ON COLUMN transfers.target_root IS 'The target of the EXTRACT run (folder or s3:// prefix); target_uri is the element''s folder under it';
COMMENT ON COLUMN transfers.format IS 'File format written: parquet, csv or jsonl';
COMMENT ON COLUMN transfers.checksum IS 'Order-independent checksum taken on the stream (see the element''s _manifest.json)';
