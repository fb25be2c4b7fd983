"""``readtrack practice`` as a learner uses it: the workspace, the CLI's check, and a grader that cannot be
fooled or hung. Most cases use a tiny plugin of their own (``double``: 2·x) in the user's plugin folder, so
that what is tested is the grader, in a second, not a paper's check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_runner import run_cli

from readtrack import practice
from readtrack.practice.workspace import NOT_IMPLEMENTED

TINY_INIT = '''
"""A tiny plugin with one exercise, for the practice tests."""

from readtrack.plugins.declaration import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Tiny practice",
    arxiv=None,
    claim="Doubling doubles.",
    exercises=[
        Exercise(
            target="double",
            statement="""
                Return 2·x, a new tensor of x's shape and dtype.
            """,
            hints=["2 * x"],
            lines=1,
            references=["torch.mul"],
        )
    ],
)
'''

TINY_MODEL = '''
"""The model solution."""

import torch


def double(x: torch.Tensor) -> torch.Tensor:
    """Twice x."""
    return 2 * x
'''

# The reference reads x AFTER the learner's code ran: an in-place edit of x would change what it computes.
TINY_EXPERIMENT = """
import torch

from .model import double


def check(ctx):
    x = torch.arange(1.0, 7.0, dtype=torch.float64)
    out = double(x)
    ctx.check_close("double vs 2·x", out, 2 * x)


def train(ctx):
    ctx.target("twice one is two", float(double(torch.ones(1))[0]), 2.0)
    ctx.target("twice two", float(double(torch.full((1,), 2.0))[0]), 3.5, asserted=not ctx.quick)
"""


@pytest.fixture
def tiny(user_dir: Path) -> practice.PracticePlugin:
    folder = user_dir / "tinypractice"
    folder.mkdir()
    for name, text in (("__init__", TINY_INIT), ("model", TINY_MODEL), ("experiment", TINY_EXPERIMENT)):
        (folder / f"{name}.py").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return practice.practice_plugin("tinypractice")


def learner(tmp_path: Path, body: str, header: str = "import torch\n") -> Path:
    """A learner's model.py whose ``double`` is ``body``."""
    path = tmp_path / "mine" / "model.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(header + "\n\ndef double(x):\n" + textwrap.indent(textwrap.dedent(body), "    "), "utf-8")
    return path


def grade(path: Path) -> practice.PracticeResult:
    return practice.check("tinypractice", path, isolated=False, record=False)


# -- the grader, in this process ---------------------------------------------------------------------------
def test_a_claim_reported_at_quick_size_is_shown_but_not_graded(tiny: object, tmp_path: Path) -> None:
    quick = practice.check("tinypractice", learner(tmp_path, "return x + x\n"), train=True, quick=True,
                           isolated=False, record=False)  # fmt: skip
    assert quick.status == "passed"
    assert "✓ claim: twice one is two: 2 (≥ 2 needed)" in quick.lines()
    assert "· reported: twice two: 4 (the claim, asserted in the full run: ≥ 3.5)" in quick.lines()
    full = practice.check("tinypractice", learner(tmp_path, "return x + x\n"), train=True, isolated=False,
                          record=False)  # fmt: skip
    assert "✓ claim: twice two: 4 (≥ 3.5 needed)" in full.lines()


def test_an_in_place_edit_of_the_input_cannot_fool_the_reference(tiny: object, tmp_path: Path) -> None:
    # Zeroing x and returning it would make the reference 2·x = 0 agree, were x not cloned first.
    result = grade(learner(tmp_path, "x.zero_()\nreturn x\n"))
    assert result.status == "failed"
    assert result.lines()[1].startswith("✗ double vs 2·x: max error 12")


def test_a_wrong_shape_or_dtype_is_expected_vs_got_in_one_line(tiny: object, tmp_path: Path) -> None:
    result = grade(learner(tmp_path, "return (2 * x)[:3]\n"))
    assert result.notes[0] == (
        "double returned a tensor of shape (3,), float64, on cpu; "
        "the model solution returns a tensor of shape (6,), float64, on cpu"
    )
    assert "shape (3,) != reference (6,)" in str(result)

    # in a notebook the same lines render as HTML and Markdown
    assert "<b>tinypractice · double: failing: 0 of 1 checks pass</b>" in result._repr_html_()
    assert result._repr_markdown_().startswith("**tinypractice · double: failing: 0 of 1 checks pass**")

    result = grade(learner(tmp_path, "return (2 * x).float()\n"))
    assert (
        "double returned a tensor of shape (6,), float32, on cpu; the model solution returns "
        in result.notes[0]
    )


def test_calling_the_reference_passes_but_says_so(tiny: object, tmp_path: Path) -> None:
    # Imported by name at the top of the learner's file: the name is wrapped before the file runs.
    result = grade(learner(tmp_path, "return mul(x, 2)\n", header="import torch\nfrom torch import mul\n"))
    assert result.passed
    assert result.notes == [
        "double calls torch.mul, the reference it is compared with: the check passes, "
        "but it tests the library, not your code"
    ]
    import torch

    assert torch.mul.__module__ != __name__ and "watched" not in repr(torch.mul)  # put back afterwards


def test_an_exception_shows_the_learners_own_lines_only(tiny: object, tmp_path: Path) -> None:
    path = learner(
        tmp_path,
        "return twice(x)\n",
        header="import torch\n\n\ndef twice(x):\n    return x @ torch.ones(2, 2)\n",
    )
    result = grade(path)
    assert result.status == "error"
    assert result.error is not None and result.error.startswith("RuntimeError:")
    frames = [line for line in (result.traceback or "").splitlines() if line.startswith("  File")]
    assert frames == [
        f'  File "{path}", line 9, in double',
        f'  File "{path}", line 5, in twice',
    ]


def test_a_syntax_error_names_the_learners_line(tiny: object, tmp_path: Path) -> None:
    result = grade(learner(tmp_path, "return 2 *\n"))
    assert result.status == "error"
    assert "cannot be imported: SyntaxError" in (result.error or "")
    assert "line 5" in (result.traceback or "")


def test_the_list_shows_each_status_without_importing_torch(tiny: practice.PracticePlugin) -> None:
    practice.check("tinypractice", tiny.model_file, train=True, isolated=False)  # claim reproduced
    practice.check("rmsnorm", practice.practice_plugin("rmsnorm").model_file, isolated=False)  # checks pass
    import readtrack_plugins.layernorm.mistakes as layernorm_mistakes

    failing = practice.check("layernorm", layernorm_mistakes.forward)  # failing, k of n
    k, n = sum(c.passed for c in failing.comparisons), len(failing.comparisons)
    assert 0 < k < n
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['readtrack', 'practice', '--json']\n"
        "try:\n    runpy.run_module('readtrack', run_name='__main__')\n"
        "except SystemExit as e:\n    assert not e.code, e.code\n"
        "print('HEAVY', sorted(m for m in ('torch', 'textual') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ)
    assert "HEAVY []" in done.stderr, done.stderr
    listed = {row["plugin"]: row for row in json.loads(done.stdout)}
    assert listed["tinypractice"]["status"] == "claim reproduced"
    assert listed["rmsnorm"]["status"] == "checks pass"
    assert (listed["layernorm"]["status"], listed["layernorm"]["detail"]) == (
        "failing",
        f"{k} of {n} checks pass",
    )
    assert listed["rope"]["status"] == "not started"
    stats = run_cli("stats").stdout
    every = len(practice.practice_plugins())
    assert (
        f"practice: 3 of {every} plugins' exercises attempted: 1 failing, 1 checks pass, 1 claim reproduced"
        in stats
    )
    # and the attempts are in the run history, apart from the plugins' own runs
    history = run_cli("history", "--json").stdout
    assert {r["info"]["plugin"] for r in json.loads(history)} == {
        "practice:tinypractice",
        "practice:rmsnorm",
        "practice:layernorm",
    }


# -- the CLI, the way a learner goes ----------------------------------------------------------------------
def test_from_the_stub_to_a_passing_check_through_the_cli(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    shown = run_cli("practice", "rmsnorm", "--dir", str(folder), "--hint", "1")
    assert shown.returncode == 0, shown.stderr
    assert f"workspace: {folder / 'model.py'} (new, from the stub)" in shown.stdout
    assert "RMS(a) = √((1/n) Σ_i a_i² + ε)" in shown.stdout and "hint 1 of 3:" in shown.stdout

    stub = run_cli("practice", "rmsnorm", "--dir", str(folder), "--check")
    assert stub.returncode == 1
    assert f"error: NotImplementedError: RMSNorm.forward: {NOT_IMPLEMENTED}" in stub.stdout
    assert "readtrack/" not in stub.stdout and "experiment.py" not in stub.stdout

    # the learner writes the method (and prints far too much while at it)
    path = folder / "model.py"
    source = path.read_text(encoding="utf-8")
    start = source.index('        raise NotImplementedError("RMSNorm.forward')
    end = source.index("\n", start)
    mine = """        print("debug " * 1_000_000)
        x = a.to(torch.promote_types(a.dtype, torch.float32))
        dims = tuple(range(-len(self.normalized_shape), 0))
        return (x * torch.rsqrt(x.square().mean(dims, keepdim=True) + self.eps) * self.weight).to(a.dtype)"""
    path.write_text(source[:start] + mine + source[end:], encoding="utf-8")
    passed = run_cli("practice", "rmsnorm", "--dir", str(folder), "--check")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    model = practice.practice_plugin("rmsnorm").model_file
    n = len(practice.check("rmsnorm", model, isolated=False, record=False).comparisons)
    assert (
        n >= 15
    )  # forward and gradients at two shapes, two dtypes; invariances; bf16 and fp16 dtype and values
    assert f"rmsnorm · RMSNorm.forward: checks pass ({n} of {n})" in passed.stdout
    assert "more bytes not shown]" in passed.stdout and len(passed.stdout) < 20_000


def test_reset_keeps_the_learners_work_as_numbered_backups(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    run_cli("practice", "gqa", "--dir", str(folder))
    path = folder / "model.py"
    stub = path.read_text(encoding="utf-8")
    path.write_text(stub + "# my first try\n", encoding="utf-8")
    again = run_cli("practice", "gqa", "--dir", str(folder))
    assert "(yours, kept as it is" in again.stdout and path.read_text(encoding="utf-8").endswith(
        "# my first try\n"
    )

    reset = json.loads(run_cli("practice", "gqa", "--dir", str(folder), "--reset", "--json").stdout)
    assert reset["backup"] == str(folder / "model.py.1") and reset["created"]
    assert (folder / "model.py.1").read_text(encoding="utf-8").endswith("# my first try\n")
    assert path.read_text(encoding="utf-8") == stub
    run_cli("practice", "gqa", "--dir", str(folder), "--reset")
    assert (folder / "model.py.2").read_text(encoding="utf-8") == stub


def test_edit_opens_the_workspace_and_bad_usage_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    editor = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write('# edited')\""
    edited = run_cli("practice", "rope", "--dir", str(folder), "--edit", env={"VISUAL": editor})
    assert edited.returncode == 0, edited.stderr
    assert (folder / "model.py").read_text(encoding="utf-8").endswith("# edited")

    unknown = run_cli("practice", "nosuchplugin")
    assert unknown.returncode == 2 and "no practice exercise for 'nosuchplugin'" in unknown.stderr
    missing = run_cli("practice", "rope", "--dir", str(tmp_path / "none"), "--check")
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"readtrack: no workspace at {tmp_path / 'none' / 'model.py'}")


def test_an_endless_loop_that_swallows_the_timeout_is_killed(tiny: object, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    body = f"""
        import os, pathlib
        pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
        """
    learner(tmp_path, body)
    done = run_cli("practice", "tinypractice", "--dir", str(tmp_path / "mine"), "--check", "--timeout", "1")
    assert done.returncode == 1
    assert (
        "error: check ran past its 1 s timeout and its process was stopped: an endless loop? No full run of "
        "the model solution is recorded here to compare with (`readtrack run tinypractice --only check` "
        "records one); `--timeout S` allows more." in done.stdout
    )
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_what_a_library_prints_is_not_shown_as_the_learners_output(tiny: object, tmp_path: Path) -> None:
    """Without numpy, importing torch prints "Failed to initialize NumPy"; every check ended with it as
    "your code printed". numpy is a dependency now, and a library's output while it loads is dropped, while
    the learner's own print is kept. numpy is hidden here by a sitecustomize that blocks its import."""
    blocker = tmp_path / "no_numpy"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text('import sys\nsys.modules["numpy"] = None\n', encoding="utf-8")
    learner(tmp_path, "print('my own debugging line')\nreturn x + x\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(blocker), os.environ.get("PYTHONPATH")]))}
    done = run_cli("practice", "tinypractice", "--dir", str(tmp_path / "mine"), "--check", "--json", env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "passed"
    assert result["output"] == "my own debugging line"  # and nothing of torch's
    text = run_cli("practice", "tinypractice", "--dir", str(tmp_path / "mine"), "--check", env=env).stdout
    assert "NumPy" not in text and "my own debugging line" in text


def test_a_crash_of_the_learners_process_is_a_failed_attempt(tiny: object, tmp_path: Path) -> None:
    learner(tmp_path, "import os\nos._exit(3)\n")
    done = run_cli("practice", "tinypractice", "--dir", str(tmp_path / "mine"), "--check", "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "crashed"
    assert result["error"] == "your code's process ended with exit code 3 during check (os._exit? sys.exit?)"
    listed = {row["plugin"]: row for row in json.loads(run_cli("practice", "--json").stdout)}
    assert listed["tinypractice"]["status"] == "failing"


def test_the_notebook_runs_from_the_stub_to_the_claim(tiny: practice.PracticePlugin, tmp_path: Path) -> None:
    from readtrack.practice.notebook import write_notebook

    workspace = practice.open_workspace(tiny, tmp_path)
    notebook = json.loads(write_notebook(workspace).read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4 and len({c["id"] for c in notebook["cells"]}) == len(notebook["cells"])
    assert "Return 2·x" in "".join(notebook["cells"][0]["source"])
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    setup, stub, grade_cell, train_cell = code
    solution = textwrap.dedent("""
        def double(x):
            return x + x
        """)
    cells = [setup, stub, grade_cell, "print('STUB', result.status)", solution, grade_cell, train_cell]
    script = "\n".join([*cells, "print('MINE', result.status, trained.summary())"])
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ)
    assert "STUB error" in done.stdout, done.stderr
    assert "MINE passed tinypractice · double: claim reproduced" in done.stdout, done.stderr


def test_the_rmsnorm_notebook_holds_the_statement_and_the_stub(tmp_path: Path) -> None:
    from readtrack.practice.notebook import notebook

    plugin = practice.practice_plugin("rmsnorm")
    cells = notebook(practice.open_workspace(plugin, tmp_path))["cells"]
    text = ["".join(c["source"]) for c in cells]
    assert "## `RMSNorm.forward` (roughly 4 lines)" in text[0] and "<summary>Hint 1</summary>" in text[0]
    assert text[2].splitlines()[1].startswith("def forward(self, a: torch.Tensor) -> torch.Tensor:")
    assert "raise NotImplementedError" in text[2]


# -- targets that hold state: generators, self, classmethods, filled lists, NamedTuples ----------------------
GEARS_INIT = '''
"""A plugin whose exercises hold state, for the grader's tests."""

from readtrack.plugins.declaration import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Gears",
    arxiv=None,
    claim="State is kept.",
    exercises=[
        Exercise(target="noisy", statement="x plus noise drawn from generator."),
        Exercise(target="Counter.step", statement="Count one more and return the count."),
        Exercise(target="Counter.draw", statement="Two uniform numbers from self.generator."),
        Exercise(target="Counter.starting_at", statement="A Counter whose count is start."),
        Exercise(target="Counter.halve", statement="x / 2."),
        Exercise(target="extend", statement="Append x to cache in place; return the stacked cache."),
        Exercise(target="spread", statement="pair.mu1 - pair.mu2."),
    ],
)
'''

GEARS_MODEL = '''
"""The model solution."""

from typing import NamedTuple

import torch


class Pair(NamedTuple):
    mu1: torch.Tensor
    mu2: torch.Tensor


def noisy(x, generator):
    return x + torch.randn(x.shape, generator=generator, dtype=x.dtype)


class Counter:
    def __init__(self):
        self.count = 0
        self.generator = torch.Generator().manual_seed(0)

    def step(self):
        self.count += 1
        return torch.tensor(float(self.count))

    def draw(self):
        return torch.rand(2, generator=self.generator)

    @classmethod
    def starting_at(cls, start):
        counter = cls()
        counter.count = start
        return counter

    @staticmethod
    def halve(x):
        return x / 2


def extend(cache, x):
    cache[:] = [*cache, x]
    return torch.stack(cache)


def spread(pair):
    return pair.mu1 - pair.mu2


def halve_via(counter):
    return counter.halve(4.0)
'''

GEARS_EXPERIMENT = """
import torch

from .model import Counter, Pair, extend, halve_via, noisy, spread


def noisy_and_draw(ctx):
    want = torch.Generator().manual_seed(1)
    got = noisy(torch.zeros(3), torch.Generator().manual_seed(1))
    ctx.check_close("noisy draws from the generator it is given", got, torch.randn(3, generator=want))
    fresh = torch.Generator().manual_seed(0)
    ctx.check_close("draw uses self.generator", Counter().draw(), torch.rand(2, generator=fresh))


def step_count(ctx):
    counter = Counter()
    counter.step()
    ctx.check_close("step counts once per call", counter.step(), torch.tensor(2.0))
    ctx.check_property("the count is kept on self", counter.count == 2, detail=f"count {counter.count}")


def decorated(ctx):
    ctx.check_property("starting_at is a classmethod", Counter.starting_at(5).count == 5)
    ctx.check_close("halve is a staticmethod", halve_via(Counter()), torch.tensor(2.0))


def extend_fill(ctx):
    cache = [torch.zeros(2)]
    first = cache[0]
    ctx.check_close("extend stacks", extend(cache, torch.ones(2)), torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    ctx.check_property("extend fills the cache it is given", len(cache) == 2, detail=f"{len(cache)} entries")
    ctx.check_property("the cache keeps its own tensors", cache[0] is first, detail="a copy")


def spread_pair(ctx):
    pair = Pair(torch.tensor(3.0), torch.tensor(1.0))
    ctx.check_close("spread of a NamedTuple", spread(pair), torch.tensor(2.0))


def check(ctx):
    # one group's crash leaves the others
    for group in (noisy_and_draw, step_count, decorated, extend_fill, spread_pair):
        try:
            group(ctx)
        except Exception as err:
            ctx.check_property(f"{group.__name__} raised", False, detail=repr(err))
"""


@pytest.fixture
def gears(user_dir: Path) -> practice.PracticePlugin:
    folder = user_dir / "gears"
    folder.mkdir()
    for name, text in (("__init__", GEARS_INIT), ("model", GEARS_MODEL), ("experiment", GEARS_EXPERIMENT)):
        (folder / f"{name}.py").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return practice.practice_plugin("gears")


def failing_checks(plugin: practice.PracticePlugin, solution: object) -> list[str]:
    result = practice.check(plugin.name, solution, isolated=False, record=False)
    assert result.status in ("passed", "failed"), str(result)
    return [line for line in result.lines() if line.startswith("✗")]


def test_the_shadow_run_leaves_explicit_generators_alone(gears: practice.PracticePlugin) -> None:
    # The model solution, run beside the learner's for shapes, drew from the same Generator first.
    failing = failing_checks(gears, gears.model_file)
    assert not [line for line in failing if "noisy" in line or "draw" in line], failing


def test_the_shadow_run_of_a_method_works_on_a_copy_of_self(gears: practice.PracticePlugin) -> None:
    # It ran on the learner's own self: every step() counted twice.
    failing = failing_checks(gears, gears.model_file)
    assert not [line for line in failing if "step" in line or "count" in line], failing


def test_classmethods_and_staticmethods_can_be_exercises(gears: practice.PracticePlugin) -> None:
    assert not failing_checks(gears, gears.model_file)

    def starting_at(cls: type, start: int) -> object:  # the learner's, given as a plain function
        counter = cls()
        counter.count = start + 1
        return counter

    failing = failing_checks(gears, {"Counter.starting_at": starting_at})
    assert failing[0].startswith("✗ starting_at is a classmethod")


def test_a_failing_property_without_a_detail_says_it_does_not_hold(gears: practice.PracticePlugin) -> None:
    # A bare "✗ name" line read like a heading; every failing line says what failed about its comparison.
    def starting_at(cls: type, start: int) -> object:
        return cls()

    assert failing_checks(gears, {"Counter.starting_at": starting_at}) == [
        "✗ starting_at is a classmethod: does not hold"
    ]


def test_a_list_the_target_fills_is_filled_and_namedtuples_stay_namedtuples(
    gears: practice.PracticePlugin,
) -> None:
    failing = failing_checks(gears, gears.model_file)
    assert not [line for line in failing if "extend" in line or "spread" in line], failing
    # the in-place protection still holds: a learner who edits the cache's tensor does not change the caller's

    def extend(cache: list[Any], x: Any) -> Any:
        import torch

        cache[0].add_(5)
        cache[:] = [*cache, x]
        return torch.stack(cache)

    failing = failing_checks(gears, {"extend": extend})
    assert failing[0].startswith("✗ extend stacks: max error 5")
    assert "✗ the cache keeps its own tensors: a copy" not in failing


def test_hints_of_several_exercises_each_name_their_exercise(tmp_path: Path) -> None:
    from readtrack.practice.text import workspace_lines

    plugin = practice.practice_plugin("visualizing-cnns")
    lines = workspace_lines(practice.open_workspace(plugin, tmp_path), hints=3)
    hinted = [line.split(":")[0].strip() for line in lines if line.startswith("  hint ")]
    assert hinted == [
        *(f"hint {i} of 3 for _through_relu" for i in (1, 2, 3)),
        *(f"hint {i} of 3 for unpool" for i in (1, 2, 3)),
    ]
    only = run_cli(
        "practice", "visualizing-cnns", "--dir", str(tmp_path), "--exercise", "unpool", "--hint", "1"
    )
    assert only.returncode == 0, only.stderr
    assert "exercise 2 of 2: unpool" in only.stdout and "_through_relu" not in only.stdout
    assert "hint 1 of 3 for unpool:" in only.stdout
    assert "hints: 3 (readtrack practice visualizing-cnns --exercise unpool --hint 2)" in only.stdout


def test_a_target_in_another_module_is_swapped_in_where_that_module_calls_it(user_dir: Path) -> None:
    folder = user_dir / "boxes"
    folder.mkdir()
    init = TINY_INIT.replace('target="double"', 'target="box_area", module="readtrack.plugin_kit.detection"')
    model = "import torch\n\nfrom readtrack.plugin_kit.detection import box_area, box_iou\n"
    experiment = textwrap.dedent("""
        import torch

        from readtrack.plugin_kit import detection


        def check(ctx):
            a = torch.tensor([[0.0, 0.0, 1.0, 3.0]], dtype=torch.float64)
            b = torch.tensor([[0.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
            want = torch.tensor([[1 / 3]], dtype=torch.float64)
            ctx.check_close("IoU through detection.box_iou", detection.box_iou(a, b), want)
        """)
    for name, text in (("__init__", init), ("model", model), ("experiment", experiment)):
        (folder / f"{name}.py").write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    plugin = practice.practice_plugin("boxes")
    stub = practice.open_workspace(plugin, user_dir / "ws").path.read_text(encoding="utf-8")
    assert "# -- exercise box_area: a copy of readtrack.plugin_kit.detection.box_area" in stub
    assert "\ndef box_area(boxes: torch.Tensor) -> torch.Tensor:\n" in stub

    from readtrack.plugin_kit import detection

    original = detection.box_area

    def box_area(boxes: Any) -> Any:  # width + height: box_iou, in detection.py, must call this one
        return (boxes[..., 2] - boxes[..., 0]) + (boxes[..., 3] - boxes[..., 1])

    failing = failing_checks(plugin, {"box_area": box_area})
    assert failing[0].startswith("✗ IoU through detection.box_iou: max")
    assert not failing_checks(plugin, plugin.model_file)
    assert detection.box_area is original  # put back


def test_a_self_that_cannot_be_copied_is_graded_without_the_shadow_run(
    gears: practice.PracticePlugin, tmp_path: Path
) -> None:
    # A lock cannot be deep-copied: the model solution is not run beside the learner's (on their own self
    # it would count twice); the learner is told the shapes were not compared.
    source = gears.model_file.read_text(encoding="utf-8")
    mine = tmp_path / "model.py"
    mine.write_text(
        "import threading\n"
        + source.replace("self.count = 0\n", "self.count = 0\n        self.lock = threading.Lock()\n"),
        encoding="utf-8",
    )
    result = practice.check("gears", mine, isolated=False, record=False)
    assert result.passed, str(result)
    assert any(
        note.startswith(
            "Counter.step: the model solution was not run beside yours (Counter cannot be copied:"
        )
        for note in result.notes
    ), result.notes


def _model_run(plugin: str, train_s: float, *, quick: bool) -> None:
    """A run of the model solution in history (real SQLite), as `readtrack run` records one."""
    from uuid import uuid4

    from readtrack.history import runs as history
    from readtrack.plugins.records import RunInfo, RunRecord, StageResult

    info = RunInfo(
        uuid4().hex, plugin, plugin, "cpu", ["check", "train"], quick, 0, "2026-11-26T00:00:00+00:00"
    )
    history.record_started(info)
    stages = [StageResult("check", "passed", 2.0), StageResult("train", "passed", train_s)]
    history.record_finished(RunRecord(info, "passed", 2.0 + train_s, stages))


def test_practice_timeouts_come_from_the_model_solutions_time_and_say_it(
    tiny: object, tmp_path: Path
) -> None:
    """`practice gqa --check --train` stopped a correct solution at a fixed 60 s where the model solution's
    full train takes 135 s. A stage's timeout is 3x the model solution's recorded median (at least 60 s),
    else the plugin's own stage timeout; a timeout message says how long the model solution takes."""
    from readtrack.practice.timing import stage_timeout, timeout_advice

    assert stage_timeout("tinypractice", "train", False, declared=600.0) == 600.0  # nothing recorded
    for seconds in (40.0, 50.0, 70.0):
        _model_run("tinypractice", seconds, quick=False)
    _model_run("tinypractice", 5.0, quick=True)
    assert stage_timeout("tinypractice", "train", False, declared=600.0) == 150.0  # 3 x the median, 50 s
    assert stage_timeout("tinypractice", "train", True, declared=600.0) == 60.0  # 3 x 5 s, but at least 60
    assert timeout_advice("tinypractice", "train", False) == (
        "The model solution's train takes 50 s here (full, median of 3 runs); `--timeout S` allows more; "
        "without `--full`, practice trains at quick sizes."
    )

    learner(tmp_path, "return x + x\n")
    quick = run_cli("practice", "tinypractice", "--dir", str(tmp_path / "mine"), "--check", "--train")
    assert quick.returncode == 0, quick.stdout + quick.stderr  # practice trains at quick sizes by default
    assert "· reported: twice two: 4 (the claim, asserted in the full run: ≥ 3.5)" in quick.stdout
    full = run_cli(
        "practice", "tinypractice", "--dir", str(tmp_path / "mine"), "--check", "--train", "--full"
    )
    assert "✓ claim: twice two: 4 (≥ 3.5 needed)" in full.stdout


def test_readtracks_own_failure_to_start_is_never_the_learners(tiny: object, tmp_path: Path) -> None:
    """A torch that cannot be imported in the grading process (a broken install, here a package on
    PYTHONPATH that raises) fails readtrack's part, before the learner's code is touched: the attempt is
    readtrack's error, with the cause, and never "your code's process"."""
    broken = tmp_path / "broken" / "torch"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("a broken torch install")\n', encoding="utf-8")
    learner(tmp_path, "return x + x\n")
    env = {"PYTHONPATH": str(broken.parent)}
    done = run_cli("practice", "tinypractice", "--dir", str(tmp_path / "mine"), "--check", "--json", env=env)
    result = json.loads(done.stdout)
    assert result["status"] == "error", result
    started = "readtrack's grading process failed to start (exit code 1): ImportError"
    assert result["error"].startswith(started)
    assert "a broken torch install" in result["error"] and "your code" not in result["error"]


def test_an_attempt_is_a_run_request_with_the_learners_file() -> None:
    """Practice grades on the executor seam: its request is a run request, and travels as one."""
    from readtrack.batch.request import RunRequest
    from readtrack.practice.isolation import GradeRequest

    attempt = GradeRequest("rmsnorm", 2, "", (("lr", 0.1),), "cpu", True, None, 5.0, solution="/w/model.py",
                           train=True, train_quick=True)  # fmt: skip
    assert isinstance(attempt, RunRequest)
    assert GradeRequest.from_json(attempt.to_json()) == attempt
