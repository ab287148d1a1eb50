-- One row per check of every RECONCILE.
CREATE TABLE IF NOT EXISTS reconciliations (
    run_id       VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    ref          VARCHAR NOT NULL,
    check_name   VARCHAR NOT NULL,
    source_value VARCHAR,
    target_value VARCHAR,
    status       VARCHAR NOT NULL,
    detail       VARCHAR,
    checked_at   TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE reconciliations IS 'Checks comparing each transferred element at the source and at the target';
COMMENT ON COLUMN reconciliations.run_id IS 'Identifier shared by all checks of one RECONCILE';
COMMENT ON COLUMN reconciliations.source IS 'Source of the element';
COMMENT ON COLUMN reconciliations.ref IS 'Element ref';
COMMENT ON COLUMN reconciliations.check_name IS 'What was compared, e.g. row_count, checksum, null_count(amount), sum(amount); drift row_count, drift sum(amount): the source now against the figures taken in the snapshot the element was read in';
COMMENT ON COLUMN reconciliations.source_value IS 'Figure at the source (for drift checks: at the snapshot the element was read in)';
COMMENT ON COLUMN reconciliations.target_value IS 'Figure at the target (for drift checks: at the source now)';
COMMENT ON COLUMN reconciliations.status IS 'pass or fail; for drift checks, drift (the source moved since the snapshot) or steady, never fail';
COMMENT ON COLUMN reconciliations.detail IS 'How a figure was compared when not digit for digit (a floating-point sum within its rounding bound, a value rounded to the type it is read as, the lossy read behind the column); for failures: the key ranges or rows that differ';
COMMENT ON COLUMN reconciliations.checked_at IS 'When the check ran';
