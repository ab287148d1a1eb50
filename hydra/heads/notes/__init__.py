"""IBM Notes / HCL Domino: the ``notes`` head (``head.NotesHead``) and the layers under it.

``dxl`` parses DXL exports as a stream, ``rest`` reads Domino Access Services and the Domino REST
API, both into the one document model of ``model``; ``forms`` turns documents into Arrow tables
(one per form), views into tables of their columns, and fills the head's own tables; ``estate``
puts the three ways in behind one interface, and ``scan`` is ATTACH's one pass over each
database. Nothing here imports lxml or pyarrow until a module is imported, so listing heads stays
cheap.
"""
