"""A built wheel installs readtrack with its built-in plugins as `readtrack_plugins`, and nothing called
`plugins` lands in site-packages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BUILTIN = sorted(
    p.name.replace("_", "-")  # a paper id's hyphens are underscores in its package's folder name
    for p in (REPO / "plugins").iterdir()
    if (p / "__init__.py").is_file() and not p.name.startswith("_")
)


def setuptools_major() -> int:
    try:
        return int(metadata.version("setuptools").split(".")[0])
    except (metadata.PackageNotFoundError, ValueError):
        return 0


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600
    )
    assert result.returncode == 0, f"{args}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.slow
def test_wheel_installs_the_builtin_plugins_as_readtrack_plugins(tmp_path: Path) -> None:
    if len(BUILTIN) < 5:
        pytest.skip(
            f"only {len(BUILTIN)} built-in plugins exist yet ({', '.join(BUILTIN)}); the check wants 5"
        )
    # Build from a copy of the sources so the build leaves nothing in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("readtrack", "plugins"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "README.md", "MANIFEST.in", "papers.yaml"):
        shutil.copy(REPO / name, source / name)
    wheels = tmp_path / "wheels"
    # Offline with the setuptools at hand when it understands `license = "MIT"` (PEP 639, setuptools 77);
    # otherwise pip fetches a current one into an isolated build environment.
    isolation = ["--no-build-isolation"] if setuptools_major() >= 77 else []
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", wheels, source)
    (wheel,) = wheels.glob("readtrack-*.whl")

    # A fresh venv; torch and the other dependencies come from the running environment through a .pth
    # line (this venv was itself made from a base interpreter without them), so nothing is downloaded.
    # pip too: the wheel is installed into the venv by this environment's pip, found through that line
    # (ensurepip's copy of pip into every new venv took 4 s of CPU).
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site / "outer-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel)

    assert (site / "readtrack_plugins" / "__init__.py").is_file()
    # the seed list: the repository's top-level papers.yaml, copied in at build time (setup.py)
    assert (site / "readtrack" / "data" / "papers.yaml").read_bytes() == (REPO / "papers.yaml").read_bytes()
    assert not (site / "plugins").exists(), "a top-level `plugins` package was installed"
    home = tmp_path / "home"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("READTRACK_")},
        "READTRACK_HOME": str(home),
        "READTRACK_CATALOG": str(home / "papers.yaml"),
    }
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    where = run(
        python, "-c", "import readtrack, readtrack_plugins; print(readtrack.__file__)", cwd=cwd, env=env
    )
    assert where.startswith(str(site)), "readtrack was not imported from the wheel"
    rows = json.loads(run(venv / "bin" / "readtrack", "plugins", "--json", cwd=cwd, env=env))
    builtin = {row["name"]: row for row in rows if row["source"] == "built-in"}
    assert sorted(builtin) == BUILTIN
    assert all(row["status"] == "ok" for row in builtin.values()), builtin
    assert all(row["origin"].startswith("readtrack_plugins.") for row in builtin.values())
