-- Every file attached to a document ($FILE items) of every Notes database.
CREATE TABLE IF NOT EXISTS notes_attachments (
    source    VARCHAR NOT NULL,
    database  VARCHAR NOT NULL,
    unid      VARCHAR,
    form      VARCHAR,
    file_name VARCHAR,
    size      BIGINT,
    created   TIMESTAMPTZ,
    modified  TIMESTAMPTZ
);
COMMENT ON TABLE notes_attachments IS 'Files attached to the documents of every Notes database (DXL and the REST API; DAS does not list them)';
COMMENT ON COLUMN notes_attachments.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN notes_attachments.database IS 'The database (notes_databases.database)';
COMMENT ON COLUMN notes_attachments.unid IS 'The UNID of the document the file is attached to';
COMMENT ON COLUMN notes_attachments.form IS 'That document''s form';
COMMENT ON COLUMN notes_attachments.file_name IS 'The file''s name';
COMMENT ON COLUMN notes_attachments.size IS 'Its size in bytes as the source states it (DXL); NULL when it does not (REST API)';
COMMENT ON COLUMN notes_attachments.created IS 'When the file was created, as the source states it';
COMMENT ON COLUMN notes_attachments.modified IS 'When the file was last modified, as the source states it';
