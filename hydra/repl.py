"""The interactive shell (a plain prompt for now; the REPL issue makes it great)."""

from __future__ import annotations

from hydra.errors import HydraError
from hydra.session import Quit


def run_repl(session) -> int:
    buffer: list[str] = []
    while True:
        try:
            line = input("hydra> " if not buffer else "   ...> ")
        except EOFError:
            return 0
        except KeyboardInterrupt:
            buffer.clear()
            print()
            continue
        buffer.append(line)
        text = "\n".join(buffer)
        if not (text.strip().endswith(";") or text.strip().startswith(".") or not text.strip()):
            continue
        buffer.clear()
        try:
            session.run_text(text, origin="input")
        except Quit:
            return 0
        except HydraError as err:
            print(f"error: {getattr(err, 'error', err)}", file=session.err)
        except KeyboardInterrupt:
            print("interrupted", file=session.err)
