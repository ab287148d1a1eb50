-- Extract refresh history: one row per refresh job (the repository's background_jobs, preferred; or REST jobs).
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_extract_refreshes (
    source           VARCHAR NOT NULL,
    via              VARCHAR NOT NULL,
    site             VARCHAR,
    job_id           VARCHAR,
    job_type         VARCHAR,
    target_type      VARCHAR,
    target_id        VARCHAR,
    target_name      VARCHAR,
    created_at       TIMESTAMPTZ,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ,
    duration_seconds DOUBLE,
    status           VARCHAR,
    error            VARCHAR,
    task_id          VARCHAR,
    repository_id    INTEGER
);
COMMENT ON TABLE tableau_extract_refreshes IS 'Extract refresh history: one row per refresh job (the repository''s background_jobs, preferred; or REST jobs)';
COMMENT ON COLUMN tableau_extract_refreshes.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_extract_refreshes.via IS 'Which access path filled the row: ''rest'' (the REST API) or ''repository'' (the repository database, preferred for history when both are attached)';
COMMENT ON COLUMN tableau_extract_refreshes.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_extract_refreshes.job_id IS 'Job LUID (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_extract_refreshes.job_type IS 'refresh_extracts (full) or increment_extracts';
COMMENT ON COLUMN tableau_extract_refreshes.target_type IS 'workbook or datasource: what was refreshed';
COMMENT ON COLUMN tableau_extract_refreshes.target_id IS 'LUID of the refreshed workbook or datasource (NULL when the path does not say)';
COMMENT ON COLUMN tableau_extract_refreshes.target_name IS 'Name of the refreshed workbook or datasource';
COMMENT ON COLUMN tableau_extract_refreshes.created_at IS 'When the job was queued';
COMMENT ON COLUMN tableau_extract_refreshes.started_at IS 'When the job started running';
COMMENT ON COLUMN tableau_extract_refreshes.finished_at IS 'When the job ended; NULL while it runs';
COMMENT ON COLUMN tableau_extract_refreshes.duration_seconds IS 'finished_at - started_at in seconds; NULL while it runs';
COMMENT ON COLUMN tableau_extract_refreshes.status IS 'Success, Failed, Cancelled, InProgress or Pending';
COMMENT ON COLUMN tableau_extract_refreshes.error IS 'The job''s notes when it failed or was cancelled: the reason Tableau gives';
COMMENT ON COLUMN tableau_extract_refreshes.task_id IS 'LUID of the refresh task (schedule) that ran it, when known';
COMMENT ON COLUMN tableau_extract_refreshes.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
