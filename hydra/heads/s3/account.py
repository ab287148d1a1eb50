"""The whole S3 account as one source: ``ATTACH 's3://' AS aws [(PROFILE …, MAX_OBJECTS n)]``.

Every bucket the credentials can see (``ListBuckets``) is one row of ``s3_buckets``, and an S3
head of its own inside this one (a ``CompositeHead``): its elements are ``aws.<bucket>."<key>"``
and its objects are rows of ``s3_objects``. Buckets are listed ``BUCKET_THREADS`` at a time, each
with its own client in its own region, each up to ``MAX_OBJECTS`` objects (default
``ACCOUNT_MAX_OBJECTS``); a bucket that cannot be listed (access denied, gone since ListBuckets)
is listed in ``s3_buckets`` with the reason and the others go on.

A reopened workspace does not list anything: an element is read by the head of the bucket in its
``path``, opened (one ``HeadBucket``) the first time one of its elements is read.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from hydra.core.model import Element
from hydra.heads.base import HeadConnectionError, HeadError
from hydra.heads.composite import CompositeHead
from hydra.heads.s3.common import ACCOUNT_MAX_OBJECTS, ATTACH_OPTIONS, SAMPLE_THREADS, TABLES, buckets_table

if TYPE_CHECKING:
    import pyarrow as pa

    from hydra.heads.s3.head import S3Head

# Buckets listed and sampled at once. Each samples its elements SAMPLE_THREADS (16) at a time, so
# at most 64 requests are in flight; a bucket's listing is sequential (one page after another).
BUCKET_THREADS = 4


class S3AccountHead(CompositeHead):
    """``s3://`` with no bucket; made by ``S3Head`` (the registered ``s3`` kind) for such URIs,
    which hands over its own class for the bucket heads (``bucket_head``)."""

    kind = "s3"
    schemes = ()  # S3Head claims s3:// and hands a URI with no bucket over to this class
    tables = TABLES
    attach_options = ATTACH_OPTIONS
    path_parts = True
    small_reads = SAMPLE_THREADS

    def __init__(self, name: str, uri: str, options: Mapping[str, str] | None = None, *,
                 bucket_head: type[S3Head]):
        super().__init__(name, uri, options)
        self._bucket_head_class = bucket_head
        self.profile = self.option("PROFILE") or None
        self.region = self.option("REGION") or None
        self.endpoint = self.option("ENDPOINT") or None
        self.max_objects = self.option("MAX_OBJECTS", ACCOUNT_MAX_OBJECTS)
        if self.max_objects < 0:
            raise HeadError(f"MAX_OBJECTS must be 0 (no cap) or more, not {self.max_objects}")
        if self.option("ANONYMOUS", False):
            raise HeadError("ANONYMOUS needs a bucket (s3://bucket): an anonymous caller cannot list buckets")
        self.attach_note: str | None = None
        self._buckets: dict[str, dict[str, Any]] = {}  # bucket -> its s3_buckets row
        self._heads: dict[str, S3Head] = {}  # bucket -> its open head
        self._opening: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._listings: dict[str, pa.Table] | None = None  # of the last enumerate, for head_tables

    # -- life cycle -------------------------------------------------------------------------------

    def open(self) -> None:
        """One ``ListBuckets``; nothing is listed inside the buckets until ``enumerate``."""
        from hydra.heads import aws

        self.close()  # REFRESH opens the same head again
        aws.check_region(self.region, "s3")
        session = aws.boto3_session(self.profile, self.region)
        s3 = aws.client("s3", region=self.region, endpoint=self.endpoint, session=session)
        self._buckets = {
            b["name"]: {"bucket": b["name"], "prefix": "", "region": b["region"], "created": b["created"],
                        "listable": None, "error": None, "objects_listed": None, "truncated": None,
                        "cut_after": None}
            for b in sorted(aws.list_buckets(s3), key=lambda b: b["name"])}

    def close(self) -> None:
        super().close()
        with self._lock:
            self._heads.clear()
            self._opening.clear()
        self._listings = None

    def bucket_head(self, bucket: str) -> S3Head:
        """The open head of one bucket (opened once, whichever thread asks first)."""
        with self._lock:
            head = self._heads.get(bucket)
            if head is not None:
                return head
            opening = self._opening.setdefault(bucket, threading.Lock())
        with opening:
            with self._lock:
                head = self._heads.get(bucket)
            if head is None:
                head = self._bucket_head_class(self.name, f"s3://{bucket}", self._bucket_options(bucket))
                head.open()
                with self._lock:
                    self._heads[bucket] = head
                    self.inner.append(head)
        return head

    def _bucket_options(self, bucket: str) -> dict[str, str]:
        options = {k: v for k, v in self.options.items() if k not in ("REGION", "MAX_OBJECTS")}
        region = (self._buckets.get(bucket) or {}).get("region")
        if region:  # ListBuckets said where it is: its HeadBucket goes straight there
            options["REGION"] = region
        options["MAX_OBJECTS"] = str(self.max_objects)
        return options

    # -- catalog ----------------------------------------------------------------------------------

    def enumerate(self) -> Iterator[Element]:
        """Each bucket's elements, ``(bucket, key)``, bucket after bucket in name order (listed
        BUCKET_THREADS at a time)."""
        listings: dict[str, pa.Table] = {}
        with ThreadPoolExecutor(BUCKET_THREADS, thread_name_prefix="hydra-s3-bucket") as pool:
            for bucket, listing, elements in pool.map(self._scan_bucket, list(self._buckets)):
                if listing is not None:
                    listings[bucket] = listing
                yield from elements
        self._listings = listings
        self._note()

    def _scan_bucket(self, bucket: str) -> tuple[str, pa.Table | None, list[Element]]:
        listing = self._list_bucket(bucket)
        if listing is None:
            return bucket, None, []
        try:
            elements = list(self.bucket_head(bucket).enumerate())
        except Exception as exc:  # noqa: BLE001 - one bucket's failure is its row's error; the rest go on
            self._failed(bucket, exc)
            return bucket, None, []
        for element in elements:
            element.parts = (bucket, *element.parts)
        return bucket, listing, elements

    def _list_bucket(self, bucket: str) -> pa.Table | None:
        """The bucket's listing (its s3_buckets row filled in), or None when it could not be listed."""
        row = self._buckets[bucket]
        try:
            head = self.bucket_head(bucket)
            listing = head.take_listing("head_tables")
        except Exception as exc:  # noqa: BLE001 - one bucket's failure is its row's error; the rest go on
            self._failed(bucket, exc)
            return None
        row.update(head.bucket_row(listing, row["created"]))
        return listing

    def _failed(self, bucket: str, exc: BaseException) -> None:
        from hydra.heads import aws

        text = str(exc) if isinstance(exc, HeadError) else aws.error_line(exc, f"s3://{bucket}")
        self._buckets[bucket].update(listable=False, error=text, objects_listed=None, truncated=None,
                                     cut_after=None)

    def head_tables(self) -> Mapping[str, Any]:
        """``s3_buckets`` (every bucket) and ``s3_objects`` (the objects of every listed bucket),
        from the listings of the last ``enumerate`` (listed again when there was none)."""
        import pyarrow as pa

        listings, self._listings = self._listings, None
        if listings is None:
            with ThreadPoolExecutor(BUCKET_THREADS, thread_name_prefix="hydra-s3-bucket") as pool:
                found = dict(zip(self._buckets, pool.map(self._list_bucket, list(self._buckets))))
            listings = {b: t for b, t in found.items() if t is not None}
            self._note()
        tables: dict[str, Any] = {"s3_buckets": buckets_table(list(self._buckets.values()))}
        if listings:
            tables["s3_objects"] = pa.concat_tables(listings.values())
        return tables

    def _note(self) -> None:
        rows = self._buckets.values()
        failed = [r["bucket"] for r in rows if r["listable"] is False]
        cut = [r["bucket"] for r in rows if r["truncated"]]
        notes = [f"{len(self._buckets)} bucket{'s' if len(self._buckets) != 1 else ''}"]
        if failed:
            notes.append(f"{len(failed)} could not be listed ({_some(failed)}; s3_buckets.error says why)")
        if cut:
            notes.append(f"{len(cut)} listed only up to MAX_OBJECTS {self.max_objects:,} "
                         f"({_some(cut)}; s3_buckets.cut_after says where)")
        self.attach_note = "; ".join(notes)

    # -- reads: the head of the element's bucket --------------------------------------------------

    def owner(self, element: Element) -> S3Head:
        from hydra.heads import aws

        if element.path:
            bucket = aws.split_s3_uri(element.path)[0]
        elif element.parts:
            bucket = element.parts[0]
        else:
            raise HeadConnectionError(f"{self.name}: an element with no bucket")
        return self.bucket_head(bucket)


def _some(names: list[str], shown: int = 3) -> str:
    """A few names, and how many more."""
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
