-- Published datasources of every walked site.
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_datasources (
    source          VARCHAR NOT NULL,
    via             VARCHAR NOT NULL,
    site            VARCHAR,
    datasource_id   VARCHAR,
    datasource_name VARCHAR,
    content_url     VARCHAR,
    dbclass         VARCHAR,
    project_id      VARCHAR,
    project_name    VARCHAR,
    owner_id        VARCHAR,
    owner_name      VARCHAR,
    has_extract     BOOLEAN,
    certified       BOOLEAN,
    size_bytes      BIGINT,
    description     VARCHAR,
    created_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ,
    repository_id   INTEGER
);
COMMENT ON TABLE tableau_datasources IS 'Published datasources of every walked site';
COMMENT ON COLUMN tableau_datasources.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_datasources.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_datasources.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_datasources.datasource_id IS 'Datasource LUID (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_datasources.datasource_name IS 'Datasource name';
COMMENT ON COLUMN tableau_datasources.content_url IS 'Datasource content URL (unique in its site)';
COMMENT ON COLUMN tableau_datasources.dbclass IS 'Connection class of its data: postgres, sqlserver, snowflake, excel-direct, …';
COMMENT ON COLUMN tableau_datasources.project_id IS 'LUID of its project';
COMMENT ON COLUMN tableau_datasources.project_name IS 'Name of its project';
COMMENT ON COLUMN tableau_datasources.owner_id IS 'Owner''s user LUID';
COMMENT ON COLUMN tableau_datasources.owner_name IS 'Owner''s user name';
COMMENT ON COLUMN tableau_datasources.has_extract IS 'True when the datasource is an extract (its .tdsx holds a .hyper or .tde)';
COMMENT ON COLUMN tableau_datasources.certified IS 'True when the datasource is certified';
COMMENT ON COLUMN tableau_datasources.size_bytes IS 'Stored size as the server reports it';
COMMENT ON COLUMN tableau_datasources.description IS 'Datasource description';
COMMENT ON COLUMN tableau_datasources.created_at IS 'When the datasource was first published';
COMMENT ON COLUMN tableau_datasources.updated_at IS 'When the datasource was last changed';
COMMENT ON COLUMN tableau_datasources.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
