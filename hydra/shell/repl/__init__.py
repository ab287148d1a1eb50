"""The interactive prompt: the loop (``loop``), completion (``completion``) and the history
file with secrets masked (``history``)."""
