"""Reading: a statement's element refs rewritten into scans (``rewrite``), and the one way an
element is read — a head's native scan or its Arrow reader registered as a view (``scan``)."""
