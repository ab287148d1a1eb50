-- Fields of the tables in sap_tables (sap head), in dictionary order, from DDIF_FIELDINFO_GET
-- (or DD03L when that function is not allowed). Filled at ATTACH/REFRESH.
CREATE TABLE IF NOT EXISTS sap_fields (
    source      VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    field_name  VARCHAR NOT NULL,
    position    INTEGER,
    is_key      BOOLEAN,
    data_type   VARCHAR,
    abap_type   VARCHAR,
    length      INTEGER,
    decimals    INTEGER,
    description VARCHAR,
    read_as     VARCHAR,
    note        VARCHAR
);
COMMENT ON TABLE sap_fields IS 'Fields of the tables of attached SAP systems (DDIF_FIELDINFO_GET or DD03L)';
COMMENT ON COLUMN sap_fields.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN sap_fields.table_name IS 'Table name, as in sap_tables.table_name';
COMMENT ON COLUMN sap_fields.field_name IS 'Field name (DD03L-FIELDNAME); the column name Hydra reads it as';
COMMENT ON COLUMN sap_fields.position IS 'Position in the table, from 1 (include structures'' own rows left out)';
COMMENT ON COLUMN sap_fields.is_key IS 'True for a primary key field (DD03L-KEYFLAG); reads page and split by key';
COMMENT ON COLUMN sap_fields.data_type IS 'ABAP Dictionary type: CHAR, NUMC, DATS, TIMS, DEC, CURR, QUAN, INT4, FLTP, RAW, STRG…';
COMMENT ON COLUMN sap_fields.abap_type IS 'ABAP internal type (INTTYPE): C, N, D, T, P, I, F, X, g (string), y (raw string)…';
COMMENT ON COLUMN sap_fields.length IS 'Dictionary length: characters, or digits for DEC/CURR/QUAN';
COMMENT ON COLUMN sap_fields.decimals IS 'Decimal places (DEC/CURR/QUAN; 0 otherwise)';
COMMENT ON COLUMN sap_fields.description IS 'Field description in the source''s LANG (empty when the fields came from DD03L)';
COMMENT ON COLUMN sap_fields.read_as IS 'The DuckDB type the field is read as (DATE, TIME, DECIMAL(p,s), VARCHAR, BLOB…)';
COMMENT ON COLUMN sap_fields.note IS 'What a read does not show as SAP holds it (a string type the read function cannot return, DATS 00000000 as NULL)';
