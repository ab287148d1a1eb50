-- The things of an attached demo source (the third-party head of the tests): one row per thing.
CREATE TABLE IF NOT EXISTS demo_things (
    source VARCHAR NOT NULL,
    id     BIGINT
);
COMMENT ON TABLE demo_things IS 'Things of attached demo sources (a third-party head''s own table)';
COMMENT ON COLUMN demo_things.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN demo_things.id IS 'The thing''s number, 1 to n';
