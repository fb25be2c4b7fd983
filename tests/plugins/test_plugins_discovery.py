"""Finding paper plugins: built-in, installed (entry points) and the user's folder; broken ones listed, never
fatal; listing stays light (no torch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fake_plugins import write_plugin

import readtrack
from readtrack.base.errors import PluginError, UsageError
from readtrack.plugins import discovery as plugins

REPO = Path(__file__).resolve().parents[2]
BUILTIN_NAMES = sorted(
    p.name.replace("_", "-")  # a paper id's hyphens are underscores in its package's folder name
    for p in (REPO / "plugins").iterdir()
    if (p / "__init__.py").is_file() and not p.name.startswith("_")
)


def by_name(found: list[plugins.Plugin]) -> dict[str, list[plugins.Plugin]]:
    named: dict[str, list[plugins.Plugin]] = {}
    for plugin in found:
        named.setdefault(plugin.name, []).append(plugin)
    return named


def test_builtin_plugins_are_found_from_the_repo_plugins_folder() -> None:
    found = plugins.discover(refresh=True)
    builtin = {p.name: p for p in found if p.source == plugins.BUILTIN}
    assert sorted(builtin) == BUILTIN_NAMES
    for plugin in builtin.values():
        assert plugin.status == "ok", plugin.error
        assert plugin.origin == f"readtrack_plugins.{plugin.name.replace('-', '_')}"


def test_user_folder_plugin_loads_with_relative_imports_and_lazy_implementation(user_dir: Path) -> None:
    write_plugin(user_dir, "toy")
    toy = plugins.get("toy")
    assert isinstance(toy, plugins.LoadedPlugin)
    assert toy.source == plugins.USER and toy.origin == str(user_dir / "toy")
    assert toy.info.title == "Fake paper toy"
    # `from .model import double` inside experiment.py works: the folder is a real package.
    assert toy.experiments.double is toy.implementation.double
    loaded = readtrack.load_plugin("toy")
    assert loaded.implementation.double(3) == 6


def test_user_folder_defaults_to_plugins_next_to_the_catalog(readtrack_home: Path) -> None:
    write_plugin(readtrack_home / "plugins", "besidecatalog")
    assert plugins.get("besidecatalog").source == plugins.USER


def test_catalog_at_the_repo_root_does_not_load_builtins_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    # A papers.yaml made at the repo root (`--catalog papers.yaml`) sits next to plugins/, the built-in
    # folder: no "shadowed" twins.
    monkeypatch.setenv("READTRACK_CATALOG", str(REPO / "papers.yaml"))
    found = plugins.discover(refresh=True)
    assert not [p for p in found if p.status == "broken"]
    assert sorted(p.name for p in found) == BUILTIN_NAMES


HOOK = "from readtrack.plugins.declaration import PaperPlugin, hookimpl\n\n@hookimpl\n"
BROKEN_CASES = {
    # a page that does not import: one line naming its file and line
    "syntaxerror": (
        "def readtrack_paper_plugins(:\n",
        "syntaxerror/__init__.py:1: ",
        "SyntaxError: invalid syntax",
    ),
    "importerror": (
        "import readtrack_no_such_module\n",
        "importerror/__init__.py:1: ",
        "ModuleNotFoundError: No module named 'readtrack_no_such_module'",
    ),
    "hookraises": (
        HOOK + "def readtrack_paper_plugins():\n    raise RuntimeError('boom in the hook')\n",
        "readtrack_paper_plugins() raised",
        "RuntimeError: boom in the hook",
    ),
    "badname": (
        HOOK + "def readtrack_paper_plugins():\n"
        "    return [PaperPlugin(name='Bad Name', paper_id='x', title='t', arxiv=None, claim='c',"
        " package=__name__)]\n",
        "readtrack_paper_plugins() raised",
        "lowercase slug",
    ),
    "notalist": (
        HOOK + "def readtrack_paper_plugins():\n    return 'flashattention'\n",
        "expected a list of PaperPlugin",
        "",
    ),
    "nohook": (
        "def readtrack_paper_plugins():\n    return []\n",
        "implements no readtrack hook",
        "@hookimpl",
    ),
    "unknownhook": (
        HOOK + "def readtrack_run_exploded(run):\n    pass\n",
        "unknown hook readtrack_run_exploded",
        "",
    ),
}


def test_broken_plugins_are_listed_with_their_error_and_the_rest_still_load(user_dir: Path) -> None:
    write_plugin(user_dir, "aaa")
    for folder, (source, _, _) in BROKEN_CASES.items():
        write_plugin(user_dir, folder, init=source)
    write_plugin(user_dir, "noexperiments").joinpath("experiment.py").unlink()
    write_plugin(user_dir, "zzz")

    named = by_name(plugins.discover(refresh=True))
    assert named["aaa"][0].status == "ok" and named["zzz"][0].status == "ok"
    for folder, (_, start, contains) in BROKEN_CASES.items():
        name = "x" if folder == "badname" else folder
        (plugin,) = named.get(name, named.get(folder, []))
        assert plugin.status == "broken"
        assert plugin.error is not None and start in plugin.error and contains in plugin.error
        assert "\n" not in plugin.error
    (missing,) = named["noexperiments"]
    assert missing.status == "broken" and "experiment, which does not exist" in str(missing.error)
    with pytest.raises(
        PluginError, match=r"plugin hookraises is broken: \S+/__init__.py:5: readtrack_paper_plugins"
    ):
        plugins.load_plugin("hookraises")


def test_duplicate_names_first_source_wins_and_the_later_one_is_shadowed(user_dir: Path) -> None:
    write_plugin(user_dir, "a-first", name="twin")
    write_plugin(user_dir, "b-second", name="twin")
    if BUILTIN_NAMES:
        write_plugin(user_dir, "mine", name=BUILTIN_NAMES[0])
    named = by_name(plugins.discover(refresh=True))
    first, second = named["twin"]
    assert first.status == "ok" and first.origin.endswith("a-first")
    assert (
        second.status == "broken" and second.error == f"shadowed by user folder plugin twin ({first.origin})"
    )
    assert plugins.get("twin") is first
    if BUILTIN_NAMES:
        builtin, mine = named[BUILTIN_NAMES[0]]
        assert builtin.source == plugins.BUILTIN and mine.source == plugins.USER
        assert "shadowed by built-in plugin" in str(mine.error)


def test_unknown_plugin_is_a_usage_error_with_a_suggestion(user_dir: Path) -> None:
    write_plugin(user_dir, "transformerish")
    plugins.discover(refresh=True)
    with pytest.raises(UsageError, match="unknown plugin 'transformerishh': did you mean transformerish"):
        plugins.load_plugin("transformerishh")


def test_refresh_picks_up_an_edited_user_plugin(user_dir: Path) -> None:
    package = write_plugin(user_dir, "edited")
    assert plugins.load_plugin("edited").implementation.double(2) == 4
    (package / "model.py").write_text("def double(x):\n    return 3 * x\n")
    plugins.discover(refresh=True)
    assert plugins.load_plugin("edited").implementation.double(2) == 6


def _write_distribution(site: Path, module_source: str, module: str = "fancy_readtrack_plugin") -> None:
    """An installed distribution as pip leaves it: a module plus NAME-VERSION.dist-info with entry points."""
    (site / f"{module}.py").write_text(textwrap.dedent(module_source))
    info = site / "fancy_plugin-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fancy-plugin\nVersion: 1.2\n")
    (info / "entry_points.txt").write_text(f"[readtrack]\nfancy = {module}\n")


ENTRY_POINT_MODULE = """
    from readtrack.plugins.declaration import PaperPlugin, hookimpl


    @hookimpl
    def readtrack_paper_plugins():
        return [PaperPlugin(name="fancy", paper_id="fancy", title="An installed paper", arxiv="1234.5678",
                            claim="installed plugins are found", package="fancy_pkg")]
"""


def run_listing(env_extra: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "readtrack", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_installed_distribution_entry_point_is_discovered(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _write_distribution(site, ENTRY_POINT_MODULE)
    # The declared package, importable from the same site folder.
    (site / "fancy_pkg").mkdir()
    for part in ("__init__", "model", "experiment"):
        (site / "fancy_pkg" / f"{part}.py").write_text("")
    result = run_listing({"PYTHONPATH": str(site)}, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["fancy"]["source"] == "installed"
    assert rows["fancy"]["status"] == "ok"
    assert rows["fancy"]["origin"] == "fancy_readtrack_plugin (fancy-plugin 1.2)"
    assert rows["fancy"]["arxiv"] == "1234.5678"


def test_broken_entry_point_is_listed_and_the_command_still_succeeds(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _write_distribution(site, "raise ImportError('needs libfancy.so')\n")
    write_plugin(tmp_path / "user", "stillhere")
    result = run_listing({"PYTHONPATH": str(site), "READTRACK_PLUGINS_DIR": str(tmp_path / "user")}, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["fancy"]["status"] == "broken"
    assert rows["fancy"]["error"] == f"{site / 'fancy_readtrack_plugin.py'}:1: ImportError: needs libfancy.so"
    assert rows["stillhere"]["status"] == "ok"


def test_source_checkout_without_install_falls_back_to_the_plugins_folder(tmp_path: Path) -> None:
    # Hide the editable install (its import finder and path hook) and run readtrack from a plain copy.
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for part in ("readtrack", "plugins"):
        subprocess.run(["cp", "-r", str(REPO / part), str(checkout / part)], check=True)
    (checkout / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    code = textwrap.dedent(
        f"""
        import sys
        sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
        sys.path[:] = [p for p in sys.path if "__editable__" not in p]
        sys.path_importer_cache.clear()
        sys.path.insert(0, {str(checkout)!r})
        from readtrack.plugins import discovery as plugins
        found = plugins.discover()
        print(sys.modules["readtrack_plugins"].__path__[0])
        print(" ".join(sorted(p.name for p in found if p.status == "ok" and p.source == "built-in")))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    folder, names = out.stdout.splitlines()
    assert folder == str(checkout / "plugins")
    assert names.split() == BUILTIN_NAMES


@pytest.mark.parametrize("command", [["plugins"], ["plugins", "--json"], ["history"], ["compare", "fake"]])
def test_listing_commands_never_import_torch(command: list[str], user_dir: Path, tmp_path: Path) -> None:
    write_plugin(user_dir, "toy")  # a user plugin whose model.py imports torch: only __init__ is read
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "readtrack", *command],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode in (0, 2), result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "readtrack.cli.app" in imported
    assert "torch" not in imported
    if command[0] == "plugins":
        assert "toy" in result.stdout  # its light __init__ was imported and declared the plugin
