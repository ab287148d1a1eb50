"""A source as plain data: what a task carries to open the source wherever it runs.

A ``SourceSpec`` is the ``sources`` row of an attached source — its kind, its URI with ``${ENV}``
placeholders as written (a literal password is stored masked, never in clear), and its declared
options as stored (secret options are never stored). It holds no secret, so it can be pickled
into a task and sent to a thread, a process or another machine; ``open()`` builds the head there,
expanding the placeholders from *that* process's environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from hydra.core import secrets
from hydra.core.errors import HydraError, missing_driver, one_line
from hydra.heads.base import Head, HeadError


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: str
    uri: str  # as stored: ${ENV} placeholders unexpanded, a literal password masked
    options: tuple[tuple[str, str], ...] = ()  # as stored (no secret option is ever stored)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SourceSpec:
        """The spec of a ``sources`` row (``Workspace.source_row``)."""
        options = dict(row.get("options") or {})
        options.pop("TYPE", None)
        return cls(row["name"], row["kind"], row["uri"], tuple(sorted((str(k), str(v)) for k, v in options.items())))

    def build(self, work_folder: str | None = None) -> Head:
        """The head, not yet opened (no I/O); secrets expanded from this process's environment."""
        from hydra.heads.registry import head_class

        if secrets.MASK in self.uri:
            raise HydraError(
                f"source {self.name} was attached with a literal password, which is not stored; "
                f"DETACH {self.name} and ATTACH it again with the password as ${{ENV_VAR}}")
        head = head_class(self.kind)(self.name, secrets.expand(self.uri),
                                     {k: secrets.expand(v) for k, v in self.options})
        if work_folder is not None:
            head.work_folder = work_folder
        return head

    def open(self, work_folder: str | None = None) -> Head:
        """The head, opened in this process; a driver's error is one line without a secret."""
        head = self.build(work_folder)
        try:
            head.open()
        except HydraError:
            raise
        except ModuleNotFoundError as err:
            raise missing_driver(self.name, err) from err
        except Exception as err:  # noqa: BLE001 - a driver's error becomes one clear line, without secrets
            raise HeadError(f"{self.name}: {masked(one_line(err), head)}") from err
        return head


def masked(message: str, head: Head) -> str:
    """A driver's message without the head's secrets (its URL's password, in every form)."""
    options = type(head).secret_values(head.options)
    return secrets.mask_secrets(message, secrets.uri_secrets(head.uri) + options + [head.uri])
