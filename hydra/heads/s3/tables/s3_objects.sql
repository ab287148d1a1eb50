-- Every object under an attached S3 bucket/prefix (S3 head): one row per key, from paginated
-- ListObjectsV2 calls (1,000 keys each), no per-object requests. Readable files and datasets also
-- appear in `elements`; logs, text and binaries appear only here.
CREATE TABLE IF NOT EXISTS s3_objects (
    source        VARCHAR NOT NULL,
    bucket        VARCHAR NOT NULL,
    key           VARCHAR NOT NULL,
    size          BIGINT,
    etag          VARCHAR,
    last_modified TIMESTAMPTZ,
    storage_class VARCHAR
);
COMMENT ON TABLE s3_objects IS 'Objects of attached S3 sources (snapshot taken at ATTACH/REFRESH)';
COMMENT ON COLUMN s3_objects.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN s3_objects.bucket IS 'S3 bucket name';
COMMENT ON COLUMN s3_objects.key IS 'Full object key (including the attached prefix)';
COMMENT ON COLUMN s3_objects.size IS 'Object size in bytes';
COMMENT ON COLUMN s3_objects.etag IS 'ETag without quotes (the MD5 of single-part uploads; "-N" suffix for multipart)';
COMMENT ON COLUMN s3_objects.last_modified IS 'When the object was last written (S3 LastModified)';
COMMENT ON COLUMN s3_objects.storage_class IS 'Storage class: STANDARD, STANDARD_IA, GLACIER, INTELLIGENT_TIERING, …';
