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
        lambda good: marshal.dumps(["a list", "not a dict"]),
    ],
    ids=["cut", "garbage", "empty", "a-list"],
)
def test_a_damaged_cache_reads_as_none(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "c.marshal"
    good = marshal.dumps({"key": "abc", "rows": list(range(100))})
    path.write_bytes(damage(good))  # type: ignore[operator]
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
    for cache in caches:
        cache.write_bytes(cache.read_bytes()[:50])
    again = run_cli("list")
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
    assert all(quickcache.read(cache) is not None for cache in caches)  # written whole again
