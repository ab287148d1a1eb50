-- Forms of every Notes database as their documents use them: the items seen with their types.
CREATE TABLE IF NOT EXISTS notes_forms (
    source        VARCHAR NOT NULL,
    database      VARCHAR NOT NULL,
    form          VARCHAR NOT NULL,
    documents     BIGINT,
    fields        JSON,
    design_fields JSON
);
COMMENT ON TABLE notes_forms IS 'Forms of every Notes database, as seen in its documents';
COMMENT ON COLUMN notes_forms.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN notes_forms.database IS 'The database (notes_databases.database)';
COMMENT ON COLUMN notes_forms.form IS 'The form name (the document''s Form item); its element is source.database.forms."name"';
COMMENT ON COLUMN notes_forms.documents IS 'Documents of this form read at ATTACH';
COMMENT ON COLUMN notes_forms.fields IS 'Every item seen in its documents with the column type it is read as and a note when the type varies or is not understood: [{name, type, note}]';
COMMENT ON COLUMN notes_forms.design_fields IS 'The fields of the form''s design note, when exported (DXL): [{name, type, multi}]; NULL otherwise';
