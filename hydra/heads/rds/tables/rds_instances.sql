-- Amazon RDS DB instances of a region (RDS head: ATTACH 'rds://<region>' AS aws), or of every
-- region the account has enabled (ATTACH 'rds://*' AS aws), from paginated DescribeDBInstances calls. Any listed instance can itself be attached as a SQL source:
-- ATTACH 'rds://<region>/<identifier>' AS crm (USER 'u', DATABASE 'd', AUTH 'iam').
CREATE TABLE IF NOT EXISTS rds_instances (
    source                 VARCHAR NOT NULL,
    region                 VARCHAR,
    identifier             VARCHAR NOT NULL,
    engine                 VARCHAR,
    engine_version         VARCHAR,
    status                 VARCHAR,
    instance_class         VARCHAR,
    endpoint_address       VARCHAR,
    port                   INTEGER,
    db_name                VARCHAR,
    master_username        VARCHAR,
    allocated_storage_gb   INTEGER,
    storage_type           VARCHAR,
    storage_encrypted      BOOLEAN,
    iam_auth_enabled       BOOLEAN,
    multi_az               BOOLEAN,
    publicly_accessible    BOOLEAN,
    deletion_protection    BOOLEAN,
    availability_zone      VARCHAR,
    vpc_id                 VARCHAR,
    cluster_identifier     VARCHAR,
    master_user_secret_arn VARCHAR,
    created_at             TIMESTAMPTZ,
    arn                    VARCHAR,
    attach_uri             VARCHAR
);
COMMENT ON TABLE rds_instances IS 'RDS DB instances of attached rds:// regions (snapshot taken at ATTACH/REFRESH)';
COMMENT ON COLUMN rds_instances.source IS 'Source name given in ATTACH … AS name';
COMMENT ON COLUMN rds_instances.region IS 'AWS region of the instance (with rds://*, the region it was found in)';
COMMENT ON COLUMN rds_instances.identifier IS 'DB instance identifier (DBInstanceIdentifier)';
COMMENT ON COLUMN rds_instances.engine IS 'Database engine: postgres, mysql, mariadb, aurora-postgresql, sqlserver-se, oracle-ee, …';
COMMENT ON COLUMN rds_instances.engine_version IS 'Engine version';
COMMENT ON COLUMN rds_instances.status IS 'Instance status: available, stopped, creating, …';
COMMENT ON COLUMN rds_instances.instance_class IS 'Instance class, e.g. db.t3.medium';
COMMENT ON COLUMN rds_instances.endpoint_address IS 'DNS name clients connect to';
COMMENT ON COLUMN rds_instances.port IS 'Port clients connect to';
COMMENT ON COLUMN rds_instances.db_name IS 'Initial database name given at creation (DBName), if any';
COMMENT ON COLUMN rds_instances.master_username IS 'Master user name (the password is never read)';
COMMENT ON COLUMN rds_instances.allocated_storage_gb IS 'Allocated storage in GiB';
COMMENT ON COLUMN rds_instances.storage_type IS 'Storage type: gp2, gp3, io1, standard, aurora, …';
COMMENT ON COLUMN rds_instances.storage_encrypted IS 'True when storage is encrypted at rest';
COMMENT ON COLUMN rds_instances.iam_auth_enabled IS 'True when IAM database authentication is enabled (AUTH ''iam'' works)';
COMMENT ON COLUMN rds_instances.multi_az IS 'True for a Multi-AZ deployment';
COMMENT ON COLUMN rds_instances.publicly_accessible IS 'True when the endpoint resolves to a public address';
COMMENT ON COLUMN rds_instances.deletion_protection IS 'True when deletion protection is on';
COMMENT ON COLUMN rds_instances.availability_zone IS 'Availability zone of the (primary) instance';
COMMENT ON COLUMN rds_instances.vpc_id IS 'VPC of the instance''s subnet group';
COMMENT ON COLUMN rds_instances.cluster_identifier IS 'Aurora/Multi-AZ cluster the instance belongs to, if any';
COMMENT ON COLUMN rds_instances.master_user_secret_arn IS 'Secrets Manager secret holding the master password, when RDS manages it (usable as SECRET)';
COMMENT ON COLUMN rds_instances.created_at IS 'When the instance was created';
COMMENT ON COLUMN rds_instances.arn IS 'Amazon Resource Name of the instance';
COMMENT ON COLUMN rds_instances.attach_uri IS 'URI that attaches this instance as a SQL source: rds://<region>/<identifier>';
