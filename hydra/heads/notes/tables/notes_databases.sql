-- Notes databases of every attached notes source: one row per DXL export file, per database
-- that Domino Access Services lists, or per Domino REST API scope. Filled at ATTACH/REFRESH.
CREATE TABLE IF NOT EXISTS notes_databases (
    source         VARCHAR NOT NULL,
    database       VARCHAR NOT NULL,
    via            VARCHAR,
    address        VARCHAR,
    title          VARCHAR,
    path           VARCHAR,
    replica_id     VARCHAR,
    template       VARCHAR,
    document_count BIGINT,
    size_bytes     BIGINT,
    documents_read BIGINT,
    error          VARCHAR
);
COMMENT ON TABLE notes_databases IS 'Notes databases (.nsf) of every attached notes source';
COMMENT ON COLUMN notes_databases.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN notes_databases.database IS 'The database''s name in refs (source.database.forms.form): the DXL file''s name, the .nsf path without .nsf (DAS) or the scope (REST API)';
COMMENT ON COLUMN notes_databases.via IS 'How it is read: dxl (an export file), das (Domino Access Services) or rest (the Domino REST API)';
COMMENT ON COLUMN notes_databases.address IS 'Where Hydra reads it: the DXL file, the .nsf path (DAS) or the scope''s API name (REST API)';
COMMENT ON COLUMN notes_databases.title IS 'The database title';
COMMENT ON COLUMN notes_databases.path IS 'The database''s file path on its Domino server (apps/crm.nsf)';
COMMENT ON COLUMN notes_databases.replica_id IS 'Replica id (16 hex digits); NULL via the REST API, which does not show it';
COMMENT ON COLUMN notes_databases.template IS 'The design template it inherits from ('''' for none)';
COMMENT ON COLUMN notes_databases.document_count IS 'Documents as the source states it (DXL databaseinfo); NULL when it does not';
COMMENT ON COLUMN notes_databases.size_bytes IS 'Disk space in bytes as the source states it (DXL databaseinfo); NULL when it does not';
COMMENT ON COLUMN notes_databases.documents_read IS 'Documents Hydra read at ATTACH (fewer than document_count when the DXL is malformed or truncated)';
COMMENT ON COLUMN notes_databases.error IS 'Why it could not be read (e.g. the user may not open it), or where its DXL is malformed; NULL when read whole';
