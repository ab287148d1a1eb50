-- Every document of every Notes database: identity, dates, item names and summary items.
CREATE TABLE IF NOT EXISTS notes_docs (
    source   VARCHAR NOT NULL,
    database VARCHAR NOT NULL,
    unid     VARCHAR,
    noteid   VARCHAR,
    form     VARCHAR,
    created  TIMESTAMPTZ,
    modified TIMESTAMPTZ,
    parent   VARCHAR,
    items    VARCHAR[],
    summary  JSON
);
COMMENT ON TABLE notes_docs IS 'Every document of every Notes database';
COMMENT ON COLUMN notes_docs.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN notes_docs.database IS 'The database (notes_databases.database)';
COMMENT ON COLUMN notes_docs.unid IS 'The document''s universal id (UNID, 32 hex digits), the same in every replica';
COMMENT ON COLUMN notes_docs.noteid IS 'The document''s note id in this database (hex)';
COMMENT ON COLUMN notes_docs.form IS 'The document''s form';
COMMENT ON COLUMN notes_docs.created IS 'When the document was created';
COMMENT ON COLUMN notes_docs.modified IS 'When the document was last modified';
COMMENT ON COLUMN notes_docs.parent IS 'A response document''s parent UNID ($REF); NULL for a main document';
COMMENT ON COLUMN notes_docs.items IS 'The names of its items, in document order ($FILE and $REF excepted)';
COMMENT ON COLUMN notes_docs.summary IS 'Its summary items (those Notes shows in views; rich text never is) as a JSON object, dates in ISO 8601; over HTTP every item but rich text, as neither API shows the flag';
