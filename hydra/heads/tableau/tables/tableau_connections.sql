-- Every data connection of every workbook and published datasource: the map of which databases the dashboards depend on.
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_connections (
    source                    VARCHAR NOT NULL,
    via                       VARCHAR NOT NULL,
    site                      VARCHAR,
    connection_id             VARCHAR,
    owner_type                VARCHAR,
    owner_id                  VARCHAR,
    owner_name                VARCHAR,
    dbclass                   VARCHAR,
    server                    VARCHAR,
    port                      INTEGER,
    dbname                    VARCHAR,
    username                  VARCHAR,
    embedded_password         BOOLEAN,
    has_extract               BOOLEAN,
    published_datasource_id   VARCHAR,
    published_datasource_name VARCHAR,
    repository_id             INTEGER
);
COMMENT ON TABLE tableau_connections IS 'Every data connection of every workbook and published datasource: the map of which databases the dashboards depend on';
COMMENT ON COLUMN tableau_connections.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_connections.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_connections.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_connections.connection_id IS 'Connection LUID (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_connections.owner_type IS 'workbook or datasource: what owns the connection';
COMMENT ON COLUMN tableau_connections.owner_id IS 'LUID of the owning workbook or datasource';
COMMENT ON COLUMN tableau_connections.owner_name IS 'Name of the owning workbook or datasource';
COMMENT ON COLUMN tableau_connections.dbclass IS 'Connection class: postgres, sqlserver, mysql, snowflake, excel-direct, hyper, sqlproxy (a published datasource), …';
COMMENT ON COLUMN tableau_connections.server IS 'Host the connection reaches';
COMMENT ON COLUMN tableau_connections.port IS 'Port the connection reaches';
COMMENT ON COLUMN tableau_connections.dbname IS 'Database name the connection opens (repository only: the REST API does not give it)';
COMMENT ON COLUMN tableau_connections.username IS 'User name the connection signs in with (its password is never read)';
COMMENT ON COLUMN tableau_connections.embedded_password IS 'True when a password is embedded in the workbook or datasource';
COMMENT ON COLUMN tableau_connections.has_extract IS 'True when the connection is served from an extract (repository only; NULL via REST)';
COMMENT ON COLUMN tableau_connections.published_datasource_id IS 'For a workbook''s sqlproxy connection (or a datasource''s own), the LUID of the published datasource';
COMMENT ON COLUMN tableau_connections.published_datasource_name IS 'Name of that published datasource';
COMMENT ON COLUMN tableau_connections.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
