"""``pyrfc`` for a subprocess under test: logs on to the simulated SAP system saved in the DuckDB
file that ``HYDRA_SAP_SIM`` names (put this directory first on PYTHONPATH)."""

import functools
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # tests/, home of fakes

from fakes.sap.pyrfc_api import *  # noqa: E402,F403 - pyrfc's exception classes
from fakes.sap.pyrfc_api import connection_class  # noqa: E402
from fakes.sap.system import SapSystem  # noqa: E402

__version__ = "3.4"


@functools.cache
def _system() -> SapSystem:
    return SapSystem.open(os.environ["HYDRA_SAP_SIM"])


Connection = connection_class(_system)
