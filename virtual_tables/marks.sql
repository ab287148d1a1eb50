-- Elements marked for extraction. Marking is just data: INSERT/UPDATE/DELETE here work too.
CREATE TABLE IF NOT EXISTS marks (
    source    VARCHAR NOT NULL,
    ref       VARCHAR NOT NULL,
    filter    VARCHAR,
    columns   VARCHAR[],
    marked_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    note      VARCHAR,
    PRIMARY KEY (source, ref)
);
COMMENT ON TABLE marks IS 'Elements marked for EXTRACT (MARK / UNMARK, or plain SQL)';
COMMENT ON COLUMN marks.source IS 'Source of the marked element';
COMMENT ON COLUMN marks.ref IS 'Ref of the marked element';
COMMENT ON COLUMN marks.filter IS 'Row predicate from MARK … WHERE (DuckDB SQL); NULL = all rows';
COMMENT ON COLUMN marks.columns IS 'Columns to extract; NULL = all';
COMMENT ON COLUMN marks.marked_at IS 'When it was marked';
COMMENT ON COLUMN marks.note IS 'Free text for the engagement log';
