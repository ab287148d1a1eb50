-- Projects of every walked site.
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_projects (
    source            VARCHAR NOT NULL,
    via               VARCHAR NOT NULL,
    site              VARCHAR,
    project_id        VARCHAR,
    project_name      VARCHAR,
    description       VARCHAR,
    parent_project_id VARCHAR,
    owner_id          VARCHAR,
    owner_name        VARCHAR,
    created_at        TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ,
    repository_id     INTEGER
);
COMMENT ON TABLE tableau_projects IS 'Projects of every walked site';
COMMENT ON COLUMN tableau_projects.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_projects.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_projects.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_projects.project_id IS 'Project LUID (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_projects.project_name IS 'Project name';
COMMENT ON COLUMN tableau_projects.description IS 'Project description';
COMMENT ON COLUMN tableau_projects.parent_project_id IS 'LUID of the parent project; NULL for a top-level project';
COMMENT ON COLUMN tableau_projects.owner_id IS 'Owner''s user LUID';
COMMENT ON COLUMN tableau_projects.owner_name IS 'Owner''s user name';
COMMENT ON COLUMN tableau_projects.created_at IS 'When the project was created';
COMMENT ON COLUMN tableau_projects.updated_at IS 'When the project was last changed';
COMMENT ON COLUMN tableau_projects.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
