"""`readtrack explain`: a plugin's page and code from the shell, as text or JSON, without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cli_runner import run_cli

from readtrack.plugins.pages import _fence_indented, read_page

REPO = Path(__file__).resolve().parents[2]


def test_explain_prints_the_page_with_the_claim_and_the_equations() -> None:
    result = run_cli("explain", "rope")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "RoFormer: Enhanced Transformer with Rotary Position Embedding" in out
    assert "arXiv 2104.09864 · plugin rope (built-in)" in out
    assert "Claim. Rotating queries and keys by their position" in out
    assert "⟨R(q, m), R(k, n)⟩ = ⟨q, R(k, n − m)⟩" in out  # an equation block, as written
    assert "code: model.py, experiment.py, config.py (readtrack explain rope --code)" in out
    assert "def apply_rotary" not in out


def test_explain_code_prints_the_implementation_after_the_page() -> None:
    out = run_cli("explain", "rope", "--code").stdout
    model = out.index("model.py  (")
    assert out.index("RoFormer") < model < out.index("experiment.py  (")
    assert "def apply_rotary" in out[model:]


def test_explain_json_gives_the_page_and_with_code_the_sources() -> None:
    plain = json.loads(run_cli("explain", "gqa", "--json").stdout)
    assert (plain["name"], plain["arxiv"], plain["source"]) == ("gqa", "2305.13245", "built-in")
    assert plain["page"].startswith("GQA")
    assert [Path(f).name for f in plain["files"]] == ["model.py", "experiment.py", "config.py"]
    assert "code" not in plain
    with_code = json.loads(run_cli("explain", "gqa", "--json", "--code").stdout)
    assert with_code["code"]["model.py"] == (REPO / "plugins" / "gqa" / "model.py").read_text(
        encoding="utf-8"
    )


def test_explain_an_unknown_plugin_is_one_line_and_exit_2() -> None:
    result = run_cli("explain", "ropee")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "did you mean rope?" in result.stderr


def test_explain_imports_no_torch() -> None:
    probe = (
        "import sys; sys.argv = ['readtrack', 'explain', 'flashattention', '--code']\n"
        "from readtrack.cli import app as cli\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=600)
    assert result.stderr.strip().splitlines()[-1] == "False", result.stderr
    assert "def flash_attention" in result.stdout


def test_the_page_lists_the_implementation_and_experiments_first_then_the_other_files() -> None:
    page = read_page("flashattention")
    assert [f.name for f in page.files] == [
        "model.py",
        "experiment.py",
        "config.py",
        "cuda_bench.py",
        "hopper_kernels.py",
        "triton_kernel.py",
    ]


def test_indented_equation_blocks_become_text_fences_and_nothing_else_changes() -> None:
    text = "Equations:\n\n    a = b\n\n    c = d\nafter\n\nnot    indented\n  two spaces stay"
    assert _fence_indented(text) == (
        "Equations:\n\n```text\na = b\n\nc = d\n```\nafter\n\nnot    indented\n  two spaces stay"
    )
