"""Where EXTRACT writes: a local folder or an ``s3://bucket/prefix``.

Layout: ``<target>/<source>/<element path>/part-NNNNN.<ext>`` and ``_manifest.json`` in the same
folder, written last; ``<target>/_hydra_runs/<run_id>.json`` per run. Only the manifest makes an
element complete.

* Local folder: parts are written in a folder of their own under ``<target>/.hydra-staging/``
  (one folder per element, named from its path), the manifest beside them once every part is
  closed, and the folder is renamed into place: the rename (same filesystem, atomic) shows the
  parts and their manifest together.
* S3 (through ``pyarrow.fs`` and ``hydra.heads.aws.s3_filesystem``): an object only appears when its
  upload completes, so parts go to their final keys; stale objects of an earlier incomplete
  attempt are deleted first, and the manifest is uploaded last.

Both are a ``Target`` (the protocol below): EXTRACT and RECONCILE speak only that, never a
target's kind or its private parts. A part is named by the task that writes it
(``part-<task>-<n>``, ``hydra.transfer.task``), so a task run twice writes the same names.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Protocol

from hydra.core.errors import HydraError

MANIFEST = "_manifest.json"
RUNS = "_hydra_runs"
STAGING = ".hydra-staging"


class TargetError(HydraError):
    """The target cannot be written (missing bucket, permission, disk full…): one line."""


def error_line(err: BaseException, where: str) -> str:
    if isinstance(err, HydraError):
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        reason = err.strerror
        if getattr(err, "errno", None) == 28:
            reason = "no space left on device (disk full)"
        path = err.filename or where
        return f"cannot write {path}: {reason.lower()}"
    text = " ".join(str(err).split()) or type(err).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    return f"cannot write {where}: {text}"


@dataclass
class ReadBack:
    """An element's files as DuckDB reads them back: local ``paths`` (a local target's own files,
    or copies fetched into ``temp``), or an Arrow ``dataset`` to register (Parquet on S3)."""

    paths: list[str] = field(default_factory=list)
    dataset: object = None
    temp: str | None = None

    def close(self) -> None:
        if self.temp:
            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp = None


class Target(Protocol):
    """Where EXTRACT writes and RECONCILE reads back (``LocalTarget``, ``S3Target``)."""

    uri: str

    def check(self) -> None: ...
    def element_uri(self, rel: str) -> str: ...
    def read_manifest(self, rel: str) -> dict | None: ...
    def staging(self, rel: str) -> str:
        """A fresh place for the element's parts (what an earlier attempt left is removed)."""
    def open_part(self, staging: str, name: str) -> HashingWriter: ...
    def clear_parts(self, staging: str, stem: str) -> None:
        """Remove the parts whose name starts with ``stem`` (a task run again rewrites its own)."""
    def commit(self, rel: str, staging: str, manifest: dict) -> None: ...
    def abort(self, rel: str, staging: str | None) -> None: ...
    def write_run_manifest(self, run_id: str, manifest: dict) -> None: ...
    def data_files(self, rel: str) -> list[str]: ...
    def read_back(self, rel: str, files: list[str], fmt: str) -> ReadBack: ...
    def sha256(self, rel: str, name: str) -> str: ...
    def size(self, rel: str, name: str) -> int: ...


def manifest_text(manifest: dict) -> str:
    """A manifest as strict JSON. JSON has no NaN or infinity, and ``json.dump`` would write them
    bare (``NaN``), which jq, JavaScript and other strict parsers refuse: a source's figures can
    hold them (the sum of a float column holding NaN), so they are spelled as strings, which
    RECONCILE reads back as the same numbers."""
    return json.dumps(_finite(manifest), indent=2, default=str, allow_nan=False)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf", "-inf": as the target's figures and RECONCILE print them
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class HashingWriter:
    """A writable file-like object that counts bytes and computes SHA-256 as data passes.
    ``done(ok)`` runs once it is closed (``ok``) or discarded: a local part is renamed into
    place, or removed."""

    def __init__(self, raw, done=None):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0
        self.closed = False
        self._done = done

    def write(self, data) -> int:
        view = memoryview(data)
        self.sha.update(view)
        self.size += view.nbytes
        self.raw.write(view)
        return view.nbytes

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.raw.flush()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.raw.close()
            if self._done is not None:
                self._done(True)

    def discard(self) -> None:
        """Close after a failure: the part is not kept (a local one is removed)."""
        if not self.closed:
            self.closed = True
            try:
                self.raw.close()
            finally:
                if self._done is not None:
                    self._done(False)

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False


def open_target(uri: str):
    if uri.lower().startswith("s3://"):
        return S3Target(uri)
    if "://" in uri and not uri.lower().startswith("file://"):
        raise HydraError(f"EXTRACT: unsupported target {uri!r}; use a folder or s3://bucket/prefix")
    return LocalTarget(uri.removeprefix("file://"))


class LocalTarget:
    kind = "local"

    def __init__(self, root: str):
        self.root = os.path.abspath(os.path.expanduser(root))
        self.uri = self.root

    def check(self) -> None:
        """Fail early, with one line, when the target folder cannot be created."""
        try:
            os.makedirs(self.root, exist_ok=True)
        except OSError as err:
            raise TargetError(error_line(err, self.root)) from None
        if not os.access(self.root, os.W_OK):
            raise TargetError(f"cannot write {self.root}: permission denied")

    def element_uri(self, rel: str) -> str:
        return os.path.join(self.root, rel)

    def is_complete(self, rel: str) -> bool:
        return os.path.isfile(os.path.join(self.root, rel, MANIFEST))

    def read_manifest(self, rel: str) -> dict | None:
        path = os.path.join(self.root, rel, MANIFEST)
        try:
            with open(path, encoding="utf-8") as fh:
                return json.load(fh)
        except FileNotFoundError:
            return None

    def staging(self, rel: str) -> str:
        """A fresh staging folder for the element's parts; returns it. One flat folder per
        element (not its path's folders under the staging folder): with many small elements,
        the folders made and pruned for each were most of the cost of committing it."""
        staging = os.path.join(self.root, STAGING, hashlib.sha256(rel.encode()).hexdigest()[:32])
        shutil.rmtree(staging, ignore_errors=True)
        for attempt in range(3):
            try:
                os.makedirs(staging)
                return staging
            except FileNotFoundError:  # a parallel commit removed the empty staging folder as it
                if attempt == 2:       # was made: make it again
                    raise
        return staging

    def open_part(self, staging: str, name: str) -> HashingWriter:
        """A part written under a temporary name and renamed to ``name`` once complete, so a
        part under its own name is always whole."""
        path = os.path.join(staging, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")

        def done(ok: bool) -> None:
            if ok:
                os.replace(temp, path)
            else:
                try:
                    os.remove(temp)
                except OSError:
                    pass

        return HashingWriter(open(temp, "wb"), done)

    def clear_parts(self, staging: str, stem: str) -> None:
        for folder, _, files in os.walk(staging):
            for name in files:
                if name.startswith(stem) or name.startswith("." + stem):
                    os.remove(os.path.join(folder, name))

    def commit(self, rel: str, staging: str, manifest: dict) -> None:
        """Write the manifest beside the staged parts, then move the folder into place: one
        rename shows the parts and their manifest together (a process killed at any point
        leaves no folder in place without its manifest)."""
        final = os.path.join(self.root, rel)
        if os.path.exists(os.path.join(final, MANIFEST)):
            os.remove(os.path.join(final, MANIFEST))  # OVERWRITE: incomplete from here on
        if os.path.isdir(final):
            shutil.rmtree(final)
        elif os.path.lexists(final):
            raise TargetError(f"cannot write {final}: a file is in the way")
        with open(os.path.join(staging, MANIFEST), "w", encoding="utf-8") as fh:
            fh.write(manifest_text(manifest))
            fh.flush()
            os.fsync(fh.fileno())
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.rename(staging, final)
        self._tidy()

    def abort(self, rel: str, staging: str | None) -> None:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
            self._tidy()

    def _tidy(self) -> None:
        """Remove the staging folder once nothing is staged in it."""
        try:
            os.rmdir(os.path.join(self.root, STAGING))
        except OSError:  # not empty: other elements are being written
            pass

    def write_run_manifest(self, run_id: str, manifest: dict) -> None:
        folder = os.path.join(self.root, RUNS)
        os.makedirs(folder, exist_ok=True)
        self._write_json(os.path.join(folder, f"{run_id}.json"), manifest)

    @staticmethod
    def _write_json(path: str, data: dict) -> None:
        temp = path + ".tmp"
        with open(temp, "w", encoding="utf-8") as fh:
            fh.write(manifest_text(data))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)

    def data_files(self, rel: str) -> list[str]:
        """Relative paths of the element's data files as they stand now."""
        base = os.path.join(self.root, rel)
        found = []
        for folder, dirs, files in os.walk(base):
            dirs.sort()
            for name in sorted(files):
                if name == MANIFEST or name.startswith(".") or name.endswith(".tmp"):
                    continue
                found.append(os.path.relpath(os.path.join(folder, name), base).replace(os.sep, "/"))
        return found

    def read_back(self, rel: str, files: list[str], fmt: str) -> ReadBack:
        return ReadBack(paths=[os.path.join(self.root, rel, f) for f in files])

    def sha256(self, rel: str, name: str) -> str:
        sha = hashlib.sha256()
        with open(os.path.join(self.root, rel, name), "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                sha.update(block)
        return sha.hexdigest()

    def size(self, rel: str, name: str) -> int:
        return os.path.getsize(os.path.join(self.root, rel, name))


class S3Target:
    kind = "s3"

    def __init__(self, uri: str):
        from hydra.heads.aws import split_s3_uri

        self.bucket, prefix = split_s3_uri(uri)
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self._fs = None
        self._region = None

    @property
    def fs(self):
        if self._fs is None:
            from hydra.heads.aws import s3_filesystem

            # the bucket's own region (one HeadBucket), so that pyarrow is not redirected
            self._fs = s3_filesystem(region=self.region())
        return self._fs

    def region(self) -> str:
        if self._region is None:
            from hydra.heads.aws import bucket_region

            try:
                self._region = bucket_region(self.bucket)
            except HydraError as err:
                raise TargetError(str(err)) from None
        return self._region

    def _path(self, rel: str, name: str = "") -> str:
        parts = [self.bucket] + [p for p in (self.prefix, rel, name) if p]
        return "/".join(parts)

    def check(self) -> None:
        self.region()

    def element_uri(self, rel: str) -> str:
        return "s3://" + self._path(rel)

    def _exists(self, path: str) -> bool:
        from pyarrow import fs as pafs

        return self.fs.get_file_info(path).type == pafs.FileType.File

    def is_complete(self, rel: str) -> bool:
        return self._exists(self._path(rel, MANIFEST))

    def read_manifest(self, rel: str) -> dict | None:
        path = self._path(rel, MANIFEST)
        if not self._exists(path):
            return None
        with self.fs.open_input_stream(path) as fh:
            return json.loads(fh.read().decode("utf-8"))

    def staging(self, rel: str) -> str:
        """Remove what an earlier incomplete attempt left (or the old element, for OVERWRITE)."""
        manifest = self._path(rel, MANIFEST)
        if self._exists(manifest):
            self.fs.delete_file(manifest)
        self._delete_prefix(rel)
        return self._path(rel)

    def _delete_prefix(self, rel: str) -> None:
        from pyarrow import fs as pafs

        base = self._path(rel)
        if self.fs.get_file_info(base).type == pafs.FileType.Directory:
            self.fs.delete_dir_contents(base, missing_dir_ok=True)

    def open_part(self, staging: str, name: str) -> HashingWriter:
        # an object appears only when its upload completes: the part's own name from the start
        return HashingWriter(self.fs.open_output_stream(f"{staging}/{name}"))

    def clear_parts(self, staging: str, stem: str) -> None:
        from pyarrow import fs as pafs

        selector = pafs.FileSelector(staging, recursive=True, allow_not_found=True)
        for info in self.fs.get_file_info(selector):
            if info.type == pafs.FileType.File and info.base_name.startswith(stem):
                self.fs.delete_file(info.path)

    def commit(self, rel: str, staging: str, manifest: dict) -> None:
        with self.fs.open_output_stream(self._path(rel, MANIFEST)) as out:
            out.write(manifest_text(manifest).encode("utf-8"))

    def abort(self, rel: str, staging: str | None) -> None:
        try:
            self._delete_prefix(rel)
        except Exception:  # noqa: BLE001 - best effort; the missing manifest already says incomplete
            pass

    def write_run_manifest(self, run_id: str, manifest: dict) -> None:
        with self.fs.open_output_stream(self._path(RUNS, f"{run_id}.json")) as out:
            out.write(manifest_text(manifest).encode("utf-8"))

    def data_files(self, rel: str) -> list[str]:
        from pyarrow import fs as pafs

        base = self._path(rel)
        selector = pafs.FileSelector(base, recursive=True, allow_not_found=True)
        found = []
        for info in self.fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            name = info.path[len(base) + 1:]
            if name == MANIFEST or name.rsplit("/", 1)[-1].startswith("."):
                continue
            found.append(name)
        return sorted(found)

    def read_back(self, rel: str, files: list[str], fmt: str) -> ReadBack:
        """Parquet is read in place (an Arrow dataset on the bucket); other formats are fetched
        into a temporary folder first (DuckDB's text readers need a local file)."""
        if fmt == "parquet":
            import pyarrow.dataset as ds

            return ReadBack(dataset=ds.dataset([self._path(rel, f) for f in files], filesystem=self.fs,
                                               format="parquet"))
        back = ReadBack(temp=tempfile.mkdtemp(prefix="hydra-reconcile-"))
        try:
            for name in files:
                path = os.path.join(back.temp, name.replace("/", "__"))
                with self.fs.open_input_stream(self._path(rel, name)) as src, open(path, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                back.paths.append(path)
        except BaseException:
            back.close()
            raise
        return back

    def sha256(self, rel: str, name: str) -> str:
        sha = hashlib.sha256()
        with self.fs.open_input_stream(self._path(rel, name)) as fh:
            while True:
                block = fh.read(1 << 20)
                if not block:
                    break
                sha.update(block)
        return sha.hexdigest()

    def size(self, rel: str, name: str) -> int:
        return self.fs.get_file_info(self._path(rel, name)).size
