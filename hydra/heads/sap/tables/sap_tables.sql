-- Tables of attached SAP systems (sap head): one row per table, view, cluster or pool table that
-- the source's TABLES globs chose, from DD02L/DD02T (read through RFC_READ_TABLE) and
-- EM_GET_NUMBER_OF_ENTRIES. Filled at ATTACH/REFRESH.
CREATE TABLE IF NOT EXISTS sap_tables (
    source           VARCHAR NOT NULL,
    table_name       VARCHAR NOT NULL,
    table_class      VARCHAR,
    description      VARCHAR,
    delivery_class   VARCHAR,
    client_dependent BOOLEAN,
    row_count        BIGINT,
    row_count_note   VARCHAR
);
COMMENT ON TABLE sap_tables IS 'Tables of attached SAP systems (DD02L/DD02T, row counts from EM_GET_NUMBER_OF_ENTRIES)';
COMMENT ON COLUMN sap_tables.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN sap_tables.table_name IS 'Table name in the ABAP Dictionary (DD02L-TABNAME), e.g. VBAK or /BIC/AZSALES00';
COMMENT ON COLUMN sap_tables.table_class IS 'DD02L-TABCLASS: TRANSP (transparent table), CLUSTER, POOL or VIEW';
COMMENT ON COLUMN sap_tables.description IS 'Short description in the source''s LANG (DD02T-DDTEXT)';
COMMENT ON COLUMN sap_tables.delivery_class IS 'DD02L-CONTFLAG: A application data, C customizing, L temporary, G/E/S/W system data';
COMMENT ON COLUMN sap_tables.client_dependent IS 'True when the first key field is the client (MANDT): only the logon client''s rows are read';
COMMENT ON COLUMN sap_tables.row_count IS 'Rows in the logon client, from EM_GET_NUMBER_OF_ENTRIES at ATTACH/REFRESH; NULL when not counted';
COMMENT ON COLUMN sap_tables.row_count_note IS 'Why row_count is NULL (the RFC user lacks S_RFC for EM_GET_NUMBER_OF_ENTRIES, a view…)';
