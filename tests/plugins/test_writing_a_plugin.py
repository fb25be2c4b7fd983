"""docs/writing-a-plugin.md, run: the guide's files written and its commands run, in order, in an empty folder
with a fresh data folder, as a reader would (issue 72). The whole author journey happens outside the
repository through the CLI: a folder plugin from `new-plugin`, knobs, practice, its tests, check-plugin,
calibrate, then the same plugin as a pip package installed with pip, found by its entry point.

The guide is the script: a ```` ```python title="PATH" ```` or ```` ```toml title="PATH" ```` block is
written to PATH, each line of a ```` ```sh ```` block is a command, meant to exit 0 unless it says
``# exits N``. Only a block titled "... needs the network ..." is not run (it installs a second torch).

pip installs into a virtual environment of the test's own that sees this one's packages (a ``.pth`` file
adding its site-packages), so that ``pip install -e`` works offline and leaves this environment alone: the
package's build backend, setuptools, comes from here (``PIP_NO_BUILD_ISOLATION``), nothing from an index.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "writing-a-plugin.md"
FENCE = re.compile(r'^```(\w+)(?: title="([^"]*)")?\n(.*?)^```$', re.MULTILINE | re.DOTALL)


@dataclass
class Step:
    command: str | None  # a shell command, or None for a file
    path: str | None = None
    text: str = ""
    exits: int = 0


#: Commands run with fewer seeds than the guide's, where their number is not what the test proves: the
#: guide's ``calibrate --seeds 0-19`` is the rule's 20 seeds for a reader; here 5 go through the same
#: command, record and verdicts (20 seeds were 39 s of this test's 62, issue 91).
FEWER_SEEDS = {
    "readtrack calibrate swish --seeds 0-19 --write": "readtrack calibrate swish --seeds 0-4 --write"
}


def guide_steps() -> tuple[list[Step], list[str]]:
    """The guide's steps in order, and the sh blocks it leaves out (those needing the network)."""
    steps, skipped = [], []
    for lang, title, body in FENCE.findall(GUIDE.read_text(encoding="utf-8")):
        if title and lang in ("python", "toml"):
            steps.append(Step(None, title, body))
        elif lang == "sh" and "needs the network" in (title or ""):
            skipped.append(body)
        elif lang == "sh":
            for line in body.splitlines():
                command, _, comment = line.partition("  #")
                if command.strip():
                    exits = re.match(r"\s*exits (\d+)", comment)
                    steps.append(Step(command.strip(), exits=int(exits[1]) if exits else 0))
    return steps, skipped


def overlay_venv(root: Path) -> Path:
    """A virtual environment whose Python also sees this one's site-packages (readtrack, torch, pytest,
    setuptools), with ``readtrack`` and ``pip`` on its PATH; what pip installs lands in it alone."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    Path(purelib, "_readtrack_parent.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    for name, module in (("readtrack", "readtrack"), ("pip", "pip")):
        script = root / "bin" / name
        script.write_text(f'#!/bin/sh\nexec "{python}" -m {module} "$@"\n')
        script.chmod(0o755)
    return root / "bin"


@pytest.mark.timeout(600)
def test_the_guide_runs_from_an_empty_folder_to_a_pip_package(tmp_path: Path) -> None:
    steps, skipped = guide_steps()
    assert len(skipped) == 1 and "pip install" in skipped[0]  # the second torch release, and nothing else
    assert sum(s.command is not None for s in steps) >= 15
    assert set(FEWER_SEEDS) <= {s.command for s in steps}, "the guide's command changed: FEWER_SEEDS too"

    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    bin_dir = overlay_venv(tmp_path / "venv")
    script = ["set -u"]
    for i, step in enumerate(steps):
        if step.command is None:
            assert step.path is not None
            where = shlex.quote(step.path)
            script += [f"mkdir -p $(dirname {where})", f"cat > {where} <<'GUIDE_EOF'", step.text.rstrip("\n")]
            script.append("GUIDE_EOF")
            continue
        script += [
            f"echo '@@@ {i}' >&2; echo '@@@ {i}'",
            FEWER_SEEDS.get(step.command, step.command),
            f'rc=$?; [ "$rc" -eq {step.exits} ] || {{ echo "@@@ FAILED {i} exit $rc"; exit 1; }}',
        ]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("READTRACK_", "PYTEST_", "VIRTUAL_ENV"))
    }
    env.update(
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        HOME=str(tmp_path),
        READTRACK_HOME=str(home),
        COLUMNS="100",
        NO_COLOR="1",
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONDONTWRITEBYTECODE="1",
        READTRACK_JOBS="1",  # calibrate on one fork server: a second imported torch again (2.5 CPU-s)
    )
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=work, env=env, capture_output=True, text=True, timeout=560
    )
    out = dict(re.findall(r"^@@@ (\d+)\n(.*?)(?=^@@@ |\Z)", done.stdout, flags=re.MULTILINE | re.DOTALL))
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-6000:]

    def output(command: str, nth: int = 0) -> str:
        found = [i for i, s in enumerate(steps) if s.command == command]
        return out[str(found[nth])]

    assert "result: passed" in output("readtrack run swish --quick")
    assert "test MSE relu / relu" in output("readtrack run swish --quick --only train --set activation=relu")
    assert "activation" in output("readtrack knobs swish") and "swish, relu" in output(
        "readtrack knobs swish"
    )
    assert "5 passed" in output("python -m pytest -q my-plugins/swish")
    first = output("readtrack check-plugin swish", 0)
    assert first.count("✓") == 7 and "✗ calibration: not calibrated" in first
    calibrated = output("readtrack calibrate swish --seeds 0-19 --write")
    # 5 of the rule's 20 seeds: what the record lacks is said, the 15 seeds before the second release
    assert re.search(r"missing 15 more seeds on torch \S+, a second torch release \(10 seeds\)", calibrated)
    assert "breaks the rule" not in calibrated  # the claim holds by 3 sd on the seeds it ran
    assert re.search(r"swish\s.*installed", output("readtrack plugins"))
    assert "exercise 1 of 1: swish" in output("readtrack practice swish", 1)
    assert "5 passed" in output("python -m pytest -q swish-readtrack/tests")
    packaged = output("readtrack check-plugin swish", 1)
    assert packaged.count("✓") == 7 and "✗ calibration: calibration incomplete" in packaged  # not stale

    folder = work / "swish-readtrack" / "src" / "swish_readtrack"
    assert (folder / "calibration.json").exists()
    assert "generated by ``readtrack calibrate swish --write``" in (folder / "__init__.py").read_text(
        encoding="utf-8"
    )
    # the reader's history holds the two runs the guide made, and none of the tests' or calibrate's
    listed = subprocess.run(
        [str(bin_dir / "readtrack"), "history", "swish", "--json"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert len(json.loads(listed.stdout)) == 2, listed.stdout + listed.stderr
