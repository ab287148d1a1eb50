"""A Notes/Domino estate the tests build: fixture databases (``model``), written as DXL exports
(``dxl``) and served over HTTP by a local server that follows the published Domino Access Services
and Domino REST API specs (``server``). See ``/work/shared/reference/domino/README.md``."""

from fakes.domino.model import FxDatabase, FxDocument, FxFile, FxForm, FxItem, FxView, sample_estate

__all__ = ["FxDatabase", "FxDocument", "FxFile", "FxForm", "FxItem", "FxView", "sample_estate"]
