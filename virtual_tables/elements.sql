-- Every data element of every source: tables, views, files, datasets, objects, Notes views, …
CREATE TABLE IF NOT EXISTS elements (
    source          VARCHAR NOT NULL,
    ref             VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    path            VARCHAR,
    name            VARCHAR NOT NULL,
    parts           VARCHAR[] NOT NULL,
    row_count       BIGINT,
    row_count_exact BOOLEAN NOT NULL DEFAULT false,
    size_bytes      BIGINT,
    column_count    INTEGER,
    key_columns     VARCHAR[],
    modified_at     TIMESTAMPTZ,
    scanned_at      TIMESTAMPTZ NOT NULL,
    error           VARCHAR,
    note            VARCHAR,
    PRIMARY KEY (source, ref)
);
COMMENT ON TABLE elements IS 'Every data element of every attached source; SELECT * FROM <ref> reads one';
COMMENT ON COLUMN elements.source IS 'Source the element belongs to (sources.name)';
COMMENT ON COLUMN elements.ref IS 'The SQL text that reads the element, e.g. crm.public.orders or f."sub dir/cities.csv"';
COMMENT ON COLUMN elements.kind IS 'table, view, materialized view, csv, parquet, json, dataset, …';
COMMENT ON COLUMN elements.path IS 'The element''s address in the source''s own terms (file path, schema.table, object key)';
COMMENT ON COLUMN elements.name IS 'Last part of the ref: table or file name';
COMMENT ON COLUMN elements.parts IS 'Identifiers of the ref after the source name';
COMMENT ON COLUMN elements.row_count IS 'Row count: exact when row_count_exact, else the catalog''s estimate';
COMMENT ON COLUMN elements.row_count_exact IS 'True when row_count is exact (Parquet metadata, PROFILE), false when estimated';
COMMENT ON COLUMN elements.size_bytes IS 'Size on the source (file size, relation size), when known';
COMMENT ON COLUMN elements.column_count IS 'Number of columns, when known';
COMMENT ON COLUMN elements.key_columns IS 'Primary or unique key, used to split big reads and to bisect reconciliation failures';
COMMENT ON COLUMN elements.modified_at IS 'Last modification time on the source, when known';
COMMENT ON COLUMN elements.scanned_at IS 'When this row was enumerated';
COMMENT ON COLUMN elements.error IS 'Why the element could not be described or parsed (it is still listed)';
COMMENT ON COLUMN elements.note IS 'What a read of the element may not show as the source holds it: rows hidden from this role (row-level security), columns it may not read, inheritance children left out (PostgreSQL parents are read with ONLY)';
