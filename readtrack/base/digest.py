"""Digests that tell one version of some bytes from another, for the caches `readtrack list` reads on every
start: SipHash-1-3, 64 bits, what Python itself uses to tell a changed source file from its cached bytecode
(`importlib.util.source_hash`, keyed by the interpreter's version). It is built into the interpreter: hashlib
would load OpenSSL first, 3 ms of a 120 ms start. A digest here detects changes; it guards nothing (a
file's integrity is SHA-256's business: `readtrack.catalog.pdfcache`)."""

from __future__ import annotations

from importlib.util import source_hash


def digest(data: bytes | str) -> str:
    """16 hex digits that change when ``data`` does (a string is digested as its UTF-8 bytes)."""
    return source_hash(data.encode() if isinstance(data, str) else data).hex()
