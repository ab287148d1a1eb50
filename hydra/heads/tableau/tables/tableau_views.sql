-- Views (sheets, dashboards, stories) of every walked workbook.
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_views (
    source        VARCHAR NOT NULL,
    via           VARCHAR NOT NULL,
    site          VARCHAR,
    view_id       VARCHAR,
    view_name     VARCHAR,
    content_url   VARCHAR,
    sheet_type    VARCHAR,
    workbook_id   VARCHAR,
    workbook_name VARCHAR,
    owner_name    VARCHAR,
    created_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ,
    repository_id INTEGER
);
COMMENT ON TABLE tableau_views IS 'Views (sheets, dashboards, stories) of every walked workbook';
COMMENT ON COLUMN tableau_views.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_views.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_views.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_views.view_id IS 'View LUID (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_views.view_name IS 'View name';
COMMENT ON COLUMN tableau_views.content_url IS 'View content URL: <workbook>/sheets/<view>';
COMMENT ON COLUMN tableau_views.sheet_type IS 'view, dashboard or story';
COMMENT ON COLUMN tableau_views.workbook_id IS 'LUID of its workbook';
COMMENT ON COLUMN tableau_views.workbook_name IS 'Name of its workbook';
COMMENT ON COLUMN tableau_views.owner_name IS 'Owner''s user name';
COMMENT ON COLUMN tableau_views.created_at IS 'When the view was created';
COMMENT ON COLUMN tableau_views.updated_at IS 'When the view was last changed';
COMMENT ON COLUMN tableau_views.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
