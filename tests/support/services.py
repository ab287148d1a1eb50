"""Where the real servers the tests use are: the machine's PostgreSQL and MariaDB (override
with HYDRA_TEST_PG_URL / HYDRA_TEST_MYSQL_URL)."""

import os

PG_URL = os.environ.get("HYDRA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432")
MYSQL_URL = os.environ.get("HYDRA_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
