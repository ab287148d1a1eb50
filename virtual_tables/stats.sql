-- Summary statistics from PROFILE, kept for reconciliation.
CREATE TABLE IF NOT EXISTS stats (
    source         VARCHAR NOT NULL,
    ref            VARCHAR NOT NULL,
    column_name    VARCHAR,
    row_count      BIGINT,
    null_count     BIGINT,
    distinct_count BIGINT,
    distinct_approximate BOOLEAN,
    min_value      VARCHAR,
    max_value      VARCHAR,
    sum_value      VARCHAR,
    mean_value     DOUBLE,
    method         VARCHAR NOT NULL,
    computed_at    TIMESTAMPTZ NOT NULL,
    error          VARCHAR,
    lines          BIGINT,
    lines_loaded   BIGINT,
    lines_rejected BIGINT,
    lines_skipped  BIGINT
);
COMMENT ON TABLE stats IS 'Statistics computed by PROFILE at the source: one element-level row (column_name NULL) and one row per column';
COMMENT ON COLUMN stats.source IS 'Source of the element';
COMMENT ON COLUMN stats.ref IS 'Element ref';
COMMENT ON COLUMN stats.column_name IS 'Column, or NULL for the element-level row';
COMMENT ON COLUMN stats.row_count IS 'Exact number of rows';
COMMENT ON COLUMN stats.null_count IS 'Number of NULLs in the column';
COMMENT ON COLUMN stats.distinct_count IS 'Number of distinct non-NULL values';
COMMENT ON COLUMN stats.distinct_approximate IS 'True when distinct_count is an estimate';
COMMENT ON COLUMN stats.min_value IS 'Smallest value, as text';
COMMENT ON COLUMN stats.max_value IS 'Largest value, as text';
COMMENT ON COLUMN stats.sum_value IS 'Sum of a numeric column, as text (exact decimal)';
COMMENT ON COLUMN stats.mean_value IS 'Mean of a numeric column';
COMMENT ON COLUMN stats.method IS 'How the figures were computed, e.g. postgresql aggregate query, duckdb scan';
COMMENT ON COLUMN stats.computed_at IS 'When they were computed';
COMMENT ON COLUMN stats.error IS 'Why PROFILE could not compute the figures (one element-level row, no figures): the element failed';
COMMENT ON COLUMN stats.lines IS 'Delimited files read record by record (element-level row): physical lines in the file; lines_loaded + lines_rejected + lines_skipped = lines, checked';
COMMENT ON COLUMN stats.lines_loaded IS 'Lines of the rows loaded (row_count, plus the extra lines of quoted fields holding newlines)';
COMMENT ON COLUMN stats.lines_rejected IS 'Lines of records not loaded (the rejects table says which and why)';
COMMENT ON COLUMN stats.lines_skipped IS 'Lines skipped as preamble, header, blank or footer';
