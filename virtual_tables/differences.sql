-- One row per row that differs between the two sides of a RECONCILE … AGAINST ….
CREATE TABLE IF NOT EXISTS differences (
    run_id          VARCHAR NOT NULL,
    left_ref        VARCHAR NOT NULL,
    right_ref       VARCHAR NOT NULL,
    key_column      VARCHAR NOT NULL,
    key_value       VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    changed_columns VARCHAR[],
    left_values     JSON,
    right_values    JSON,
    found_at        TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE differences IS 'Rows that differ between the two elements of a RECONCILE … AGAINST …, found by key-range bisection';
COMMENT ON COLUMN differences.run_id IS 'The RECONCILE run (as in reconciliations.run_id)';
COMMENT ON COLUMN differences.left_ref IS 'The element before AGAINST';
COMMENT ON COLUMN differences.right_ref IS 'The element after AGAINST';
COMMENT ON COLUMN differences.key_column IS 'The key the rows were bisected on (its name at the left)';
COMMENT ON COLUMN differences.key_value IS 'The key of the row that differs';
COMMENT ON COLUMN differences.kind IS 'missing_left (the row is only at the right), missing_right (only at the left) or changed (at both, with other values)';
COMMENT ON COLUMN differences.changed_columns IS 'For changed rows: the columns (left names) whose normalised values differ';
COMMENT ON COLUMN differences.left_values IS 'The row at the left, as a JSON object of its normalised values by left column name (NULL when missing at the left)';
COMMENT ON COLUMN differences.right_values IS 'The row at the right, as a JSON object of its normalised values by left column name (NULL when missing at the right)';
COMMENT ON COLUMN differences.found_at IS 'When the row was found';
