"""A simulated SAP system behind pyrfc's client API, following reference/sap/RFC_READ_TABLE.md
(checked by tests/fakes/test_sap_simulator.py).

- ``SapSystem`` (system.py): the dictionary, tables, users and authorizations, in DuckDB;
- ``Field`` (ddic.py): a field declared with its DDIC type, length, decimals and key flag;
- functions.py: RFC_READ_TABLE and its wider variants, DDIF_FIELDINFO_GET,
  EM_GET_NUMBER_OF_ENTRIES, RFC_GET_FUNCTION_INTERFACE, RFC_PING;
- where.py: ABAP's dynamic WHERE (OPTIONS) parsed into DuckDB SQL;
- pyrfc_api.py: pyrfc's ``Connection`` and exceptions; ``install(monkeypatch, system)`` makes
  ``import pyrfc`` give it in-process, and ``pythonpath/`` on PYTHONPATH with ``HYDRA_SAP_SIM``
  naming a saved system gives it to a subprocess.
"""

from .ddic import Field
from .pyrfc_api import install, module
from .system import SapSystem

__all__ = ["Field", "SapSystem", "install", "module"]
