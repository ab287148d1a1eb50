"""The ``files`` head: a local folder, file or glob of CSV, Parquet and JSON files (``head``)."""
