"""The ``rds`` head: the databases of an AWS account's RDS instances (``head``), each read as a
``sql`` source; its virtual table ``rds_instances`` is ``tables/rds_instances.sql``."""
