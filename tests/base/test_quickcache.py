"""The start-up caches (`readtrack.base.quickcache`): what they give back, and a damaged one read as none."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from readtrack.base import quickcache
from tests.cli_runner import run_cli


def test_a_cache_reads_back_what_was_written(tmp_path: Path) -> None:
    value = {"key": "abc", "rows": [["a", None, 3, 1.5, True, ["x"]]], "pairs": (["p"], "arxiv id")}
    quickcache.write(tmp_path / "c.marshal", value)
    assert quickcache.read(tmp_path / "c.marshal") == value


@pytest.mark.parametrize(
    "damage",
    [
        lambda good: good[: len(good) // 2],  # cut short: a crash while another process wrote it by hand
        lambda good: b"\xff" * 40,  # not marshal at all
        lambda good: b"",
        lambda good: marshal.dumps({"key": "abc"}),  # marshal, without the mark and digest of the bytes
        lambda good: good[:-1] + bytes([good[-1] ^ 1]),  # one bit of the value flipped
        lambda good: b"(\xff\xff\xff\x7f",  # "a tuple of 2**31 items": marshal would ask for 16 GB
        lambda good: good[:12] + b"(\xff\xff\xff\x7f",  # the same behind a mark and a stale digest
    ],
    ids=["cut", "garbage", "empty", "bare-marshal", "bit-flip", "huge-tuple", "huge-tuple-marked"],
)
def test_a_damaged_cache_reads_as_none(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "c.marshal"
    quickcache.write(path, {"key": "abc", "rows": list(range(100))})
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert quickcache.read(path) is None
    assert quickcache.read(tmp_path / "absent.marshal") is None


def test_a_value_marshal_cannot_write_is_a_loud_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        quickcache.write(tmp_path / "c.marshal", {"a set of objects": object()})
    assert not (tmp_path / "c.marshal").exists()


def test_list_over_damaged_caches_lists_the_same_and_mends_them(
    catalog_file: Path, readtrack_home: Path
) -> None:
    first = run_cli("list")
    assert first.returncode == 0, first.stderr
    caches = sorted((readtrack_home / "cache").glob("*.marshal"))
    assert {p.name.split("-")[0] for p in caches} >= {"catalog", "links", "plugin"}
    for damage in (lambda data: data[:50], lambda data: b"(\xff\xff\xff\x7f"):  # issue 94: 16 GB asked for
        for cache in caches:
            cache.write_bytes(damage(cache.read_bytes()))
        again = run_cli("list")
        assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
        assert all(quickcache.read(cache) is not None for cache in caches)  # written whole again


def test_a_whole_file_of_another_shape_reads_as_none(tmp_path: Path) -> None:
    from importlib.util import source_hash

    body = marshal.dumps(["a list", "not a dict"])
    path = tmp_path / "c.marshal"
    path.write_bytes(b"rtq1" + source_hash(body) + body)
    assert quickcache.read(path) is None
    path.write_bytes(b"rtq1" + source_hash(b"[\x05") + b"[\x05")  # a digest that fits, marshal cut short
    assert quickcache.read(path) is None
