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
from collections import Counter, defaultdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from hydra.heads.base import Column, Element, Head, HeadConnectionError, HeadError, parse_bool

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

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
    tables = ("s3_objects",)
    options_allowed = ("PROFILE", "REGION", "ENDPOINT", "ANONYMOUS")
    path_parts = True

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None):
        super().__init__(name, uri, options)
        self.options = {k.upper(): v for k, v in self.options.items()}
        self.profile = self.options.get("PROFILE") or None
        self.region = self.options.get("REGION") or None
        self.endpoint = self.options.get("ENDPOINT") or None
        self.anonymous = parse_bool(self.options.get("ANONYMOUS"))
        self._session = None
        self._client = None
        self._fs = None
        self._fs_key = None
        self._listing: pa.Table | None = None
        self._listing_used: set[str] = set()
        self._schemas: dict[str, pa.Schema] = {}
        self.bucket = ""
        self.prefix = ""

    # -- life cycle -------------------------------------------------------------------------------

    def open(self) -> None:
        from hydra import aws

        self.bucket, prefix = aws.split_s3_uri(self.uri)
        self.prefix = prefix.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        aws.check_region(self.region, "s3")
        self._session = aws.boto3_session(self.profile, self.region)
        probe = aws.client("s3", region=self.region, endpoint=self.endpoint,
                           session=self._session, anonymous=self.anonymous)
        found = aws.bucket_region(self.bucket, probe, profile=self.profile, region=self.region,
                                  endpoint=self.endpoint)
        if self.region is None or found != self.region:
            self.region = found
            self._session = aws.boto3_session(self.profile, found)
            probe = aws.client("s3", region=found, endpoint=self.endpoint,
                               session=self._session, anonymous=self.anonymous)
        self._client = probe

    def close(self) -> None:
        self._client = None
        self._fs = None
        self._listing = None

    def _require_open(self) -> None:
        if self._client is None:
            self.open()

    def filesystem(self):
        """The pyarrow S3 filesystem (credentials refreshed when boto3 refreshes them)."""
        from hydra import aws

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
        """Every object under the prefix as an Arrow table (paginated ListObjectsV2)."""
        from hydra import aws

        self._require_open()
        try:
            return list_objects_table(self._client, self.bucket, self.prefix)
        except HeadError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise HeadConnectionError(aws.error_line(exc, f"listing s3://{self.bucket}")) from None

    def _take_listing(self, consumer: str) -> pa.Table:
        # enumerate() and head_tables() of one scan share one listing; a second call lists again.
        if self._listing is None or consumer in self._listing_used:
            self._listing = self.list_objects()
            self._listing_used = set()
        self._listing_used.add(consumer)
        return self._listing

    def head_tables(self) -> Mapping[str, Any]:
        return {"s3_objects": self._take_listing("head_tables")}

    # -- catalog ----------------------------------------------------------------------------------

    def enumerate(self) -> Iterator[Element]:
        listing = self._take_listing("enumerate")
        keys = listing.column("key").to_pylist()
        sizes = listing.column("size").to_pylist()
        modified = listing.column("last_modified").to_pylist()
        cut = len(self.prefix)
        planned = plan_elements((k[cut:], s, m) for k, s, m in zip(keys, sizes, modified))
        for plan in planned:
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
            yield Element(parts=(name,), kind=plan["kind"], path=path, row_count=None,
                          size_bytes=plan["size"], modified_at=plan["modified"])

    # -- data -------------------------------------------------------------------------------------
    # An element is read from its ``path`` and ``kind`` alone (a reopened workspace rebuilds
    # elements from the catalog): a file's format comes from its name, and a dataset's parts,
    # format and partitioning from a fresh listing of its folder.

    def _files(self, element: Element) -> tuple[str, bool, list[str], str]:
        """``(format, hive, bucket/key paths, partition base dir)`` of an element."""
        from hydra import aws

        bucket, key = aws.split_s3_uri(element.path or "")
        if element.kind != "dataset":
            found = classify(key)
            if found is None:
                raise HeadError(f"{element.path}: not a CSV, TSV, Parquet or JSON file")
            return found[0], False, [f"{bucket}/{key}"], ""
        from pyarrow import fs as pafs

        root = key if key.endswith("/") or not key else key + "/"
        base = f"{bucket}/{root}".rstrip("/")
        try:
            infos = self.filesystem().get_file_info(
                pafs.FileSelector(base, recursive=True, allow_not_found=True))
        except Exception as exc:  # noqa: BLE001
            raise HeadError(f"{element.path}: {_first_line(exc)}") from None
        cut = len(base) + 1
        found = dataset_members(
            (info.path[cut:], info.size, None) for info in infos if info.type == pafs.FileType.File)
        if found is None:
            raise HeadError(f"{element.path}: no data files found")
        fmt, hive, rels = found
        return fmt, hive, [f"{base}/{rel}" for rel in rels], base

    def _dataset(self, element: Element, files: tuple | None = None):
        import pyarrow.dataset as ds

        fmt, hive, paths, base = files or self._files(element)
        fs = self.filesystem()
        if fmt == "json" and _json_is_array(fs, paths[0]):
            return ds.dataset(_read_json_arrays(fs, paths))
        if any(classify(p)[1] not in (None, "gzip") for p in paths):
            # pyarrow's dataset decompresses only gzip on S3: stream the others (zstd, bz2, lz4)
            return ds.dataset(_decompressed(fs, fmt, paths))
        if fmt == "parquet":
            file_format = ds.ParquetFileFormat()
        elif fmt in ("csv", "tsv"):
            import pyarrow.csv as pcsv

            file_format = ds.CsvFileFormat(
                parse_options=pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ","),
                read_options=pcsv.ReadOptions(block_size=8 << 20),
            )
        else:
            file_format = ds.JsonFileFormat()
        kwargs: dict[str, Any] = {}
        if hive:
            kwargs["partitioning"] = "hive"
            kwargs["partition_base_dir"] = base
        return ds.dataset(paths, filesystem=fs, format=file_format, **kwargs)

    def _arrow_schema(self, element: Element) -> pa.Schema:
        key = element.path or "/".join(element.parts)
        if key not in self._schemas:
            try:
                self._schemas[key] = self._dataset(element).schema
            except HeadError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise HeadError(f"{element.path}: {_first_line(exc)}") from None
        return self._schemas[key]

    def schema(self, element: Element) -> list[Column]:
        schema = self._arrow_schema(element)
        return [Column(name=f.name, type=t, source_type=str(f.type), nullable=f.nullable)
                for f, t in zip(schema, duckdb_types(schema))]

    def split(self, element: Element, parts: int) -> list[list[exp.Expression]] | None:
        """Hive datasets split on their first partition key: ``key IN (…)`` groups of values
        (plus ``key IS NULL`` for the default partition), each read with partition pruning."""
        from urllib.parse import unquote

        import pyarrow as pa
        from sqlglot import exp

        if element.kind != "dataset" or parts < 2:
            return None
        files = self._files(element)
        _fmt, hive, paths, base = files
        if not hive:
            return None
        cut = len(base) + 1
        first = [p[cut:].split("/", 1)[0].split("=", 1) for p in paths]
        key = first[0][0]
        values = sorted({unquote(v) for _k, v in first})
        if len(values) < 2:
            return None
        field = self._dataset(element, files).schema.field(key)
        column = exp.column(key, quoted=True)
        has_null = "__HIVE_DEFAULT_PARTITION__" in values
        values = [v for v in values if v != "__HIVE_DEFAULT_PARTITION__"]
        if pa.types.is_integer(field.type):
            literals = [exp.Literal.number(int(v)) for v in sorted(values, key=int)]
        elif pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            literals = [exp.Literal.string(v) for v in values]
        else:
            return None
        groups = min(parts, len(literals)) or 1
        size = -(-len(literals) // groups)
        ranges = [[exp.In(this=column.copy(), expressions=literals[i:i + size])]
                  for i in range(0, len(literals), size)]
        if has_null:
            ranges.append([exp.Is(this=column.copy(), expression=exp.Null())])
        return ranges

    def can_filter(self, element: Element, predicate: exp.Expression) -> bool:
        try:
            schema = self._arrow_schema(element)
        except HeadError:
            return False
        return to_arrow_expression(predicate, schema) is not None

    def read(self, element: Element, columns: list[str] | None = None,
             predicates: list[exp.Expression] | None = None,
             limit: int | None = None) -> pa.RecordBatchReader:
        import pyarrow as pa

        try:
            dataset = self._dataset(element)
            schema = dataset.schema
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
            for predicate in predicates or []:
                converted = to_arrow_expression(predicate, schema)
                if converted is None:
                    raise HeadError(f"{element.path}: predicate cannot be pushed: {predicate.sql()}")
                expression = converted if expression is None else expression & converted
            scanner = dataset.scanner(columns=projection, filter=expression,
                                      batch_size=65536, use_threads=True)
            schema = scanner.projected_schema
            # to_batches(), not to_reader(): to_reader() keeps the GIL while it waits for S3,
            # which starves an S3 server running in the same process (moto in the tests)
            batches = scanner.to_batches()
        except HeadError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise HeadError(f"{element.path}: {_first_line(exc)}") from None
        return pa.RecordBatchReader.from_batches(schema, _batches(batches, limit, element.path))


# -- listing ----------------------------------------------------------------------------------------


def list_objects_table(s3_client, bucket: str, prefix: str = "") -> pa.Table:
    """All objects under ``prefix`` (see ``hydra.aws.list_objects_table``)."""
    from hydra import aws

    return aws.list_objects_table(s3_client, bucket, prefix)


# -- types and predicates ---------------------------------------------------------------------------


def duckdb_types(schema: pa.Schema) -> list[str]:
    """The DuckDB type names DuckDB gives these Arrow fields (asked of DuckDB itself)."""
    import duckdb

    con = duckdb.connect()
    try:
        empty = schema.empty_table()
        return [str(t) for t in con.from_arrow(empty).types]
    finally:
        con.close()


def _literal(node: exp.Expression, field: pa.Field):
    """The Python value of a literal node compared with ``field``; None when not safe."""
    import pyarrow as pa
    from sqlglot import exp

    t = field.type
    if isinstance(node, exp.Paren):
        return _literal(node.this, field)
    negative = False
    if isinstance(node, exp.Neg):
        negative, node = True, node.this
    if isinstance(node, exp.Boolean):
        return (bool(node.this),) if pa.types.is_boolean(t) and not negative else None
    cast_to = None
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        cast_to = node.to
        node = node.this
    if not isinstance(node, exp.Literal):
        return None
    text = node.this
    if not node.is_string:  # a number
        if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
            return None
        try:
            value: Any = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return None
        return (-value if negative else value,)
    if negative:
        return None
    if pa.types.is_string(t) or pa.types.is_large_string(t) or str(t) == "string_view":
        return (text,) if cast_to is None or cast_to.is_type("varchar", "text") else None
    try:
        if pa.types.is_date32(t) or pa.types.is_date64(t):
            if cast_to is not None and not cast_to.is_type("date"):
                return None
            return (date.fromisoformat(text),)
        if pa.types.is_timestamp(t) and t.tz is None:
            if cast_to is not None and not cast_to.is_type("date", "timestamp", "timestampntz",
                                                           "datetime"):
                return None
            return (pa.scalar(datetime.fromisoformat(text), type=t),)
    except ValueError:
        return None
    return None


def to_arrow_expression(node: exp.Expression, schema: pa.Schema):
    """A ``pyarrow.compute.Expression`` applying the sqlglot predicate exactly, or None."""
    import pyarrow.compute as pc
    from sqlglot import exp

    def field_of(column) -> pa.Field | None:
        if not isinstance(column, exp.Column) or column.table:
            return None
        wanted = column.name
        matches = [f for f in schema if f.name == wanted] or \
            [f for f in schema if f.name.lower() == wanted.lower()]
        return matches[0] if len(matches) == 1 else None

    flips = {exp.GT: exp.LT, exp.LT: exp.GT, exp.GTE: exp.LTE, exp.LTE: exp.GTE,
             exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
    ops = {exp.EQ: "__eq__", exp.NEQ: "__ne__", exp.GT: "__gt__", exp.GTE: "__ge__",
           exp.LT: "__lt__", exp.LTE: "__le__"}

    if isinstance(node, exp.Paren):
        return to_arrow_expression(node.this, schema)
    if isinstance(node, (exp.And, exp.Or)):
        left = to_arrow_expression(node.this, schema)
        right = to_arrow_expression(node.expression, schema)
        if left is None or right is None:
            return None
        return left & right if isinstance(node, exp.And) else left | right
    if type(node) in ops:
        cls = type(node)
        left, right = node.this, node.expression
        if not isinstance(left, exp.Column):
            left, right, cls = right, left, flips[cls]
        field = field_of(left)
        if field is None:
            return None
        value = _literal(right, field)
        if value is None:
            return None
        return getattr(pc.field(field.name), ops[cls])(value[0])
    if isinstance(node, exp.Between):
        field = field_of(node.this)
        if field is None:
            return None
        low, high = _literal(node.args.get("low"), field), _literal(node.args.get("high"), field)
        if low is None or high is None or node.args.get("symmetric"):
            return None
        f = pc.field(field.name)
        return (f >= low[0]) & (f <= high[0])
    if isinstance(node, exp.In):
        field = field_of(node.this)
        if field is None or node.args.get("query") or node.args.get("unnest"):
            return None
        values = [_literal(v, field) for v in node.expressions]
        if not values or any(v is None for v in values):
            return None
        return pc.field(field.name).isin([v[0] for v in values])
    if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
        field = field_of(node.this)
        return None if field is None else pc.field(field.name).is_null()
    if isinstance(node, exp.Not):
        inner = node.this
        if isinstance(inner, exp.Paren):
            inner = inner.this
        if isinstance(inner, exp.Is) and isinstance(inner.expression, exp.Null):
            field = field_of(inner.this)
            return None if field is None else pc.field(field.name).is_valid()
        if isinstance(inner, exp.In):
            positive = to_arrow_expression(inner, schema)
            field = field_of(inner.this)
            if positive is None or field is None:
                return None
            # SQL: NULL NOT IN (…) is NULL (row dropped); Arrow's is_in gives false for nulls
            return ~positive & pc.field(field.name).is_valid()
    return None


# -- helpers ----------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _batches(batches, limit: int | None, path) -> Iterator:
    """The scanner's batches, cut at ``limit`` rows; errors become one-line HeadErrors."""
    left = limit
    try:
        for batch in batches:
            if left is not None:
                if batch.num_rows > left:
                    batch = batch.slice(0, left)
                left -= batch.num_rows
            yield batch
            if left is not None and left <= 0:
                break
    except HeadError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise HeadError(f"{path}: {_first_line(exc)}") from None


def _decompressed(fs, fmt: str, paths: list[str]) -> pa.RecordBatchReader:
    """One reader over compressed CSV/TSV/JSON Lines files, decompressed while streaming."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson

    parse = pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")

    def open_one(path: str, schema=None):
        stream = fs.open_input_stream(path, compression="detect")
        if fmt == "json":
            table = pjson.read_json(stream)
            return table.cast(schema) if schema is not None else table
        convert = pcsv.ConvertOptions(column_types=schema) if schema is not None else None
        return pcsv.open_csv(stream, parse_options=parse, convert_options=convert)

    first = open_one(paths[0])
    schema = first.schema

    def batches():
        yield from (first.to_batches() if isinstance(first, pa.Table) else first)
        for path in paths[1:]:
            more = open_one(path, schema)
            yield from (more.to_batches() if isinstance(more, pa.Table) else more)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _json_is_array(fs, path: str) -> bool:
    """True when a .json file holds one JSON array rather than JSON Lines (first byte '[')."""
    with fs.open_input_stream(path, compression="detect") as stream:
        head = stream.read(4096)
    return head.lstrip().startswith(b"[")


def _read_json_arrays(fs, paths: list[str]) -> pa.Table:
    import json

    import pyarrow as pa

    tables = []
    for path in paths:
        with fs.open_input_stream(path, compression="detect") as stream:
            data = json.loads(stream.read())
        if isinstance(data, dict):
            data = [data]
        tables.append(pa.Table.from_pylist([r if isinstance(r, dict) else {"value": r}
                                            for r in data]))
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]

