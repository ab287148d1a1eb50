-- Scheduled extract refresh tasks: which workbook or datasource refreshes on which schedule.
-- Filled by the tableau head at ATTACH/REFRESH, through REST or the repository (the via column).
CREATE TABLE IF NOT EXISTS tableau_refresh_tasks (
    source               VARCHAR NOT NULL,
    via                  VARCHAR NOT NULL,
    site                 VARCHAR,
    task_id              VARCHAR,
    target_type          VARCHAR,
    target_id            VARCHAR,
    target_name          VARCHAR,
    schedule_name        VARCHAR,
    next_run_at          TIMESTAMPTZ,
    priority             INTEGER,
    incremental          BOOLEAN,
    consecutive_failures INTEGER,
    repository_id        INTEGER
);
COMMENT ON TABLE tableau_refresh_tasks IS 'Scheduled extract refresh tasks: which workbook or datasource refreshes on which schedule';
COMMENT ON COLUMN tableau_refresh_tasks.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN tableau_refresh_tasks.via IS 'Which access path filled the row: ''rest'' (the REST API), ''repository'' (the repository database), or ''rest+repository'' (a REST row completed from the repository row of the same LUID, when both are attached)';
COMMENT ON COLUMN tableau_refresh_tasks.site IS 'Content URL of the site ('''' for the Default site)';
COMMENT ON COLUMN tableau_refresh_tasks.task_id IS 'Task LUID (NULL via the repository''s tableau user)';
COMMENT ON COLUMN tableau_refresh_tasks.target_type IS 'workbook or datasource';
COMMENT ON COLUMN tableau_refresh_tasks.target_id IS 'LUID of the workbook or datasource it refreshes';
COMMENT ON COLUMN tableau_refresh_tasks.target_name IS 'Name of the workbook or datasource it refreshes (NULL via REST, which gives only the id)';
COMMENT ON COLUMN tableau_refresh_tasks.schedule_name IS 'Schedule name';
COMMENT ON COLUMN tableau_refresh_tasks.next_run_at IS 'When the schedule runs next';
COMMENT ON COLUMN tableau_refresh_tasks.priority IS 'Task priority (lower runs first)';
COMMENT ON COLUMN tableau_refresh_tasks.incremental IS 'True for an incremental refresh';
COMMENT ON COLUMN tableau_refresh_tasks.consecutive_failures IS 'How many runs in a row have failed';
COMMENT ON COLUMN tableau_refresh_tasks.repository_id IS 'The row''s integer id in the repository (NULL via REST)';
