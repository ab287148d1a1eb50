"""The interactive shell: a prompt_toolkit session around ``Session.run_text``.

- Statements may span lines and end with ``;``; a dot command ends at the end of its line.
  Alt-Enter (Esc Enter) runs the text as it is.
- SQL highlighting (pygments), completion from the workspace catalog (``repl_completion``),
  history per workspace with secrets masked (``repl_history``), Ctrl-R to search it.
- Results taller than the screen open in a pager (``$PAGER``, else ``less -SRFX``; ``.pager off``).
- Ctrl-C cancels the running statement (``repl_interrupt``) or clears the line; Ctrl-D exits.
- A bottom toolbar: workspace, attached sources, marked elements, last statement's time.
- An error prints one line and the session goes on.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading

from hydra.core.errors import HydraError
from hydra.shell.dot_commands import Quit

PROMPT = "hydra> "
CONTINUATION = "   ...> "
DEFAULT_PAGER = "less -SRFX"
DEFAULT_MAX_ROWS = 100
# first words of statements that cannot change what completion shows (tables, sources, elements)
READ_ONLY_WORDS = frozenset({"SELECT", "WITH", "FROM", "VALUES", "SHOW", "DESCRIBE", "SUMMARIZE", "EXPLAIN",
                             "MARK", "UNMARK", "PROFILE", "EXTRACT", "RECONCILE", "(", "TABLE"})


class Shell:
    """One interactive session. ``input``/``output`` are for tests (prompt_toolkit pipe input and
    ``DummyOutput``); by default the terminal."""

    def __init__(self, session, input=None, output=None, history_file: str | None = None):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.completion import ThreadedCompleter
        from prompt_toolkit.lexers import PygmentsLexer
        from pygments.lexers.sql import SqlLexer

        from hydra.shell.interrupt import Interrupter
        from hydra.shell.repl.completion import CatalogCache, HydraCompleter
        from hydra.shell.repl.history import MaskedFileHistory, history_path

        self.session = session
        self.ws = session.ws
        session.ensure_catalog()
        self.cache = CatalogCache(self.ws.con)
        self.completer = HydraCompleter(self.cache)
        self.history_file = history_file or history_path(self.ws)
        self.interrupter = Interrupter(self.ws.con)
        self.sources: list[str] = []
        self.marked = 0
        self._refresh_status()
        session.after_statement = self._after_statement
        session.pager = self.page
        if session.max_rows is None:  # in the shell, tall results show their first and last rows
            session.max_rows = DEFAULT_MAX_ROWS
        self.prompt = PromptSession(
            message=PROMPT,
            multiline=True,
            prompt_continuation=lambda width, line_number, soft_wrap: CONTINUATION.rjust(width),
            lexer=PygmentsLexer(SqlLexer),
            completer=ThreadedCompleter(self.completer),
            complete_while_typing=True,
            history=MaskedFileHistory(self.history_file),
            enable_history_search=False,  # ↑ walks history; Ctrl-R searches it
            search_ignore_case=True,
            bottom_toolbar=self.toolbar,
            key_bindings=self._key_bindings(),
            input=input,
            output=output,
        )
        self.cache.on_reload = self._redraw
        self.cache.reload_in_background()
        threading.Thread(target=self._warm_up, name="hydra-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            self.completer.warm_up()
        except Exception:  # noqa: BLE001 - completion will load what it needs when asked
            pass

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> int:
        while True:
            try:
                text = self.prompt.prompt()
            except KeyboardInterrupt:  # Ctrl-C at the prompt clears the line
                continue
            except EOFError:  # Ctrl-D
                return 0
            history = self.prompt.history
            if getattr(history, "warning", None):
                self._print_error(history.warning)
                history.warning = ""  # said once
            if not text.strip():
                continue
            try:
                if self.execute(text) is Quit:
                    return 0
            except KeyboardInterrupt:  # a late Ctrl-C, after the statement ended
                self._print_error("interrupted")

    def execute(self, text: str):
        """Run what was typed; errors print one line. Returns ``Quit`` after ``.quit``."""
        try:
            with self.interrupter:
                self.session.run_text(text, origin="input")
        except Quit:
            return Quit
        except KeyboardInterrupt:
            self._interrupted()
        except HydraError as err:
            if self.interrupter.fired:
                self._interrupted()
            else:
                self._print_error(str(getattr(err, "error", err)))
        except Exception as err:  # noqa: BLE001 - a bug must not end the user's day
            if self.interrupter.fired:  # DuckDB's own signal check says RuntimeError("Query interrupted")
                self._interrupted()
            else:
                self._print_error(f"internal error: {type(err).__name__}: {err}")
        return None

    def _interrupted(self) -> None:
        """After Ctrl-C: leave no transaction half-done, and say so."""
        import duckdb

        note = ""
        try:
            self.ws.con.execute("ROLLBACK")
            note = " (the open transaction was rolled back)"
        except duckdb.Error:
            pass  # no transaction was open
        self._print_error(f"interrupted{note}")
        self._after_statement(None)

    def _print_error(self, message: str) -> None:
        lines = str(message).strip().splitlines() or ["error"]
        self.session.err.write(f"Error: {lines[0]}\n")
        self.session.err.flush()

    # -- after each statement -------------------------------------------------------------------

    def _after_statement(self, stmt) -> None:
        word = ""
        if stmt is not None and not stmt.dot:
            word = stmt.keyword or (stmt.text.split(None, 1) or [""])[0].upper()
        if stmt is None or (not stmt.dot and word not in READ_ONLY_WORDS):
            self.cache.invalidate()
        self._refresh_status()

    def _refresh_status(self) -> None:
        try:
            sources, marked = self.ws.con.execute(
                "SELECT (SELECT list(name ORDER BY name) FROM sources), (SELECT count(*) FROM marks)").fetchone()
            self.sources, self.marked = list(sources or []), marked
        except Exception:  # noqa: BLE001 - e.g. inside an aborted transaction: keep the last values
            pass

    def _redraw(self) -> None:
        app = getattr(self.prompt, "app", None)
        if app is not None and app.is_running:
            app.invalidate()

    # -- toolbar --------------------------------------------------------------------------------

    def toolbar(self):
        path = self.ws.snapshot_of or self.ws.path
        name = path if path == ":memory:" else os.path.basename(path)
        if self.ws.read_only:
            name += " (read-only)"
        sources = ", ".join(self.sources[:6]) + (f", +{len(self.sources) - 6}" if len(self.sources) > 6 else "")
        elapsed = self.session.last_elapsed
        last = "-" if elapsed is None else (f"{elapsed * 1000:.0f} ms" if elapsed < 1 else f"{elapsed:.2f} s")
        return [("class:bottom-toolbar", f" {name} │ sources: {sources or 'none'} │ "
                                         f"marked: {self.marked} │ last: {last} │ .help ")]

    # -- keys -----------------------------------------------------------------------------------

    def _key_bindings(self):
        from prompt_toolkit.enums import DEFAULT_BUFFER
        from prompt_toolkit.filters import completion_is_selected, has_completions, has_focus
        from prompt_toolkit.key_binding import KeyBindings

        from hydra.shell.repl.completion import is_complete

        bindings = KeyBindings()
        editing = has_focus(DEFAULT_BUFFER)  # not while Ctrl-R searches: Enter accepts the search there

        @bindings.add("enter", filter=editing & ~(has_completions & completion_is_selected))
        def _enter(event):
            buffer = event.current_buffer
            if buffer.complete_state:
                buffer.cancel_completion()
            if is_complete(buffer.text):  # wherever the cursor is (as pgcli): e.g. after Ctrl-R
                buffer.validate_and_handle()
            else:
                buffer.insert_text("\n")

        @bindings.add("enter", filter=editing & has_completions & completion_is_selected)
        def _choose(event):  # Enter on a highlighted completion takes it
            buffer = event.current_buffer
            buffer.complete_state = None

        @bindings.add("escape", "enter", filter=editing)
        def _run_now(event):
            event.current_buffer.validate_and_handle()

        return bindings

    # -- pager ----------------------------------------------------------------------------------

    def page(self, text: str) -> None:
        """Show a result: through the pager when it is taller than the screen."""
        out = self.session.out
        command = self._pager_command()
        size = shutil.get_terminal_size()
        if command and text.count("\n") > size.lines - 2 and _isatty(out):
            out.flush()
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the pager now
            try:
                env = dict(os.environ)
                env.setdefault("LESSCHARSET", "utf-8")  # the table's … and any non-ASCII data
                pager = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, encoding="utf-8",
                                         errors="replace", env=env)
                try:
                    pager.communicate(text)
                except BrokenPipeError:  # the user quit the pager early
                    pager.wait()
                return
            except OSError:
                pass  # no such pager: print instead
            finally:
                signal.signal(signal.SIGINT, previous)
        out.write(text)

    def _pager_command(self) -> str | None:
        setting = getattr(self.session, "pager_command", None)
        if setting == "off":
            return None
        if setting and setting != "on":
            return setting
        command = os.environ.get("PAGER") or DEFAULT_PAGER
        if command == DEFAULT_PAGER and shutil.which("less") is None:
            return "more" if shutil.which("more") else None
        return command

    def close(self) -> None:
        self.session.after_statement = None
        self.session.pager = None
        self.interrupter.close()
        self.cache.close()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run_repl(session) -> int:
    shell = Shell(session)
    try:
        return shell.run()
    finally:
        shell.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run: hydra [workspace]")
