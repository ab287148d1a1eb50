-- Views and folders of every Notes database, as their design notes define them.
CREATE TABLE IF NOT EXISTS notes_views (
    source     VARCHAR NOT NULL,
    database   VARCHAR NOT NULL,
    view       VARCHAR NOT NULL,
    aliases    VARCHAR[],
    unid       VARCHAR,
    is_folder  BOOLEAN,
    selection  VARCHAR,
    columns    JSON
);
COMMENT ON TABLE notes_views IS 'Views and folders of every Notes database';
COMMENT ON COLUMN notes_views.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN notes_views.database IS 'The database (notes_databases.database)';
COMMENT ON COLUMN notes_views.view IS 'The view''s name; its element is source.database.views."name"';
COMMENT ON COLUMN notes_views.aliases IS 'The view''s aliases (synonyms)';
COMMENT ON COLUMN notes_views.unid IS 'The UNID of the view''s design note';
COMMENT ON COLUMN notes_views.is_folder IS 'True for a folder (documents put there by hand), false for a view (selected by formula)';
COMMENT ON COLUMN notes_views.selection IS 'The selection formula, when the source shows it (DXL)';
COMMENT ON COLUMN notes_views.columns IS 'The view''s columns, in order: [{name, title, position, formula}], formula NULL for a column that shows an item';
