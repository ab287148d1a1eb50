-- The repository's historical events (sign-ins, views accessed, publications, downloads, refreshes…) joined to their types; only when the repository is attached with base-table access.
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_events (
    source          VARCHAR NOT NULL,
    via             VARCHAR NOT NULL,
    site            VARCHAR,
    event_id        BIGINT,
    event_type      VARCHAR,
    action_type     VARCHAR,
    created_at      TIMESTAMPTZ,
    actor_name      VARCHAR,
    project_name    VARCHAR,
    workbook_name   VARCHAR,
    view_name       VARCHAR,
    datasource_name VARCHAR,
    is_failure      BOOLEAN,
    details         VARCHAR,
    repository_id   INTEGER
);
COMMENT ON TABLE tableau_events IS 'The repository''s historical events (sign-ins, views accessed, publications, downloads, refreshes…) joined to their types; only when the repository is attached with base-table access';
COMMENT ON COLUMN tableau_events.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_events.via IS 'Which access path filled the row: ''rest'' (the REST API) or ''repository'' (the repository database, preferred for history when both are attached)';
COMMENT ON COLUMN tableau_events.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_events.event_id IS 'historical_events.id';
COMMENT ON COLUMN tableau_events.event_type IS 'Event name: Access View, Publish Workbook, Login, …';
COMMENT ON COLUMN tableau_events.action_type IS 'Event group: Access, Create, Publish, Update, Delete, …';
COMMENT ON COLUMN tableau_events.created_at IS 'When the event was recorded';
COMMENT ON COLUMN tableau_events.actor_name IS 'User who acted';
COMMENT ON COLUMN tableau_events.project_name IS 'Project concerned, if any';
COMMENT ON COLUMN tableau_events.workbook_name IS 'Workbook concerned, if any';
COMMENT ON COLUMN tableau_events.view_name IS 'View concerned, if any';
COMMENT ON COLUMN tableau_events.datasource_name IS 'Datasource concerned, if any';
COMMENT ON COLUMN tableau_events.is_failure IS 'True when the attempted action failed';
COMMENT ON COLUMN tableau_events.details IS 'Detail text of the event';
COMMENT ON COLUMN tableau_events.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
