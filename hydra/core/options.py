"""ATTACH options as a head declares them: ``Option(name, type, secret=False, help=...)``.

The core checks an ATTACH's options against the head's declarations before the head is made (an
unknown option, or a value of the wrong type, is one line naming the accepted ones), keeps secret
options out of the workspace, and builds ATTACH's help from the same declarations. Values reach
the head as the text the user wrote (that is also what the workspace stores and a reopened
workspace gives back); ``Option.parse`` reads one as its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

TRUE = ("1", "true", "yes", "on", "y", "t")
FALSE = ("0", "false", "no", "off", "n", "f")


class OptionError(ValueError):
    """An ATTACH option that is unknown or has a value of the wrong type (one line)."""


@dataclass(frozen=True)
class Option:
    name: str  # upper case, as users write it: ``ATTACH … (NAME value)``
    type: type = str  # str, int or bool
    secret: bool = False  # never stored in the workspace, never shown
    help: str = ""
    choices: tuple[str, ...] = ()  # the accepted values of a str option (compared in lower case)
    minimum: int | None = None  # the least value of an int option (1 for a count of workers)

    def parse(self, text: Any) -> Any:
        """The value as its type; ``OptionError`` (one line) when it is not one."""
        if self.type is bool:
            if isinstance(text, bool):
                return text
            word = str(text).strip().lower()
            if word in TRUE or word in FALSE:
                return word in TRUE
            raise OptionError(f"{self.name} must be true or false, not {text!r}")
        if self.type is int:
            try:
                number = int(str(text).strip())
            except ValueError:
                raise OptionError(f"{self.name} must be a whole number, not {text!r}") from None
            if self.minimum is not None and number < self.minimum:
                raise OptionError(f"{self.name} must be at least {self.minimum}, not {number}")
            return number
        value = str(text)
        if self.choices and value.lower() not in self.choices:
            raise OptionError(f"{self.name} must be {_either(self.choices)}, not {value!r}")
        return value

    def usage(self) -> str:
        """``NAME value`` as the help shows it."""
        if self.type is bool:
            return f"{self.name} true|false"
        if self.type is int:
            return f"{self.name} n"
        if self.choices:
            return f"{self.name} '{'|'.join(self.choices)}'"
        return f"{self.name} '…'"


def check(options: Mapping[str, Any], declared: Iterable[Option], kind: str) -> None:
    """Raise ``OptionError`` (one line naming the accepted options) for an unknown option or a
    value of the wrong type."""
    known = {o.name.upper(): o for o in declared}
    for name, value in options.items():
        option = known.get(name.upper())
        if option is None:
            accepted = ", ".join(sorted(known)) or "none"
            raise OptionError(f"unknown option {name} for a {kind} source; accepted: {accepted}")
        option.parse(value)


def _either(choices: Iterable[str]) -> str:
    items = list(choices)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
