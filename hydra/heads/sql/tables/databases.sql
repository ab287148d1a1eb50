-- The databases of a whole-server SQL source (SQL head: ATTACH 'postgresql://user@host' AS srv, or
-- any SQL URL with DATABASES '*' / 'sales_*,crm'): one row per database the login can see, readable
-- or not. PostgreSQL lists pg_database (not templates), SQL Server sys.databases, MySQL/MariaDB its
-- schemas (a MySQL "database" is a schema). A database the login may not read is listed with why.
CREATE TABLE IF NOT EXISTS databases (
    source      VARCHAR NOT NULL,
    database    VARCHAR NOT NULL,
    size_bytes  BIGINT,
    owner       VARCHAR,
    encoding    VARCHAR,
    collation_name VARCHAR,
    table_count BIGINT,
    accessible  BOOLEAN NOT NULL,
    reason      VARCHAR
);
COMMENT ON TABLE databases IS 'Databases of attached whole SQL servers, readable or not (snapshot taken at ATTACH/REFRESH)';
COMMENT ON COLUMN databases.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN databases.database IS 'Database name (MySQL/MariaDB: schema name), the first part of its elements'' refs after the source';
COMMENT ON COLUMN databases.size_bytes IS 'Size on disk in bytes as the server reports it (NULL when the login may not see it)';
COMMENT ON COLUMN databases.owner IS 'Owning role or login (NULL for MySQL/MariaDB, which have no database owners)';
COMMENT ON COLUMN databases.encoding IS 'Character encoding (PostgreSQL encoding, MySQL default character set; NULL for SQL Server)';
COMMENT ON COLUMN databases.collation_name IS 'Default collation (PostgreSQL datcollate, SQL Server/MySQL collation name)';
COMMENT ON COLUMN databases.table_count IS 'Elements (tables and views) Hydra listed in it; NULL when it could not be listed';
COMMENT ON COLUMN databases.accessible IS 'Whether the login could connect to it and read its catalog';
COMMENT ON COLUMN databases.reason IS 'Why it is not accessible (no CONNECT privilege, connections not allowed, offline, the error met); NULL when accessible';
