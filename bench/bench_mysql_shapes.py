"""Bulk reads on every table shape, mysql: ``bench_sql_shapes.py --db mysql`` (see there).

    python bench/bench_mysql_shapes.py [--rows N] [--narrow-rows N] [-n 3] [--shapes mixed,wide,…]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_sql_shapes  # noqa: E402

if __name__ == "__main__":
    sys.exit(bench_sql_shapes.main(["--db", "mysql", *sys.argv[1:]]))
