"""``readtrack plot`` takes the ids ``compare`` takes, a bare one first (issue 84, item 6), and every file
asked for is written: ``plot -o a.png -o b.svg`` and ``run --plot a.png --plot b.svg`` (each format by its
suffix; the last alone was kept before). A real sweep of a fake plugin with knobs, the CLI in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_cli
from fake_plugins import KNOBBY_CONFIG, KNOBBY_EXPERIMENT, write_plugin

PNG = b"\x89PNG\r\n\x1a\n"


def _is_svg(path: Path) -> bool:
    return path.is_file() and b"<svg" in path.read_bytes()[:2000]


def _is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG


def test_plot_takes_compares_ids_and_writes_every_file(user_dir: Path, tmp_path: Path) -> None:
    folder = write_plugin(user_dir, "knobby", KNOBBY_EXPERIMENT)
    (folder / "config.py").write_text(KNOBBY_CONFIG)
    a, b = tmp_path / "a.png", tmp_path / "b.svg"
    sweep = ["run", "knobby", "--quick", "--only", "train", "--set", "decay=0.5,0.9", "--seeds", "0-0"]
    ran = run_cli(*sweep, "--jobs", "1", "--plot", str(a), "--plot", str(b))
    assert ran.returncode == 1, ran.stdout + ran.stderr  # the defaults miss their target
    assert _is_png(a) and _is_svg(b), ran.stderr  # both files, each in its own format
    assert f"saved {a}" in ran.stderr and f"saved {b}" in ran.stderr

    (entry,) = json.loads(run_cli("history", "knobby", "--json").stdout)
    sweep_id, group = entry["sweep_id"], entry["groups"][1]
    run_id = group["runs"][0]["info"]["run_id"]
    for ident in (sweep_id[:8], group["group_id"][:8], run_id[:8], run_id):  # what compare takes, bare
        out = tmp_path / f"{ident}.svg"
        drawn = run_cli("plot", ident, "-o", str(out))
        assert drawn.returncode == 0, f"{ident}: {drawn.stdout}{drawn.stderr}"
        assert _is_svg(out) and drawn.stdout.strip() == f"saved {out}"
    assert "3 settings" in (tmp_path / f"{sweep_id[:8]}.svg").read_text()  # the sweep's, every setting

    two = run_cli("plot", "knobby", "-o", str(tmp_path / "c.png"), "-o", str(tmp_path / "d.svg"))
    assert two.returncode == 0, two.stdout + two.stderr
    assert _is_png(tmp_path / "c.png") and _is_svg(tmp_path / "d.svg")
    assert two.stdout.splitlines() == [f"saved {tmp_path / 'c.png'}", f"saved {tmp_path / 'd.svg'}"]

    bad = run_cli("plot", "knobby", "-o", str(tmp_path / "e.svg"), "-o", str(tmp_path / "f.pdf"))
    assert bad.returncode == 2 and not (tmp_path / "e.svg").exists()  # checked before anything is drawn
    assert bad.stderr.strip().splitlines() == [f"readtrack: {tmp_path / 'f.pdf'}: a plot is saved as .svg or "
                                               ".png, not .pdf"]  # fmt: skip

    for unknown in ("3f40ec78", "knobby 3f40ec78"):  # plot refuses as compare does, in the same one line
        refused = run_cli("plot", *unknown.split(), "-o", str(tmp_path / "g.svg"))
        compared = run_cli("compare", *unknown.split())
        assert refused.returncode == compared.returncode == 2, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and refused.stderr == compared.stderr
        assert not (tmp_path / "g.svg").exists()
