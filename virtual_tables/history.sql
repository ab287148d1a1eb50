-- Every statement that changed the workspace or moved data, as the shell ran it (REPORT lists them).
-- Queries (SELECT, DESCRIBE, SHOW…) are not kept: they change nothing, and an investigation runs
-- thousands. Secrets never land here: the text is masked as the history file masks it.
CREATE TABLE IF NOT EXISTS history (
    started_at    TIMESTAMPTZ NOT NULL,
    seconds       DOUBLE,
    origin        VARCHAR NOT NULL,
    line          INTEGER,
    statement     VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,
    error         VARCHAR,
    user_name     VARCHAR,
    host          VARCHAR,
    hydra_version VARCHAR NOT NULL
);
COMMENT ON TABLE history IS 'Statements run on this workspace (not queries), secrets masked';
COMMENT ON COLUMN history.started_at IS 'When the statement started';
COMMENT ON COLUMN history.seconds IS 'How long it ran';
COMMENT ON COLUMN history.origin IS 'Where it came from: the script''s path (-f), -c, <stdin>, or input (the interactive shell)';
COMMENT ON COLUMN history.line IS 'Line of the script where the statement starts';
COMMENT ON COLUMN history.statement IS 'The statement as written, passwords and secret options masked (***)';
COMMENT ON COLUMN history.status IS 'ok; partial (it ran, but some elements or checks failed); failed (it stopped with an error)';
COMMENT ON COLUMN history.error IS 'What failed, one line (the error, or the failed elements or checks)';
COMMENT ON COLUMN history.user_name IS 'Operating-system user who ran it';
COMMENT ON COLUMN history.host IS 'Host name of the machine it ran on';
COMMENT ON COLUMN history.hydra_version IS 'Hydra version that ran it';
