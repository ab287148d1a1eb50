"""S3 head: a bucket (or a prefix of one) as a source of files and datasets.

``ATTACH 's3://bucket[/prefix]' AS lake [(PROFILE 'p', REGION 'r', ENDPOINT 'url', ANONYMOUS true)]``

* ``s3_objects`` lists every object under the prefix (one ``ListObjectsV2`` call per 1,000 keys, no
  per-object requests).
* Elements: each readable file (CSV, TSV, Parquet, JSON, JSON Lines; ``.gz``/``.zst``/``.bz2``
  compressed CSV/JSON) is one element whose ref is ``lake."dir/file.csv"`` (key relative to the
  prefix). A folder holding a partitioned dataset — hive-style ``key=value/`` sub-folders, or many
  parts of one format and one naming pattern (``part-00000.parquet``, ``part-00001.parquet`` …) —
  is ONE element of kind ``dataset`` whose ref is ``lake."folder/path"``; reads see all its parts
  (listed afresh at read time) and its partition columns. Other objects are listed, not elements.
* Reads go through ``pyarrow.dataset`` on ``pyarrow.fs.S3FileSystem`` (no DuckDB httpfs), with
  projection and filter pushdown: simple comparisons, AND/OR, IN, IS [NOT] NULL and BETWEEN are
  turned into Arrow expressions (partition pruning for hive datasets, row-group statistics for
  Parquet) and applied exactly.
"""

from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from hydra.core.model import Column, Element
from hydra.core.quals import to_arrow, to_sql
from hydra.heads.base import Head, HeadConnectionError, HeadError, Qual
from hydra.heads.s3 import formats
from hydra.heads.s3.common import ATTACH_OPTIONS, SAMPLE_THREADS, TABLES, buckets_table, is_account_uri

if TYPE_CHECKING:
    import pyarrow as pa

# extension -> format family
FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".parquet": "parquet", ".parq": "parquet", ".pq": "parquet",
    ".json": "json", ".jsonl": "json", ".ndjson": "json",
}
# compression extensions pyarrow detects from the file name (CSV and JSON only)
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2", ".lz4": "lz4"}
_HIVE_SEGMENT = re.compile(r"^[^=/]+=[^/]*$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DIGITS = re.compile(r"\d+")
_HEAD_TABLE_COLUMNS = ("bucket", "key", "size", "etag", "last_modified", "storage_class")
# A file up to this size is read with one GET of the whole object, parsed in memory: on S3 a
# request costs 20-50 ms of latency, as much as a few MiB of transfer, and a read through
# pyarrow's S3 filesystem would add a HEAD request (and a footer read for Parquet) to each.
SMALL_OBJECT_BYTES = 4 << 20
# a dataset of small parts is fetched and scanned in chunks of at most this many parts and bytes
PARTS_CHUNK = 256
PARTS_CHUNK_BYTES = 32 << 20


def classify(key: str) -> tuple[str, str | None] | None:
    """``(format, compression)`` of a readable object key, or None (not a data file)."""
    name = key.rsplit("/", 1)[-1].lower()
    if not name or name.startswith((".", "_")):
        return None
    compression = None
    for ext, codec in COMPRESSIONS.items():
        if name.endswith(ext):
            compression, name = codec, name[: -len(ext)]
            break
    dot = name.rfind(".")
    if dot <= 0:
        return None
    fmt = FORMATS.get(name[dot:])
    if fmt is None or (fmt == "parquet" and compression):
        return None
    return fmt, compression


def _pattern(name: str) -> str:
    """The naming pattern of a part file: ``part-00001-<uuid>.parquet`` -> ``part-#-#.parquet``
    (compression suffixes dropped: ``part-1.csv`` and ``part-2.csv.gz`` are one pattern)."""
    name = name.lower()
    for ext in COMPRESSIONS:
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return _DIGITS.sub("#", _UUID.sub("#", name))


def _hive_root(dirs: list[str]) -> int | None:
    """Index of the first ``key=value`` folder when every folder from there on is one."""
    for i, segment in enumerate(dirs):
        if _HIVE_SEGMENT.match(segment):
            return i if all(_HIVE_SEGMENT.match(s) for s in dirs[i:]) else None
    return None


def plan_elements(objects: Iterable[tuple[str, int, datetime | None]]) -> list[dict[str, Any]]:
    """Group relative keys into elements (pure function; unit-tested without S3).

    ``objects``: ``(relative key, size, last_modified)``. Returns dicts with ``name`` (the ref's
    part), ``kind``, ``format``, ``files`` (relative keys), ``hive``, ``size``, ``modified``.
    """
    hive: dict[str, list] = defaultdict(list)
    flat: dict[str, list] = defaultdict(list)
    for rel, size, modified in objects:
        if rel.endswith("/"):
            continue
        found = classify(rel)
        if found is None:
            continue
        segments = rel.split("/")
        dirs = segments[:-1]
        if any(s.startswith((".", "_")) for s in dirs):  # _temporary/, .spark-staging/, …
            continue
        item = (rel, found[0], size, modified)
        root = _hive_root(dirs)
        if root is not None:
            hive["/".join(dirs[:root])].append(item)
        else:
            flat["/".join(dirs)].append(item)

    planned: list[dict[str, Any]] = []

    def dataset(name: str, items: list, is_hive: bool) -> None:
        family = Counter(i[1] for i in items).most_common(1)[0][0]
        members = [i for i in items if i[1] == family]
        for i in items:
            if i[1] != family:
                single(i)
        planned.append({
            "name": name, "kind": "dataset", "format": family, "hive": is_hive,
            "files": [i[0] for i in members], "size": sum(i[2] or 0 for i in members),
            "modified": max((i[3] for i in members if i[3] is not None), default=None),
        })

    def single(item) -> None:
        rel, fmt, size, modified = item
        planned.append({"name": rel, "kind": "json" if fmt == "json" else fmt, "format": fmt,
                        "hive": False, "files": [rel], "size": size, "modified": modified})

    for root, items in hive.items():
        dataset(root, items, True)
    for folder, items in flat.items():
        patterns = {(i[1], _pattern(i[0].rsplit("/", 1)[-1])) for i in items}
        if folder and folder not in hive and len(items) >= 2 and len(patterns) == 1:
            dataset(folder, items, False)
        else:
            for item in items:
                single(item)
    planned.sort(key=lambda p: p["name"])
    return planned


def dataset_members(objects: Iterable[tuple[str, int, Any]]) -> tuple[str, bool, list[str]] | None:
    """The data files of a dataset folder, from keys relative to it: ``(format, hive, files)``.

    Hive-style ``key=value/`` parts win; otherwise the files directly in the folder. The most
    common format is kept (others are separate elements). None when there are no data files.
    """
    hive, flat = [], []
    for rel, _size, _modified in objects:
        found = classify(rel)
        if found is None:
            continue
        dirs = rel.split("/")[:-1]
        if not dirs:
            flat.append((rel, found[0]))
        elif _hive_root(dirs) == 0:
            hive.append((rel, found[0]))
    items = hive or flat
    if not items:
        return None
    family = Counter(fmt for _, fmt in items).most_common(1)[0][0]
    return family, bool(hive), sorted(rel for rel, fmt in items if fmt == family)


class S3Head(Head):
    kind = "s3"
    schemes = ("s3",)
    tables = TABLES
    attach_options = ATTACH_OPTIONS
    path_parts = True
    small_reads = SAMPLE_THREADS

    def __new__(cls, name: str, uri: str, options: Mapping[str, str] | None = None):
        """``s3://`` with no bucket is the whole account: an ``S3AccountHead``, one S3 head per
        bucket inside (one registered kind, ``s3``, for both shapes, as ``pathlib.Path`` gives a
        ``PosixPath``)."""
        if cls is S3Head and is_account_uri(uri):
            from hydra.heads.s3.account import S3AccountHead

            return S3AccountHead(name, uri, options, bucket_head=S3Head)
        return super().__new__(cls)

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        self.profile = self.option("PROFILE") or None
        self.region = self.option("REGION") or None
        self.endpoint = self.option("ENDPOINT") or None
        self.anonymous = self.option("ANONYMOUS", False)
        self.max_objects = self.option("MAX_OBJECTS", 0)
        if self.max_objects < 0:
            raise HeadError(f"MAX_OBJECTS must be 0 (no cap) or more, not {self.max_objects}")
        self.truncated = False  # the last listing stopped at MAX_OBJECTS with objects left
        self.attach_note: str | None = None  # one line the workspace shows after ATTACH
        self._session = None
        self._client = None
        self._fs = None
        self._fs_key = None
        self._listing: pa.Table | None = None
        self._listing_used: set[str] = set()
        self._schemas: dict[str, tuple[pa.Schema, set[str]]] = {}
        self._layouts: dict[tuple[str, str, str], formats.Layout] = {}
        self._sniffer = formats.CsvSniffer()
        self.bucket = ""
        self.prefix = ""

    @classmethod
    def holds(cls, uri: str, target: str) -> bool:
        """A target in the attached bucket, under the attached prefix. Not for the whole account
        (``s3://``): the buckets it lists depend on its credentials, which EXTRACT's target may
        not share."""
        if is_account_uri(uri) or not target.lower().startswith("s3://"):
            return False
        from hydra.heads.aws import split_s3_uri

        (bucket, prefix), (target_bucket, key) = split_s3_uri(uri), split_s3_uri(target)
        prefix = prefix.strip("/")
        return target_bucket == bucket and (not prefix or f"{key.strip('/')}/".startswith(f"{prefix}/"))

    # -- life cycle -------------------------------------------------------------------------------

    def open(self) -> None:
        from hydra.heads import aws

        self.bucket, prefix = aws.split_s3_uri(self.uri)
        self.prefix = prefix.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        aws.check_region(self.region, "s3")
        self._session = aws.boto3_session(self.profile, self.region)
        probe = aws.client("s3", region=self.region, endpoint=self.endpoint, session=self._session,
                           anonymous=self.anonymous, max_pool_connections=SAMPLE_THREADS)
        found = aws.bucket_region(self.bucket, probe, profile=self.profile, region=self.region,
                                  endpoint=self.endpoint)
        if self.region is None or found != self.region:
            self.region = found
            self._session = aws.boto3_session(self.profile, found)
            probe = aws.client("s3", region=found, endpoint=self.endpoint, session=self._session,
                               anonymous=self.anonymous, max_pool_connections=SAMPLE_THREADS)
        self._client = probe

    def close(self) -> None:
        self._client = None
        self._fs = None
        self._listing = None
        self._layouts.clear()
        self._sniffer.close()

    def _require_open(self) -> None:
        if self._client is None:
            self.open()

    def filesystem(self):
        """The pyarrow S3 filesystem (credentials refreshed when boto3 refreshes them)."""
        from hydra.heads import aws

        self._require_open()
        key = None
        if not self.anonymous:
            creds = self._session.get_credentials()
            if creds is not None:
                frozen = creds.get_frozen_credentials()
                key = (frozen.access_key, frozen.secret_key, frozen.token)
        if self._fs is None or key != self._fs_key:
            self._fs = aws.s3_filesystem(region=self.region, endpoint=self.endpoint,
                                         session=self._session, anonymous=self.anonymous)
            self._fs_key = key
        return self._fs

    # -- listing ----------------------------------------------------------------------------------

    def list_objects(self) -> pa.Table:
        """Every object under the prefix, up to MAX_OBJECTS, as an Arrow table (paginated
        ListObjectsV2); ``truncated`` says whether the cap cut it."""
        from hydra.heads import aws

        self._require_open()
        try:
            listing = aws.list_objects(self._client, self.bucket, self.prefix, limit=self.max_objects or None)
        except HeadError:
            raise
        except Exception as exc:  # noqa: BLE001 - boto3's error becomes one clear line
            raise HeadConnectionError(aws.error_line(exc, f"listing s3://{self.bucket}")) from None
        self.truncated = listing.truncated
        self.attach_note = (f"the listing of s3://{self.bucket}/{self.prefix} stopped at MAX_OBJECTS "
                            f"{self.max_objects:,}, after {listing.last_key!r} (s3_buckets.cut_after)"
                            if listing.truncated else None)
        return listing.table

    def take_listing(self, consumer: str) -> pa.Table:
        """The listing ``consumer`` ('enumerate', 'head_tables') works from: enumerate() and
        head_tables() of one scan share one listing; a consumer asking twice lists again."""
        if self._listing is None or consumer in self._listing_used:
            self._listing = self.list_objects()
            self._listing_used = set()
        self._listing_used.add(consumer)
        return self._listing

    def head_tables(self) -> Mapping[str, Any]:
        listing = self.take_listing("head_tables")
        return {"s3_objects": listing, "s3_buckets": buckets_table([self.bucket_row(listing)])}

    def bucket_row(self, listing: pa.Table, created: datetime | None = None) -> dict[str, Any]:
        """The ``s3_buckets`` row of the attached bucket, from its last listing."""
        keys = listing.column("key")
        return {"bucket": self.bucket, "prefix": self.prefix, "region": self.region, "created": created,
                "listable": True, "error": None, "objects_listed": len(keys), "truncated": self.truncated,
                "cut_after": keys[len(keys) - 1].as_py() if self.truncated and len(keys) else None}

    # -- catalog ----------------------------------------------------------------------------------

    def enumerate(self) -> Iterator[Element]:
        """Elements from the listing, each with its columns from one sample of its first object
        (``s3_formats``; a ranged GET or two per element, ``SAMPLE_THREADS`` at a time)."""
        from concurrent.futures import ThreadPoolExecutor

        listing = self.take_listing("enumerate")
        keys = listing.column("key").to_pylist()
        sizes = listing.column("size").to_pylist()
        modified = listing.column("last_modified").to_pylist()
        etags = listing.column("etag").to_pylist()
        cut = len(self.prefix)
        objects = {k[cut:]: (s, e) for k, s, e in zip(keys, sizes, etags)}
        planned = plan_elements((k[cut:], s, m) for k, s, m in zip(keys, sizes, modified))
        if self.truncated and keys:  # keys come in order: only the element holding the last
            last = keys[-1][cut:]     # one listed may have more parts past the cut
            for plan in planned:
                if plan["kind"] == "dataset" and last in plan["files"]:
                    plan["note"] = (f"the listing stopped at MAX_OBJECTS {self.max_objects:,} inside this "
                                    "dataset: its size counts the parts listed (reads list it afresh)")
        with ThreadPoolExecutor(SAMPLE_THREADS, thread_name_prefix="hydra-s3-sample") as pool:
            yield from pool.map(lambda plan: self._describe(plan, objects), planned)

    def _describe(self, plan: dict[str, Any], objects: Mapping[str, tuple[int, str]]) -> Element:
        """One planned element with its columns (a failure to sample it is its ``error``)."""
        name = plan["name"]
        if plan["kind"] == "dataset":
            if not name:  # the attach prefix itself is the dataset
                name = self.prefix.rstrip("/").rsplit("/", 1)[-1] or self.bucket
                root = self.prefix
            else:
                root = self.prefix + name + "/"
            path = f"s3://{self.bucket}/{root}"
        else:
            path = f"s3://{self.bucket}/{self.prefix}{name}"
        element = Element(parts=(name,), kind=plan["kind"], path=path, row_count=None,
                          size_bytes=plan["size"], modified_at=plan["modified"], note=plan.get("note"))
        try:
            first = min(plan["files"])
            size, etag = objects[first]
            found = self._layout(self.bucket, self.prefix + first, size, etag)
            schema = _converted(found.schema, found.casts)
            if plan["kind"] == "dataset":
                if plan["hive"]:
                    base = f"{self.bucket}/{root}".rstrip("/")
                    members = [(f"{self.bucket}/{self.prefix}{rel}", objects[rel][0]) for rel in plan["files"]]
                    schema = _with_partitions(schema, self.filesystem(), base, members)
            else:
                element.row_count, element.row_count_exact = found.row_count, found.row_count_exact
            element.columns = columns_of(schema)
            element.error = found.warning
        except Exception as exc:  # noqa: BLE001 - an unreadable object is listed with its error
            element.error = _first_line(exc)
        return element

    # -- data -------------------------------------------------------------------------------------
    # An element is read from its ``path`` and ``kind`` alone (a reopened workspace rebuilds
    # elements from the catalog): a file's format comes from its name, and a dataset's parts,
    # format and partitioning from a fresh listing of its folder. Requests are what a read of
    # many small objects costs, so: a small file is one GET of the whole object; a dataset's parts
    # are opened with the sizes of that listing (no HEAD request per part); a CSV or JSON element
    # costs one ranged GET more, for the sample its layout comes from.

    def _get(self, bucket: str, key: str, byte_range: str | None = None) -> tuple[bytes, str | None, int]:
        """An object's bytes (or a range of them), its ETag and its whole size: one GET."""
        from hydra.heads import aws

        self._require_open()
        kwargs = {"Bucket": bucket, "Key": key}
        if byte_range:
            kwargs["Range"] = byte_range
        try:
            response = self._client.get_object(**kwargs)
            body = response["Body"].read()
        except Exception as exc:  # noqa: BLE001 - boto3's error becomes one clear line
            raise HeadError(aws.error_line(exc, f"s3://{bucket}/{key}")) from None
        etag = (response.get("ETag") or "").strip('"') or None
        whole = (response.get("ContentRange") or "").rpartition("/")[2]  # 'bytes 0-99/1234'
        return body, etag, int(whole) if whole.isdigit() else len(body)

    def _layout(self, bucket: str, key: str, size: int | None, etag: str | None = None,
                body: bytes | None = None) -> formats.Layout:
        """The layout of the objects of an element whose first object is ``key``: from a sample of
        it, or from ``body`` (the whole object, already fetched). Kept per ETag: an unchanged
        object is not sampled twice in a process."""
        fmt, compression = classify(key) or (None, None)
        if fmt is None:
            raise HeadError(f"s3://{bucket}/{key}: not a CSV, TSV, Parquet or JSON file")
        cached = self._layouts.get((bucket, key, etag)) if etag else None
        if cached is not None:
            return cached
        if body is not None:
            raw = body
        elif size == 0:
            raw = b""
        else:
            raw, etag, size = self._get(bucket, key, formats.sample_range(fmt))
            if fmt == "parquet":
                need = formats.footer_length(raw)
                if need > len(raw) and len(raw) < size:
                    raw, etag, size = self._get(bucket, key, f"bytes=-{need}")
        found = formats.layout(fmt, compression, raw, size, self._sniffer, whole=body is not None)
        if etag:
            self._layouts[(bucket, key, etag)] = found
        return found

    def _files(self, element: Element) -> tuple[str, bool, list, str]:
        """``(format, hive, pyarrow FileInfos, partition base dir)`` of a dataset, from a fresh
        listing of its folder."""
        from pyarrow import fs as pafs

        from hydra.heads import aws

        bucket, key = aws.split_s3_uri(element.path or "")
        root = key if key.endswith("/") or not key else key + "/"
        base = f"{bucket}/{root}".rstrip("/")
        try:
            infos = self.filesystem().get_file_info(
                pafs.FileSelector(base, recursive=True, allow_not_found=True))
        except Exception as exc:  # noqa: BLE001 - pyarrow's error becomes one clear line
            raise HeadError(f"{element.path}: {_first_line(exc)}") from None
        cut = len(base) + 1
        by_rel = {info.path[cut:]: info for info in infos if info.type == pafs.FileType.File}
        found = dataset_members((rel, info.size, None) for rel, info in by_rel.items())
        if found is None:
            raise HeadError(f"{element.path}: no data files found")
        fmt, hive, rels = found
        return fmt, hive, [by_rel[rel] for rel in rels], base

    def _source(self, element: Element) -> _Source:
        """The pyarrow dataset an element is read from, and the conversions to apply to it."""
        try:
            return self._open_source(element)
        except Exception as exc:  # noqa: BLE001 - one line that names the element
            text = _first_line(exc)
            raise HeadError(text if (element.path or "") in text else f"{element.path}: {text}") from None

    def _open_source(self, element: Element) -> _Source:
        import pyarrow as pa
        import pyarrow.dataset as ds

        from hydra.heads import aws

        bucket, key = aws.split_s3_uri(element.path or "")
        if element.kind != "dataset":
            if classify(key) is None:
                raise HeadError(f"{element.path}: not a CSV, TSV, Parquet or JSON file")
            if element.size_bytes is not None and element.size_bytes <= SMALL_OBJECT_BYTES:
                source = self._small_source(bucket, key, element.size_bytes)
                if source is not None:
                    return source
            fmt, hive, files, base = classify(key)[0], False, [f"{bucket}/{key}"], ""
            first, first_size = key, None
        else:
            fmt, hive, files, base = self._files(element)
            first, first_size = files[0].path.split("/", 1)[1], files[0].size
        found = self._layout(bucket, first, first_size)
        fs = self.filesystem()
        paths = [f if isinstance(f, str) else f.path for f in files]
        if found.json_array:
            tables = [formats.read_json_array(formats.decompress(self._get(*p.split("/", 1))[0],
                                                                 classify(p)[1]), found.schema)
                      for p in paths]
            return _Source(table=_concat(tables))
        # a dataset of small parts is read one GET per part (see _whole_parts)
        whole_parts = {f.path: f.size for f in files} if element.kind == "dataset" and all(
            f.size <= SMALL_OBJECT_BYTES for f in files) else None
        if not whole_parts and any(classify(p)[1] not in (None, "gzip") for p in paths):
            # pyarrow's dataset decompresses only gzip on S3: stream the others (zstd, bz2, lz4)
            return _Source(ds.dataset(_decompressed(fs, found.file_format, paths)), casts=found.casts)
        kwargs: dict[str, Any] = {}
        partitions = None
        if hive:
            partitions = _partition_schema(fs, base, [(f.path, f.size) for f in files])
            kwargs["partitioning"] = ds.partitioning(partitions, flavor="hive")
            kwargs["partition_base_dir"] = base
        if found.fmt != "json":  # the layout is the schema: no read to infer one (JSON: pyarrow
            # infers from the first part's first block, fields the sample did not show included)
            kwargs["schema"] = found.schema if partitions is None else pa.unify_schemas([found.schema, partitions])
        dataset = ds.dataset(files, filesystem=fs, format=found.file_format, **kwargs)
        return _Source(dataset, casts=found.casts, whole_parts=whole_parts)

    def _whole_parts(self, source: _Source, projection: list[str] | None, expression) -> Iterator:
        """The batches of a dataset of small parts, each part fetched whole in one GET (pyarrow's
        S3 reads take two for a Parquet part, its footer then its columns), SAMPLE_THREADS at a
        time and a chunk ahead, then scanned in memory by pyarrow with the dataset's schema,
        partitions and filter. The filter prunes partitions before anything is fetched."""
        from concurrent.futures import ThreadPoolExecutor

        import pyarrow as pa
        import pyarrow.dataset as ds

        dataset = source.dataset
        file_format = dataset.format
        fragments = list(dataset.get_fragments(filter=expression) if expression is not None
                         else dataset.get_fragments())

        def fetch(fragment):
            bucket, key = fragment.path.split("/", 1)
            data = formats.decompress(self._get(bucket, key)[0], classify(key)[1])
            return file_format.make_fragment(pa.py_buffer(data), partition_expression=fragment.partition_expression)

        chunks, chunk, held = [], [], 0  # at most PARTS_CHUNK parts and PARTS_CHUNK_BYTES each
        for fragment in fragments:
            size = source.whole_parts[fragment.path]
            if chunk and (len(chunk) >= PARTS_CHUNK or held + size > PARTS_CHUNK_BYTES):
                chunks.append(chunk)
                chunk, held = [], 0
            chunk.append(fragment)
            held += size
        if chunk:
            chunks.append(chunk)
        if not chunks:
            return
        pool = ThreadPoolExecutor(SAMPLE_THREADS, thread_name_prefix="hydra-s3-parts")
        try:
            pending = pool.map(fetch, chunks[0])
            for following in [*chunks[1:], None]:
                fetched = list(pending)
                pending = pool.map(fetch, following) if following else None
                scanner = ds.FileSystemDataset(fetched, dataset.schema, file_format).scanner(
                    columns=projection, filter=expression, batch_size=65536, use_threads=True)
                yield from scanner.to_batches()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def _small_source(self, bucket: str, key: str, size: int) -> _Source | None:
        """A small object read whole in one GET and parsed in memory; None when it has grown
        past SMALL_OBJECT_BYTES since it was listed (the GET asks for no more than that)."""
        body, etag, whole = self._get(bucket, key, f"bytes=0-{SMALL_OBJECT_BYTES - 1}" if size else None)
        if whole > len(body):
            return None
        found = self._layout(bucket, key, len(body), etag, body=body)
        data = formats.decompress(body, classify(key)[1])
        if found.json_array:
            table = formats.read_json_array(data, found.schema)
        else:
            table = formats.read_buffer(found.file_format, data, found.casts)
        return _Source(table=table)

    def _arrow_schema(self, element: Element) -> tuple[pa.Schema, set[str]]:
        """The schema reads return, and the columns converted after reading (no pushdown)."""
        key = element.path or "/".join(element.parts)
        if key not in self._schemas:
            source = self._source(element)
            self._schemas[key] = (_converted(source.schema, source.casts), set(source.casts))
        return self._schemas[key]

    def schema(self, element: Element) -> list[Column]:
        return columns_of(self._arrow_schema(element)[0])

    def split(self, element: Element, parts: int) -> list[list[Qual]] | None:
        """Hive datasets split on their first partition key: ``key IN (…)`` groups of values
        (plus ``key IS NULL`` for the default partition), each read with partition pruning."""
        from urllib.parse import unquote

        import pyarrow as pa

        if element.kind != "dataset" or parts < 2:
            return None
        _fmt, hive, files, base = self._files(element)
        if not hive:
            return None
        cut = len(base) + 1
        first = [f.path[cut:].split("/", 1)[0].split("=", 1) for f in files]
        key = first[0][0]
        values = sorted({unquote(v) for _k, v in first})
        if len(values) < 2:
            return None
        field = self._arrow_schema(element)[0].field(key)
        has_null = "__HIVE_DEFAULT_PARTITION__" in values
        values = [v for v in values if v != "__HIVE_DEFAULT_PARTITION__"]
        if pa.types.is_integer(field.type):
            literals = sorted(int(v) for v in values)
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            literals = values
        else:
            return None
        groups = min(parts, len(literals)) or 1
        size = -(-len(literals) // groups)
        ranges = [[Qual(key, "in", tuple(literals[i:i + size]))] for i in range(0, len(literals), size)]
        if has_null:
            ranges.append([Qual(key, "is null")])
        return ranges

    def can_filter(self, element: Element, qual: Qual) -> bool:
        try:
            schema, converted = self._arrow_schema(element)
        except HeadError:
            return False
        return to_arrow([qual], _without(schema, converted)) is not None

    def read(self, element: Element, columns: list[str] | None = None,
             quals: list[Qual] | None = None,
             limit: int | None = None) -> pa.RecordBatchReader:
        import pyarrow as pa

        try:
            source = self._source(element)
            dataset = source.dataset
            schema = source.schema
            names = {f.name.lower(): f.name for f in schema}
            projection = None
            if columns is not None:
                projection = [names[c.lower()] for c in columns if c.lower() in names]
                if not projection and len(schema):  # count(*): one column, a partition
                    # key when there is one (its values come from the paths, not the files)
                    partitioning = getattr(dataset, "partitioning", None)
                    keys = [f.name for f in partitioning.schema] if partitioning is not None else []
                    projection = [keys[0] if keys else schema[0].name]
            expression = None
            if quals:
                expression = to_arrow(quals, _without(schema, set(source.casts)))
                if expression is None:
                    raise HeadError(f"{element.path}: a filter cannot be pushed: {to_sql(quals, 'duckdb')}")
            if source.table is not None:  # a small object: no scanner (~3 ms each) and no
                # Python in the reader DuckDB pulls from (it would take the GIL for every batch)
                table = source.table.filter(expression) if expression is not None else source.table
                table = table.select(projection) if projection is not None else table
                return (table.slice(0, limit) if limit is not None else table).to_reader()
            scanner = dataset.scanner(columns=projection, filter=expression,
                                      batch_size=65536, use_threads=True)
            schema = _converted(scanner.projected_schema, source.casts)
            # to_batches(), not to_reader(): to_reader() keeps the GIL while it waits for S3,
            # which starves an S3 server running in the same process (moto in the tests)
            batches = self._whole_parts(source, projection, expression) if source.whole_parts \
                else scanner.to_batches()
            if source.casts:
                batches = (formats.convert(batch, source.casts) for batch in batches)
        except HeadError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyarrow's error becomes one clear line
            raise HeadError(f"{element.path}: {_first_line(exc)}") from None
        return pa.RecordBatchReader.from_batches(schema, _batches(batches, limit, element.path))


# -- listing ----------------------------------------------------------------------------------------


def list_objects_table(s3_client, bucket: str, prefix: str = "") -> pa.Table:
    """All objects under ``prefix`` (see ``hydra.heads.aws.list_objects_table``)."""
    from hydra.heads import aws

    return aws.list_objects_table(s3_client, bucket, prefix)


# -- types and predicates ---------------------------------------------------------------------------


_DUCKDB_TYPES: dict[Any, str] = {}
_DUCKDB_TYPES_LOCK = threading.Lock()


def duckdb_types(schema: pa.Schema) -> list[str]:
    """The DuckDB type names DuckDB gives these Arrow fields (asked of DuckDB itself, once per
    Arrow type: a DuckDB connection costs ~20 ms, too much to pay per element)."""
    with _DUCKDB_TYPES_LOCK:
        missing = list(dict.fromkeys(f.type for f in schema if f.type not in _DUCKDB_TYPES))
        if missing:
            import duckdb
            import pyarrow as pa

            con = duckdb.connect()
            try:
                empty = pa.schema([pa.field(f"c{i}", t) for i, t in enumerate(missing)]).empty_table()
                for arrow_type, found in zip(missing, con.from_arrow(empty).types):
                    _DUCKDB_TYPES[arrow_type] = str(found)
            finally:
                con.close()
        return [_DUCKDB_TYPES[f.type] for f in schema]


def columns_of(schema: pa.Schema) -> list[Column]:
    """The catalog's columns for the Arrow schema a read returns."""
    return [Column(name=f.name, type=t, source_type=str(f.type), nullable=f.nullable)
            for f, t in zip(schema, duckdb_types(schema))]


# -- helpers ----------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _batches(batches, limit: int | None, path) -> Iterator:
    """The scanner's batches, cut at ``limit`` rows, small ones joined (see ``_joined``); errors
    become one-line HeadErrors."""
    left = limit
    try:
        for batch in _joined(batches):
            if left is not None:
                if batch.num_rows > left:
                    batch = batch.slice(0, left)
                left -= batch.num_rows
            yield batch
            if left is not None and left <= 0:
                break
    except HeadError:
        raise
    except Exception as exc:  # noqa: BLE001 - boto3's error becomes one clear line
        raise HeadError(f"{path}: {_first_line(exc)}") from None


def _joined(batches, rows: int = 65536, size: int = 8 << 20) -> Iterator:
    """Batches joined up to ``rows`` rows or ``size`` bytes: a dataset of many small parts gives
    a batch per part, and each batch DuckDB pulls from this Python iterator costs it the GIL."""
    import pyarrow as pa

    pending, count, held = [], 0, 0
    for batch in batches:
        if pending and (count + batch.num_rows > rows or held + batch.nbytes > size):
            yield pending[0] if len(pending) == 1 else pa.Table.from_batches(pending).combine_chunks().to_batches()[0]
            pending, count, held = [], 0, 0
        pending.append(batch)
        count += batch.num_rows
        held += batch.nbytes
    if pending:
        yield pending[0] if len(pending) == 1 else pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


def _decompressed(fs, file_format, paths: list[str]) -> pa.RecordBatchReader:
    """One reader over compressed CSV/TSV/JSON Lines files, decompressed while streaming, parsed
    with the element's layout (``file_format``)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.dataset as ds
    import pyarrow.json as pjson

    options = file_format.default_fragment_scan_options

    def open_one(path: str):
        stream = fs.open_input_stream(path, compression="detect")
        if isinstance(file_format, ds.JsonFileFormat):
            return pjson.read_json(stream, read_options=options.read_options,
                                   parse_options=options.parse_options)
        return pcsv.open_csv(stream, read_options=options.read_options,
                             parse_options=file_format.parse_options,
                             convert_options=options.convert_options)

    first = open_one(paths[0])
    schema = first.schema

    def batches():
        for i, path in enumerate(paths):
            found = first if i == 0 else open_one(path)
            if isinstance(found, pa.Table):
                found = found.cast(schema)
            yield from (found.to_batches() if isinstance(found, pa.Table) else found)

    return pa.RecordBatchReader.from_batches(schema, batches())


@dataclass
class _Source:
    """What an element is read from: a pyarrow dataset (with columns to convert after reading;
    read through pyarrow's S3 filesystem, or part by part with ``S3Head._whole_parts``), or a
    table in memory (a small object, fetched and parsed whole)."""

    dataset: Any = None
    table: Any = None
    casts: dict[str, Any] = field(default_factory=dict)
    whole_parts: dict[str, int] | None = None  # a dataset of small parts: their sizes (path: bytes)

    @property
    def schema(self) -> pa.Schema:
        return self.table.schema if self.table is not None else self.dataset.schema


def _converted(schema: pa.Schema, casts: Mapping[str, Any]) -> pa.Schema:
    """A schema with a layout's conversions applied."""
    import pyarrow as pa

    if not casts:
        return schema
    return pa.schema([pa.field(f.name, casts.get(f.name, f.type), f.nullable) for f in schema])


def _without(schema: pa.Schema, names: set[str]) -> pa.Schema:
    """A schema without some columns (those predicates may not be pushed on)."""
    import pyarrow as pa

    return pa.schema([f for f in schema if f.name not in names]) if names else schema


def _partition_schema(fs, base: str, members: list[tuple[str, int]]) -> pa.Schema:
    """The hive partition columns pyarrow discovers from a dataset's part paths (``(path,
    size)``), typed as a read infers them; no request is made."""
    import pyarrow.dataset as ds
    from pyarrow import fs as pafs

    infos = [pafs.FileInfo(path, type=pafs.FileType.File, size=size) for path, size in members]
    factory = ds.FileSystemDatasetFactory(
        fs, infos, ds.ParquetFileFormat(),
        ds.FileSystemFactoryOptions(partitioning=ds.HivePartitioning.discover(), partition_base_dir=base))
    return factory.inspect(fragments=0)


def _with_partitions(schema: pa.Schema, fs, base: str, members: list[tuple[str, int]]) -> pa.Schema:
    """A dataset's schema: its first part's columns, then its hive partition columns."""
    import pyarrow as pa

    return pa.unify_schemas([schema, _partition_schema(fs, base, members)])


def _concat(tables: list) -> pa.Table:
    import pyarrow as pa

    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
