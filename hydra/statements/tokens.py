"""A small reader over a statement's tokens, for the registered statements' grammars."""

from __future__ import annotations

from hydra.core.errors import StatementError
from hydra.core.statement import Statement
from hydra.statements.registry import REGISTRY


class Cursor:
    """A small reader over a statement's tokens, for the registered statements' grammars."""

    def __init__(self, stmt: Statement):
        self.stmt = stmt
        self.tokens = stmt.tokens
        self.i = 1  # after the keyword

    def peek(self, offset: int = 0):
        index = self.i + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def next(self, what: str = "more"):
        token = self.peek()
        if token is None:
            raise StatementError(f"{self.stmt.keyword}: expected {what}; syntax: {_syntax(self.stmt.keyword)}")
        self.i += 1
        return token

    def accept(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.text.upper() == word.upper() and token.token_type.name != "IDENTIFIER":
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            token = self.peek()
            got = f"{token.text!r}" if token else "the end"
            raise StatementError(f"{self.stmt.keyword}: expected {word} but found {got}; "
                                 f"syntax: {_syntax(self.stmt.keyword)}")

    def string(self, what: str) -> str:
        token = self.next(what)
        if token.token_type.name not in ("STRING", "RAW_STRING", "NATIONAL_STRING"):
            raise StatementError(f"{self.stmt.keyword}: expected {what} as a quoted string, got {token.text!r}")
        return token.text

    def name(self, what: str) -> str:
        token = self.next(what)
        if token.token_type.name in ("STRING", "NUMBER") or not token.text:
            raise StatementError(f"{self.stmt.keyword}: expected {what}, got {token.text!r}")
        return token.text

    def value(self) -> str:
        """An option value: a string, a number, or a bare word (true, iam…)."""
        token = self.next("a value")
        if token.token_type.name in ("L_PAREN", "R_PAREN", "COMMA"):
            raise StatementError(f"{self.stmt.keyword}: expected a value, got {token.text!r}")
        return token.text

    def options(self) -> dict[str, str]:
        """``(NAME value, NAME value, …)``; names upper-cased. Empty when there is none."""
        found: dict[str, str] = {}
        if not self.accept("("):
            return found
        while True:
            key = self.name("an option name").upper()
            found[key] = self.value()
            if self.accept(")"):
                return found
            self.expect(",")

    def done(self) -> None:
        if not self.at_end():
            token = self.peek()
            raise StatementError(f"{self.stmt.keyword}: unexpected {token.text!r}; syntax: {_syntax(self.stmt.keyword)}")


def _syntax(keyword: str) -> str:
    entry = REGISTRY.get(keyword)
    return entry.syntax if entry else keyword
