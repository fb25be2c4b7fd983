"""What every built-in paper plugin must be, checked once for all of them (a plugin's own test file holds
only what is specific to it; its stages run once, in tests/plugins/test_plugins_contract.py).

- its declaration is light: importing every plugin's ``__init__`` imports no torch;
- it names a paper of the shipped list, and its title and arXiv id agree with the shipped papers.yaml,
  whose ``plugin:`` field links back to it;
- its page (the ``__init__`` docstring) names the paper and its arXiv id, and its experiments module says
  what each stage does;
- it stands alone: it imports no sibling plugin and repeats none of the setup the runner does;
- it has its own test file, with a test that its check can fail.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from readtrack.plugins import discovery as plugins
from readtrack.plugins import links
from readtrack.plugins.lineages import declared

REPO = Path(__file__).resolve().parents[2]
BUILTIN = [p for p in plugins.discover(include_user=False) if p.source == plugins.BUILTIN]
NAMES = [p.name for p in BUILTIN]
CATALOGS = [REPO / "papers.yaml"]
#: The plugins that are a lineage's family bench (``Lineage(bench=...)``), not a paper of the list.
FAMILY_BENCHES = {
    family.lineage.bench for family in declared(plugins.discovery(include_user=False).hooks).lineages.values()
} - {None}
#: The member plugins a family bench may import (their model code is the member; ``recurrent-bench`` runs
#: the mamba plugin's S4 and selective layers and checks torch's RNN, LSTM, GRU against their plugins').
BENCHED = {
    "recurrent-bench": ("rnn", "lstm", "gru", "mamba"),
    # BPE's merges checked by integer tokenization's naive loop, its corpus and splittings, ByT5's byte ids
    # and noise, MEGABYTE's model, reference and FLOP formulas
    "tokenization-bench": ("byt5", "integer_tokenization", "megabyte"),
    # multi-head, multi-query and grouped-query attention are the gqa plugin's layer (G = 8, 1, 2), the
    # window the sliding window plugin's attention and rolling cache
    "attention-bench": ("gqa", "sliding_window_attention"),
}


def test_every_builtin_plugin_loads() -> None:
    broken = [f"{p.name}: {p.error}" for p in BUILTIN if not isinstance(p, plugins.LoadedPlugin)]
    assert not broken and len(BUILTIN) >= 5, broken


def test_declarations_import_no_torch() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {NAMES!r}:\n"
        "    importlib.import_module('readtrack_plugins.' + name.replace('-', '_'))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numpy'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("path", CATALOGS, ids=["packaged papers.yaml"])
@pytest.mark.parametrize("name", NAMES)
def test_the_declaration_agrees_with_the_reading_list(name: str, path: Path) -> None:
    info = plugins.load_plugin(name).info
    if name in FAMILY_BENCHES:  # a family's bench runs its members' papers together: it is no paper itself
        assert info.arxiv is None and links.load(path, cache=False).find_arxiv(name) is None
        return
    paper = links.load(path, cache=False).get(info.paper_id)
    if info.arxiv is not None and info.arxiv in paper.related:
        # An item that bundles papers (the seed's first: AdamW with Adam and Schedule-Free) lists the others
        # under related:; a plugin implementing one of them declares that paper, not the item's first.
        assert info.title and info.title != paper.title, f"{name}: declare the title of {info.arxiv}"
    else:
        assert (info.title, info.arxiv) == (paper.title, paper.arxiv), f"{name} vs {path}:{paper.line}"
    assert name in paper.plugins, f"{path}:{paper.line}: paper {paper.id} should say plugin: {name}"


@pytest.mark.parametrize("name", NAMES)
def test_the_page_names_the_paper_and_each_stage_is_described(name: str) -> None:
    info = plugins.load_plugin(name).info
    folder = REPO / "plugins" / name.replace("-", "_")
    page = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
    assert info.arxiv is None or info.arxiv in page, f"the page of {name} does not cite arXiv {info.arxiv}"
    assert len(page.splitlines()) >= 8, f"the page of {name} is too short to read beside the paper"
    experiments = ast.get_docstring(ast.parse((folder / "experiment.py").read_text())) or ""
    for stage in ("check", "train", "bench"):
        assert f"{stage}:" in experiments, f"{name}/experiment.py does not say what {stage} does"


@pytest.mark.parametrize("name", NAMES)
def test_the_plugin_stands_alone_and_leaves_setup_to_the_runner(name: str) -> None:
    problems = []
    for source in sorted((REPO / "plugins" / name.replace("-", "_")).glob("*.py")):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            module = getattr(node, "module", None) or ""
            imported = module.split(".")[1] if module.startswith("readtrack_plugins.") else None  # its plugin
            if (
                isinstance(node, ast.ImportFrom)
                and (node.level > 1 or "readtrack_plugins" in module)
                and imported not in BENCHED.get(name, ())
            ):
                problems.append(f"{source.name}:{node.lineno} imports another plugin ({ast.unparse(node)})")
            if isinstance(node, ast.Call):
                call = ast.unparse(node.func)
                if call == "torch.set_flush_denormal":
                    problems.append(f"{source.name}:{node.lineno}: the runner flushes denormals already")
                if call.endswith(".removeprefix") and ast.unparse(node.args[0]) == "'torch.'":
                    problems.append(f"{source.name}:{node.lineno}: name dtypes with context.dtype_name")
            # Seeding at the top of a stage repeats the runner (re-seeding later, for an A/B, is fine).
            if isinstance(node, ast.FunctionDef) and node.name in ("check", "train", "bench"):
                for statement in node.body[:2]:
                    if ast.unparse(statement) == "torch.manual_seed(ctx.seed)":
                        problems.append(f"{source.name}:{statement.lineno}: the runner seeds every stage")
        if "readtrack.runner.experiment" in source.read_text():
            problems.append(
                f"{source.name}: import from readtrack.runner.context, "
                "not the old readtrack.runner.experiment"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_the_plugin_has_its_own_tests_including_one_that_its_check_can_fail(name: str) -> None:
    tests = REPO / "tests" / "plugins" / f"test_{name.replace('-', '_')}.py"
    assert tests.is_file(), f"{name} has no {tests.relative_to(REPO)}"
    tree = ast.parse(tests.read_text())
    runs_a_stage = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and node.name.startswith("test_")
        and (
            "check_catches(" in ast.unparse(node)
            or (
                "run_stage" in ast.unparse(node)
                and 'verdict() == "failed"' in ast.unparse(node).replace("'", '"')
            )
        )
    ]
    assert runs_a_stage, f"no test in {tests.name} shows that a broken {name} fails its check"
