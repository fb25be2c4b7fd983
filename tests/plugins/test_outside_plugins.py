"""Plugins written outside the repository (issue 72), as their authors meet readtrack: a pip package with its
own entry point, and a folder of the user's plugin folder (tests/outside_plugins.py writes both).

- practice works for both: the workspace, ``--check``, ``--train``, the mistakes caught, and the practice
  tests the guide cites find them;
- an entry point's name is its plugin's: one that names another plugin is listed broken, in one line;
- a broken ``config.py``, ``experiment.py`` or page is one line naming the file and line in ``plugins``,
  ``knobs``, ``run`` and ``run --set``, with a non-zero exit, and the other plugins are listed fine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import run_cli
from outside_plugins import package_folder, plugin_files, use_here, write_folder_plugin, write_package_plugin

from readtrack import practice
from readtrack.practice.workspace import NOT_IMPLEMENTED

REPO = Path(__file__).resolve().parents[2]


def solve(workspace: Path) -> None:
    """Write the exercise's one line where the stub raises."""
    text = workspace.read_text(encoding="utf-8")
    start = text.index('    raise NotImplementedError("swish')
    end = text.index("\n", start) + 1
    workspace.write_text(
        text[:start] + "    return x * torch.sigmoid(beta * x)\n" + text[end:], encoding="utf-8"
    )


# -- practice and knobs, for a package as for a folder ---------------------------------------------------
def test_a_package_plugin_is_practised_from_the_stub_to_the_claim(tmp_path: Path) -> None:
    env = write_package_plugin(tmp_path / "swish-readtrack")
    listed = run_cli("practice", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert {"plugin": "swish", "exercises": ["swish"]}.items() <= next(
        row for row in json.loads(listed.stdout) if row["plugin"] == "swish"
    ).items()

    folder = tmp_path / "workspace"
    shown = run_cli("practice", "swish", "--dir", str(folder), "--hint", "1", env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"workspace: {folder / 'model.py'} (new, from the stub)" in shown.stdout
    assert (
        "swish(x, beta) = x · sigmoid(beta · x)" in shown.stdout
        and "hint 1 of 2: torch.sigmoid" in shown.stdout
    )

    stub = run_cli("practice", "swish", "--dir", str(folder), "--check", env=env)
    assert stub.returncode == 1, stub.stdout + stub.stderr
    assert f"error: NotImplementedError: swish: {NOT_IMPLEMENTED}" in stub.stdout

    solve(folder / "model.py")
    trained = run_cli("practice", "swish", "--dir", str(folder), "--check", "--train", env=env)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert "swish · swish: claim reproduced" in trained.stdout
    assert "✓ claim: final loss / first loss" in trained.stdout

    knobs = run_cli("knobs", "swish", "--json", env=env)
    assert knobs.returncode == 0, knobs.stderr
    assert [k["name"] for k in json.loads(knobs.stdout)] == ["steps", "lr", "width"]


def test_the_mistakes_of_a_package_and_of_a_folder_plugin_are_caught(
    tmp_path: Path, user_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readtrack.testing import assert_mistakes_caught

    write_folder_plugin(user_dir, "swirl")
    use_here(write_package_plugin(tmp_path / "swish-readtrack"), monkeypatch)
    assert practice.practice_plugin("swish").folder == package_folder(tmp_path / "swish-readtrack")
    assert practice.practice_plugin("swirl").folder == user_dir / "swirl"
    for name in ("swish", "swirl"):
        (wrong,) = assert_mistakes_caught(name)  # the model solution passes, sigmoid_only fails "swish vs"
        assert wrong.name == "sigmoid_only"


def test_the_practice_tests_the_guide_cites_find_plugins_outside_the_repository(tmp_path: Path) -> None:
    """``pytest tests/practice/test_practice.py -k NAME`` grades an installed package's exercise, and a user
    folder's when READTRACK_PLUGINS_DIR names the folder."""
    env = write_package_plugin(tmp_path / "swish-readtrack")
    write_folder_plugin(tmp_path / "mine", "swirl")
    env |= {"READTRACK_PLUGINS_DIR": str(tmp_path / "mine"), "READTRACK_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "pytest", "tests/practice/test_practice.py", "-k", "swish or swirl"]
    command += ["-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0", "-q"]
    done = subprocess.run(
        command, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "6 passed" in done.stdout  # three tests each


# -- names ------------------------------------------------------------------------------------------------
SUITE = """
from readtrack.api import PaperPlugin, hookimpl


@hookimpl
def readtrack_paper_plugins():
    return [
        PaperPlugin(name=name, paper_id=name, title="Searching for Activation Functions", arxiv="1710.05941",
                    claim="swish trains as well as ReLU", package=__name__, devices=("cpu",))
        for name in ("swish-small", "swish-large")
    ]
"""


def test_an_entry_point_is_named_as_its_plugin(tmp_path: Path) -> None:
    """An entry point named otherwise than the one plugin its module declares is broken, one line saying
    both names; an entry point of a module declaring several plugins is only a label."""
    misnamed = write_package_plugin(tmp_path / "swish-readtrack", entry_point="swish-pkg")
    suite = write_package_plugin(tmp_path / "suite", "suite", files={"__init__.py": SUITE})
    env = {"PYTHONPATH": os.pathsep.join([misnamed["PYTHONPATH"], suite["PYTHONPATH"]])}
    listed = run_cli("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    said = (
        "entry point 'swish-pkg' (distribution swish-readtrack 0.1) declares plugin 'swish': "
        "name them alike (entry point name = declare(name=...))"
    )
    assert (rows["swish"]["status"], rows["swish"]["error"]) == ("broken", said)
    assert "swish-pkg" not in rows
    for name in ("swish-small", "swish-large"):
        assert (rows[name]["status"], rows[name]["origin"]) == ("ok", "suite_readtrack (suite-readtrack 0.1)")
    for name in ("swish", "swish-pkg"):  # either name: the one line, and no run
        run = run_cli("run", name, "--quick", env=env)
        assert (run.returncode, run.stderr) == (1, f"readtrack: plugin {name} is broken: {said}\n")


# -- errors: one line naming the file and line -----------------------------------------------------------
def broken_line(path: Path, text: str, marker: str, message: str) -> str:
    """``path:N: message`` for the first line of ``text`` holding ``marker`` (a SyntaxError: Python's own)."""
    try:
        compile(text, str(path), "exec")
    except SyntaxError as err:
        return f"{path}:{err.lineno}: SyntaxError: {err.msg}"
    line = next(n for n, t in enumerate(text.splitlines(), 1) if marker in t)
    return f"{path}:{line}: {message}"


FILES = plugin_files()
# file, what to replace, with what, a marker on the line named, the message
BREAKAGES = {
    "config-name-error": (
        "config.py",
        "steps: int = knob(",
        "steps: int = knb(",
        "knb(",
        "NameError: name 'knb' is not defined",
    ),
    "config-syntax-error": ("config.py", "class Config:", "class Config", "", ""),
    "config-not-frozen": (
        "config.py",
        "@dataclass(frozen=True)",
        "@dataclass",
        "class Config",
        "Config is not a frozen dataclass: write @dataclass(frozen=True)",
    ),
    "config-not-a-dataclass": (
        "config.py",
        "@dataclass(frozen=True)\n",
        "",
        "class Config",
        "Config is not a frozen dataclass: write @dataclass(frozen=True)",
    ),
    "knob-default-out-of-range": (
        "config.py",
        "knob(0.1, low=1e-4",
        "knob(5.0, low=1e-4",
        "lr: float",
        "Config.lr: its full default 5 is out of range (0.0001 to 1)",
    ),
    "experiment-syntax-error": (
        "experiment.py",
        "def train(ctx: RunContext) -> None:",
        "def train(ctx)",
        "",
        "",
    ),
    "page-name-error": (
        "__init__.py",
        "from readtrack.api import Exercise, declare\n",
        "from readtrack.api import Exercise, declare\n\nCITED = citation_of(__name__)\n",
        "citation_of",
        "NameError: name 'citation_of' is not defined",
    ),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_a_broken_package_plugin_is_one_line_naming_the_file_and_line(case: str, tmp_path: Path) -> None:
    file, old, new, marker, message = BREAKAGES[case]
    assert old in FILES[file]
    text = FILES[file].replace(old, new)
    root = tmp_path / "swish-readtrack"
    env = write_package_plugin(root, files={file: text})
    said = broken_line(package_folder(root) / file, text, marker, message)

    listed = run_cli("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert (rows["swish"]["status"], rows["swish"]["error"]) == ("broken", said)
    assert all(row["status"] == "ok" for name, row in rows.items() if name != "swish")  # the rest are fine
    for command in (["knobs", "swish"], ["run", "swish", "--quick"], ["run", "swish", "--set", "steps=5"]):
        done = run_cli(*command, env=env)
        assert (done.returncode, done.stdout, done.stderr) == (
            1,
            "",
            f"readtrack: plugin swish is broken: {said}\n",
        )


def test_a_folder_plugins_broken_config_is_one_line_too(user_dir: Path) -> None:
    text = FILES["config.py"].replace("steps: int = knob(", "steps: int = knb(")
    folder = write_folder_plugin(user_dir, files={"config.py": text})
    said = broken_line(folder / "config.py", text, "knb(", "NameError: name 'knb' is not defined")
    rows = {row["name"]: row for row in json.loads(run_cli("plugins", "--json").stdout)}
    assert (rows["swish"]["status"], rows["swish"]["error"]) == ("broken", said)
    for command in (["knobs", "swish"], ["run", "swish", "--set", "lr=0.5"]):
        done = run_cli(*command)
        assert (done.returncode, done.stderr) == (1, f"readtrack: plugin swish is broken: {said}\n")


def test_an_experiment_that_fails_as_it_imports_is_one_line_naming_its_line(tmp_path: Path) -> None:
    """Found only when the plugin runs (listing never imports torch, and the experiment does): the run's
    error is the file and line, with no traceback of readtrack's import machinery under it."""
    text = FILES["experiment.py"].replace("from .model import", "SCALE = scale_of(2)\n\nfrom .model import")
    root = tmp_path / "swish-readtrack"
    env = write_package_plugin(root, files={"experiment.py": text})
    said = broken_line(
        package_folder(root) / "experiment.py", text, "scale_of", "NameError: name 'scale_of' is not defined"
    )
    ran = run_cli("run", "swish", "--quick", env=env)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr and "importlib" not in ran.stdout + ran.stderr
    (record,) = json.loads(run_cli("history", "--json", env=env).stdout)
    assert [(s["stage"], s["status"], s["error"]) for s in record["stages"]] == [
        ("check", "error", said),
        ("train", "skipped", None),
        ("bench", "skipped", None),
    ]
