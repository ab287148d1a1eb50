"""Running transfer tasks: the ``Executor`` protocol (``base``) and today's thread pool (``local``).

The coordinator (``hydra.transfer``) builds a plan of picklable tasks and submits each with the
module-level function that runs it; an executor runs them where it likes and hands back an
``Outcome`` per task as each completes. A distributed executor is one more module here, with no
change elsewhere.
"""

from hydra.engine.base import Context, Executor, Outcome

__all__ = ["Context", "Executor", "Outcome"]
