"""The catalog: the workspace file and its tables, the sources attached to it (ATTACH, DETACH,
REFRESH), the elements they hold, and what a written ref or selection names."""
