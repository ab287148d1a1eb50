-- Workbooks of every walked site.
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_workbooks (
    source        VARCHAR NOT NULL,
    via           VARCHAR NOT NULL,
    site          VARCHAR,
    workbook_id   VARCHAR,
    workbook_name VARCHAR,
    content_url   VARCHAR,
    project_id    VARCHAR,
    project_name  VARCHAR,
    owner_id      VARCHAR,
    owner_name    VARCHAR,
    size_bytes    BIGINT,
    has_extract   BOOLEAN,
    description   VARCHAR,
    created_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ,
    repository_id INTEGER
);
COMMENT ON TABLE tableau_workbooks IS 'Workbooks of every walked site';
COMMENT ON COLUMN tableau_workbooks.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_workbooks.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_workbooks.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_workbooks.workbook_id IS 'Workbook LUID (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_workbooks.workbook_name IS 'Workbook name';
COMMENT ON COLUMN tableau_workbooks.content_url IS 'Workbook content URL (unique in its site)';
COMMENT ON COLUMN tableau_workbooks.project_id IS 'LUID of its project';
COMMENT ON COLUMN tableau_workbooks.project_name IS 'Name of its project';
COMMENT ON COLUMN tableau_workbooks.owner_id IS 'Owner''s user LUID';
COMMENT ON COLUMN tableau_workbooks.owner_name IS 'Owner''s user name';
COMMENT ON COLUMN tableau_workbooks.size_bytes IS 'Stored size as the server reports it';
COMMENT ON COLUMN tableau_workbooks.has_extract IS 'True when the workbook embeds an extract (its .twbx holds a .hyper or .tde)';
COMMENT ON COLUMN tableau_workbooks.description IS 'Workbook description';
COMMENT ON COLUMN tableau_workbooks.created_at IS 'When the workbook was first published';
COMMENT ON COLUMN tableau_workbooks.updated_at IS 'When the workbook was last changed';
COMMENT ON COLUMN tableau_workbooks.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
