-- Users of every walked site (one row per user and site).
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_users (
    source        VARCHAR NOT NULL,
    via           VARCHAR NOT NULL,
    site          VARCHAR,
    user_id       VARCHAR,
    user_name     VARCHAR,
    full_name     VARCHAR,
    email         VARCHAR,
    site_role     VARCHAR,
    last_login    TIMESTAMPTZ,
    repository_id INTEGER
);
COMMENT ON TABLE tableau_users IS 'Users of every walked site (one row per user and site)';
COMMENT ON COLUMN tableau_users.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_users.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_users.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_users.user_id IS 'User LUID in this site (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_users.user_name IS 'User name (sign-in name)';
COMMENT ON COLUMN tableau_users.full_name IS 'Display name';
COMMENT ON COLUMN tableau_users.email IS 'Email address';
COMMENT ON COLUMN tableau_users.site_role IS 'Site role: Creator, Explorer, Viewer, SiteAdministratorCreator, ServerAdministrator, …';
COMMENT ON COLUMN tableau_users.last_login IS 'Last sign-in; NULL when the user never signed in';
COMMENT ON COLUMN tableau_users.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
