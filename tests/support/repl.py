"""Helpers for the REPL tests: a folder of CSV files, and a driver that types into a real
``Shell`` through prompt_toolkit's pipe input, waiting for each step to take effect."""

from __future__ import annotations

import io
import os
import signal
import threading
import time


def make_folder(root):
    (root / "sub dir").mkdir(parents=True)
    (root / "customers.csv").write_text("customer_id,customer_name,city\n1,Ann,Oslo\n2,Bob,\n")
    (root / "orders.csv").write_text("order_id,customer_id,amount\n10,1,9.5\n11,2,3.25\n")
    (root / "sub dir" / "cities.csv").write_text("city,country\nOslo,NO\n")
    return root


class Typist:
    """Runs ``Shell.run()`` in the calling (main) thread while a helper thread types the steps.

    A step is (keys, until): ``keys`` are sent, then the typist waits until ``until(typist)`` is
    true (or gives up after ``timeout`` seconds and records it). The last step is Ctrl-D.
    """

    def __init__(self, session, tmp_path, timeout: float = 15.0):
        from prompt_toolkit.input import create_pipe_input
        from prompt_toolkit.output import DummyOutput

        from hydra.shell.repl.loop import Shell

        self.session = session
        self.timeout = timeout
        self.history_file = str(tmp_path / "history")
        self._input_cm = create_pipe_input()
        self.input = self._input_cm.__enter__()
        self.shell = Shell(session, input=self.input, output=DummyOutput(), history_file=self.history_file)
        self.failures: list[str] = []
        # prompts the shell has shown, and how many there were when the last keys were sent: the
        # buffer is empty and the application still running for an instant after Enter, before the
        # statement runs, so only a prompt shown since then means the statement has ended
        self.prompts = 0
        self._prompts_at_send = 0
        ask = self.shell.prompt.prompt

        def counted_prompt(*args, **kwargs):
            self.prompts += 1
            return ask(*args, **kwargs)

        self.shell.prompt.prompt = counted_prompt

    @property
    def out(self) -> str:
        return self.session.out.getvalue()

    @property
    def err(self) -> str:
        return self.session.err.getvalue()

    @property
    def buffer(self) -> str:
        return self.shell.prompt.default_buffer.text

    def prompt_ready(self) -> bool:
        """A prompt shown since the last keys were sent is waiting, empty."""
        app = self.shell.prompt.app
        return self.prompts > self._prompts_at_send and app.is_running and not self.buffer

    def run(self, steps) -> int:
        def type_all():
            self._wait(self.prompt_ready, "the first prompt")
            for keys, until in steps:
                self._prompts_at_send = self.prompts
                self.input.send_text(keys)
                if until is not None:
                    self._wait(lambda until=until: until(self), repr(keys))
            self.input.send_text("\x04")

        thread = threading.Thread(target=type_all, daemon=True)
        thread.start()
        try:
            code = self.shell.run()
        finally:
            thread.join(5)
            self.shell.close()
            self._input_cm.__exit__(None, None, None)
        return code

    def _wait(self, condition, what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except Exception:  # noqa: BLE001 - the state is changing under us: look again
                pass
            time.sleep(0.02)
        self.failures.append(f"timed out waiting after {what}; buffer={self.buffer!r}")
        self.input.send_text("\x03")  # clear the line so that Ctrl-D can end the shell


def interrupted_while_running(t) -> bool:
    """``until``: Ctrl-C (SIGINT to this process) pressed while the typed statement runs, then the
    shell said "interrupted" and the prompt is back.

    The signal is sent only once the shell has entered its ``Interrupter`` for this statement (it
    is running, not still being accepted by prompt_toolkit, whose own SIGINT handling would take it
    as Ctrl-C at the prompt), and sent again every 2 s until it shows, as a user would press again.
    Once the statement runs, the first one stops it (the tests say so)."""
    sent = t.__dict__.setdefault("_sigint_sent", [])
    if t.shell.interrupter._active and (not sent or time.monotonic() - sent[-1] > 2.0):
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
    return "interrupted" in t.err and t.prompt_ready()


def new_session(ws, fmt: str = "table"):
    from hydra.shell.session import Session

    return Session(ws, fmt, out=io.StringIO(), err=io.StringIO())


def ran(text: str):
    """``until``: the prompt is back (empty) and ``text`` was printed (stdout or stderr)."""
    return lambda t: t.prompt_ready() and (text in t.out or text in t.err)


def shows(text: str):
    """``until``: the input buffer contains ``text``."""
    return lambda t: text in t.buffer


def menu(text: str):
    """``until``: the buffer contains ``text`` and completion-while-typing has finished and shows
    a menu (a Tab sent while that completion still runs would be ignored, as on a terminal)."""
    def ready(t):
        state = t.shell.prompt.default_buffer.complete_state
        return text in t.buffer and state is not None and bool(state.completions)
    return ready


def catalog_has(source: str):
    """``until``: the prompt is back and completion's catalog (reloaded in the background after a
    statement that changes it) knows ``source``."""
    def ready(t):
        catalog = t.shell.cache.peek()
        return t.prompt_ready() and catalog is not None and source in catalog.sources
    return ready
