"""Tableau Server, simulated: its repository database on the real PostgreSQL (``repository``),
its REST API on a local HTTP server (``rest``), and real .hyper extracts in .twbx/.tdsx packages
(``hyper``), all describing one estate (``estate``). Fixtures are in ``fixtures``; the reference
they follow is ``shared/reference/tableau/`` (README.md, the data dictionary, the REST XSD)."""
