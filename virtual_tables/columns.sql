-- Every column of every element whose schema is known.
CREATE TABLE IF NOT EXISTS columns (
    source      VARCHAR NOT NULL,
    ref         VARCHAR NOT NULL,
    position    INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    type        VARCHAR NOT NULL,
    source_type VARCHAR,
    nullable    BOOLEAN,
    note        VARCHAR
);
COMMENT ON TABLE columns IS 'Columns of every element, as Hydra reads them and as the source names them';
COMMENT ON COLUMN columns.source IS 'Source of the element';
COMMENT ON COLUMN columns.ref IS 'Element ref (elements.ref)';
COMMENT ON COLUMN columns.position IS 'Ordinal position, from 1';
COMMENT ON COLUMN columns.name IS 'Column name';
COMMENT ON COLUMN columns.type IS 'DuckDB type the column is read as';
COMMENT ON COLUMN columns.source_type IS 'Type as the source names it';
COMMENT ON COLUMN columns.nullable IS 'Whether the source allows NULLs, when known';
COMMENT ON COLUMN columns.note IS 'Conversion note, e.g. when a type is read lossily';
