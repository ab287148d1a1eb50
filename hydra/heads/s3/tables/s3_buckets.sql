-- The buckets of attached S3 sources (S3 head): every bucket the credentials can see when the
-- whole account is attached (ATTACH 's3://' AS aws, from ListBuckets), or the one bucket of
-- ATTACH 's3://bucket[/prefix]'. A bucket that could not be listed is here with the reason; one
-- whose listing stopped at MAX_OBJECTS says after which key.
CREATE TABLE IF NOT EXISTS s3_buckets (
    source         VARCHAR NOT NULL,
    bucket         VARCHAR NOT NULL,
    prefix         VARCHAR,
    region         VARCHAR,
    created        TIMESTAMPTZ,
    listable       BOOLEAN,
    error          VARCHAR,
    objects_listed BIGINT,
    truncated      BOOLEAN,
    cut_after      VARCHAR
);
COMMENT ON TABLE s3_buckets IS 'Buckets of attached S3 sources and how far each was listed (snapshot taken at ATTACH/REFRESH)';
COMMENT ON COLUMN s3_buckets.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN s3_buckets.bucket IS 'S3 bucket name (the second part of the refs of its elements when the whole account is attached)';
COMMENT ON COLUMN s3_buckets.prefix IS 'The prefix listed (empty: the whole bucket)';
COMMENT ON COLUMN s3_buckets.region IS 'AWS region the bucket lives in (NULL when it could not be asked)';
COMMENT ON COLUMN s3_buckets.created IS 'When the bucket was created (ListBuckets CreationDate; NULL for a single-bucket attach)';
COMMENT ON COLUMN s3_buckets.listable IS 'True when its objects could be listed; false when access was denied or the bucket failed otherwise';
COMMENT ON COLUMN s3_buckets.error IS 'Why the bucket could not be listed (one line), NULL when it was';
COMMENT ON COLUMN s3_buckets.objects_listed IS 'Objects listed (rows of s3_objects for this bucket)';
COMMENT ON COLUMN s3_buckets.truncated IS 'True when the listing stopped at MAX_OBJECTS with objects left: elements past cut_after are missing';
COMMENT ON COLUMN s3_buckets.cut_after IS 'The last key listed when the listing was cut (keys are listed in order), else NULL';
