"""The ``s3`` head: objects under an ``s3://`` prefix (``head``), read by format (``formats``);
its virtual table ``s3_objects`` is ``tables/s3_objects.sql``."""
