"""Which text encoding a file is in, decided from its first bytes.

Order: a byte-order mark decides (UTF-8, UTF-16 LE/BE); then NUL bytes at every other position mean
UTF-16 without a mark; then strict UTF-8; what is not UTF-8 is Windows-1252 when it uses bytes
0x80–0x9F (curly quotes, €, dashes: C1 control characters in Latin-1, never real text) and Latin-1
otherwise (the two agree on every other byte). A UTF-8 file with a few invalid sequences (a line
pasted from an old ERP) stays UTF-8, with Windows-1252 as the fallback for the lines that need it:
the reader counts those lines.

No dependency: for Western legacy exports, the only realistic confusion is UTF-8 vs 1252/Latin-1,
which these byte rules decide exactly. Other code pages (Cyrillic 1251, Shift-JIS…) need an explicit
ENCODING.
"""

from __future__ import annotations

import codecs

BOMS = (  # longest first: UTF-32's marks start with UTF-16's
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")


def detect_encoding(sample: bytes, at_eof: bool) -> tuple[str, int, str | None, str | None]:
    """(encoding, bom length, fallback encoding, note) for a file starting with ``sample``."""
    for mark, name in BOMS:
        if sample.startswith(mark):
            fallback = "cp1252" if name == "utf-8" else None
            return name, len(mark), fallback, f"{name} with a byte-order mark"
    head = sample[:4096]
    if len(head) >= 4:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return "utf-16-le", 0, None, "utf-16-le without a byte-order mark (NUL high bytes)"
        if even > len(head) // 4 and odd == 0:
            return "utf-16-be", 0, None, "utf-16-be without a byte-order mark (NUL high bytes)"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=at_eof)  # not final: the sample may end inside a character
        return "utf-8", 0, "cp1252", None
    except UnicodeDecodeError:
        pass
    good, bad = _utf8_sequences(sample)
    if good > bad:
        return "utf-8", 0, "cp1252", f"utf-8 with {bad} invalid byte sequence(s) in the sample, read as windows-1252"
    high = set(sample) & set(range(0x80, 0xA0))
    if high and not high & CP1252_UNDEFINED:
        return "cp1252", 0, None, "windows-1252 (not utf-8; uses bytes 0x80-0x9F)"
    return "latin-1", 0, None, "latin-1 (not utf-8)"


def _utf8_sequences(data: bytes) -> tuple[int, int]:
    """How many valid multi-byte UTF-8 sequences and how many invalid bytes ``data`` holds."""
    good = bad = 0
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    return good, bad


def decoder_for(encoding: str, fallback: str | None):
    """A function bytes -> (str, used_fallback) for one line."""
    if fallback is None:
        def decode(raw: bytes):
            return raw.decode(encoding, errors="replace"), False
        return decode

    def decode_with_fallback(raw: bytes):
        try:
            return raw.decode(encoding), False
        except UnicodeDecodeError:
            return raw.decode(encoding, errors=_FALLBACK_HANDLER), True
    return decode_with_fallback


def _fallback(err: UnicodeDecodeError):
    """Decode the bytes that are not valid UTF-8 as Windows-1252 (Latin-1 for its 5 holes)."""
    bad = err.object[err.start:err.end]
    return "".join(bytes([b]).decode("latin-1" if b in CP1252_UNDEFINED else "cp1252") for b in bad), err.end


_FALLBACK_HANDLER = "hydra-messycsv-cp1252"
codecs.register_error(_FALLBACK_HANDLER, _fallback)
