-- Sites of attached Tableau servers (one sign-in per site with SITE '*').
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_sites (
    source        VARCHAR NOT NULL,
    via           VARCHAR NOT NULL,
    site          VARCHAR,
    site_id       VARCHAR,
    site_name     VARCHAR,
    state         VARCHAR,
    repository_id INTEGER
);
COMMENT ON TABLE tableau_sites IS 'Sites of attached Tableau servers (one sign-in per site with SITE ''*'')';
COMMENT ON COLUMN tableau_sites.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_sites.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_sites.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_sites.site_id IS 'Site LUID (the REST API''s site id; NULL via the repository''s tableau user, whose _sites view has none)';
COMMENT ON COLUMN tableau_sites.site_name IS 'Site name';
COMMENT ON COLUMN tableau_sites.state IS 'Active, Suspended… (REST state or repository status)';
COMMENT ON COLUMN tableau_sites.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
