"""The shell: the command line (``cli``), a session's settings and output (``session``,
``output``), dot commands, Ctrl-C (``interrupt``) and the interactive prompt (``repl``)."""
