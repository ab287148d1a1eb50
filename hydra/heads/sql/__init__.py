"""The ``sql`` head: any database SQLAlchemy reaches (``head``), with fast paths per engine.

- ``catalog``: tables, views, columns, keys and row estimates from the engine's own catalog;
- ``types``: source types as DuckDB/Arrow types;
- ``postgres``, ``mysql``: bulk reads through the engine's own client (COPY, ``mysql --batch``);
  ``pgbinary``: PostgreSQL's binary COPY format decoded; ``transports``: the client processes;
- ``arrow``: driver rows as Arrow columns; ``aggregates``: figures computed by the engine;
- ``snapshot``: the one moment every reader of an element, and its figures, read in;
- ``server``: whole servers, every database a login reaches as one source (the registered head);
  ``databases``: which databases, how each server lists them, the ``databases`` table.
"""
