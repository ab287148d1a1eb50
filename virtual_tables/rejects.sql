-- Every record of a delimited file that was not loaded as it stands: rejected, or loaded after a repair.
CREATE TABLE IF NOT EXISTS rejects (
    source      VARCHAR NOT NULL,
    ref         VARCHAR NOT NULL,
    line        BIGINT NOT NULL,
    lines       INTEGER NOT NULL,
    byte_offset BIGINT NOT NULL,
    raw         VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,
    run_id      VARCHAR,
    read_at     TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE rejects IS 'Records of delimited files not loaded as they stand: with rows loaded and lines skipped, every line of a file is accounted for';
COMMENT ON COLUMN rejects.source IS 'Source of the file (sources.name)';
COMMENT ON COLUMN rejects.ref IS 'Element ref of the file (elements.ref)';
COMMENT ON COLUMN rejects.line IS 'Number of the record''s first physical line in the file, from 1 (preamble and header lines included)';
COMMENT ON COLUMN rejects.lines IS 'Physical lines the record spans (more than 1 when a quoted field holds newlines)';
COMMENT ON COLUMN rejects.byte_offset IS 'Byte offset of the record''s first line in the file, from 0 (a byte-order mark included)';
COMMENT ON COLUMN rejects.raw IS 'The record''s text as decoded, line end removed, truncated at 1000 characters (an ellipsis marks the cut)';
COMMENT ON COLUMN rejects.reason IS 'Why, in one line: e.g. 7 fields, expected 9; column ''day'': ''31/02/2021'' is not a DATE';
COMMENT ON COLUMN rejects.action IS 'rejected (not loaded; counted in the rejected lines) or the repair of a loaded row: padded (missing last fields read as NULL), merged (an unquoted delimiter kept inside a text column), redelimited (the row used another delimiter), stray-quote (a quote that does not close read as a character)';
COMMENT ON COLUMN rejects.run_id IS 'The EXTRACT run (transfers.run_id) or PROFILE that read the file; NULL for a query';
COMMENT ON COLUMN rejects.read_at IS 'When the file was read; a new read of the element replaces its rows';
