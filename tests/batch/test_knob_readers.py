"""Which knobs each stage reads (issue 84, item 9): `readtrack.batch.knob_readers` follows the object
``ctx.config(Config)`` returns through the experiments module, per knob, and answers every knob whenever it
loses sight of it. Small synthetic modules for each case, then the real shelf, read from source."""

from __future__ import annotations

import ast
import importlib.util

import pytest

from readtrack.batch import sweep
from readtrack.batch.knob_readers import EVERY_STAGE, KnobReaders, knob_readers, plugin_knob_readers
from readtrack.plugins.discovery import discover
from readtrack.plugins.knobs import builtin_package
from readtrack.render.picture_bench import bench_reads_knobs

HEAD = "from .config import Config\nfrom .model import Net\n\n\n"


def knobs(source: str, stage: str = "train") -> frozenset[str] | None:
    """The knob names ``stage`` of ``source`` may read; None for every knob."""
    return knob_readers(HEAD + source).knobs_of(stage)


def test_a_direct_read_is_that_knob_alone() -> None:
    assert knobs("def train(ctx):\n    cfg = ctx.config(Config)\n    return cfg.lr * cfg.steps\n") == {
        "lr",
        "steps",
    }
    assert knobs("def bench(ctx):\n    run(ctx.config(Config).kernel)\n", "bench") == {"kernel"}
    aliased = (
        "def train(ctx):\n    cfg: Config = ctx.config(Config)\n    c = cfg\n    if (d := c):\n        d.lr\n"
    )
    assert knobs(aliased) == {"lr"}
    assert knobs("def train(ctx):\n    ctx.config(Config)\n") == frozenset()  # called, nothing read


def test_a_config_passed_to_a_helper_of_the_module_is_followed_into_its_parameter() -> None:
    helper = """
def train(ctx):
    cfg = ctx.config(Config)
    fit(ctx, cfg.steps, settings=cfg)


def fit(ctx, steps, settings):
    return settings.lr * steps
"""
    assert knobs(helper) == {"steps", "lr"}
    positional = "def train(ctx):\n    fit(ctx.config(Config))\n\ndef fit(c, /):\n    return c.width\n"
    assert knobs(positional) == {"width"}
    # before a starred argument the places are fixed: cnn-bench's _costs(ctx, cfg, member, *data["train"])
    starred = "def train(ctx):\n    fit(ctx, ctx.config(Config), *rest)\n\ndef fit(ctx, c, x, y):\n    c.lr\n"
    assert knobs(starred) == {"lr"}
    after = "def train(ctx):\n    fit(ctx, *rest, ctx.config(Config))\n\ndef fit(ctx, x, c):\n    c.lr\n"
    assert knobs(after) is None  # after it, the place depends on rest's length: every knob


def test_a_helper_of_a_helper_and_a_recursive_one_are_followed() -> None:
    chain = """
def train(ctx):
    outer(ctx.config(Config))


def outer(cfg):
    inner(cfg.depth, cfg)


def inner(depth, cfg):
    return depth and inner(depth - 1, cfg) + cfg.width
"""
    assert knobs(chain) == {"depth", "width"}


def test_a_helper_that_reads_config_itself_counts_for_the_stage_that_refers_to_it() -> None:
    """Called, or only named (``partial(helper, ctx)``): what it reads, the stage reads."""
    named = "def bench(ctx):\n    measure(partial(timed, ctx))\n\ndef timed(ctx):\n    ctx.config(Config).n\n"
    assert knobs(named, "bench") == {"n"}
    # a local name that hides the module's function is not it (bench's ``train`` dict is no call of train)
    hidden = (
        "def train(ctx):\n    ctx.config(Config).lr\n\ndef bench(ctx):\n    train = {}\n    run(**train)\n"
    )
    assert knobs(hidden, "bench") == frozenset()


@pytest.mark.parametrize(
    "escape",
    [
        "Net(cfg)",  # a constructor of model.py: out of this module's sight
        "Net(width=cfg)",
        "getattr(cfg, name)",
        "vars(cfg)",
        "Net(**asdict(cfg))",
        "print([cfg])",  # stored in a container
        "helper(*[cfg])",
        "helper(**{'cfg': cfg})",
        "helper(other=cfg)",  # no parameter of that name
        "cfg.lr = 1",  # written
        "return cfg",
        "copy = cfg if ctx.quick else None",
    ],
)
def test_a_config_that_escapes_reads_every_knob(escape: str) -> None:
    source = f"def train(ctx):\n    cfg = ctx.config(Config)\n    cfg.steps\n    {escape}\n\n"
    source += "def helper(cfg):\n    cfg.a\n"
    assert knobs(source) is None
    assert knob_readers(HEAD + source).reads("train", ["anything"])


def test_a_config_escaping_in_a_helper_makes_the_stage_read_every_knob() -> None:
    source = "def train(ctx):\n    fit(ctx.config(Config))\n\ndef fit(cfg):\n    return Net(cfg)\n"
    assert knobs(source) is None
    returned = "def train(ctx):\n    cfg = settings(ctx)\n    cfg.lr\n\n"
    returned += "def settings(ctx):\n    return ctx.config(Config)\n"
    assert knobs(returned) is None
    taken = "def train(ctx):\n    read = ctx.config\n    read(Config).lr\n"
    assert knobs(taken) is None
    in_a_class = "class Trainer:\n    def go(self, ctx):\n        ctx.config(Config).lr\n\n"
    in_a_class += "def train(ctx):\n    Trainer().go(ctx)\n"
    assert knobs(in_a_class) is None


def test_two_configs_and_two_stages_each_keep_their_own_knobs() -> None:
    source = """
def check(ctx):
    kernel = ctx.config(Config).kernel
    verify(kernel)


def train(ctx):
    a = ctx.config(Config)
    b = ctx.config(Config)
    return a.lr, b.steps


def bench(ctx):
    measure(ctx.config(Config).kernel, ctx.config(Config).width)
"""
    found = knob_readers(HEAD + source)
    assert found.defined == found.reading == ("check", "train", "bench")
    assert dict(found.names) == {"check": {"kernel"}, "train": {"lr", "steps"}, "bench": {"kernel", "width"}}
    assert found.reads("bench", ["width"]) and found.reads("check", ["lr", "kernel"])
    assert not found.reads("bench", ["lr", "steps"]) and not found.reads("check", ["width"])
    assert found.blind(("check", "train", "bench")) == ()  # per stage: each reads a knob, as before


def test_the_per_stage_answer_and_what_cannot_be_read_are_as_before() -> None:
    stages = "from .common import train\n\ndef check(ctx):\n    pass\n"
    imported = knob_readers(stages)
    assert imported.reading == ("train",) and imported.knobs_of("train") is None  # bound by an import
    assert not imported.reads("check", ["lr"]) and imported.reads("train", ["lr"])
    assert imported.reads("bench", ["lr"])  # not defined: the runner says so; the plan does not judge it
    assert knob_readers("def check(ctx:\n") == EVERY_STAGE
    assert all(EVERY_STAGE.reads(s, ["lr"]) for s in ("check", "train", "bench"))
    assert KnobReaders(("train",), ("train",)).knobs_of("train") is None  # made without names: every knob


def shelf() -> list[tuple[str, str, KnobReaders]]:
    """Each built-in plugin: its name, its experiments module's source and what `knob_readers` finds."""
    found = []
    for plugin in discover():
        if plugin.status != "ok" or plugin.info is None or builtin_package(plugin.name) is None:
            continue
        module = f"{plugin.info.package}.{plugin.info.experiments}"
        source = importlib.util.find_spec(module).loader.get_source(module)  # type: ignore[union-attr]
        found.append((plugin.name, source, plugin_knob_readers(plugin.info.package, plugin.info.experiments)))
    assert len(found) > 50
    return found


def per_stage(source: str) -> tuple[str, ...]:
    """The per-stage rule as it stood before the per-knob one: a stage reads knobs when it, or a module
    function it calls by plain name (transitively), holds an attribute ``.config``."""
    tree = ast.parse(source)
    functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}

    def reads(name: str, seen: set[str]) -> bool:
        if name in seen or name not in functions:
            return False
        seen.add(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Attribute) and node.attr == "config":
                return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and reads(node.func.id, seen):
                return True
        return False

    return tuple(s for s in ("check", "train", "bench") if s in functions and reads(s, set()))


def test_on_the_shelf_the_per_knob_answer_never_adds_a_reader_to_the_per_stage_one() -> None:
    """Every built-in plugin: a stage the per-stage rule called knob-blind reads no knob per knob either,
    and each stage's knobs could be told (no built-in stage lets its config escape)."""
    for name, source, readers in shelf():
        before = per_stage(source)
        assert set(readers.reading) <= set(before), (name, readers.reading, before)
        for stage in readers.defined:
            assert readers.knobs_of(stage) is not None, (name, stage)


def test_on_the_shelf_benches_read_their_own_knobs_not_the_training_ones() -> None:
    found = {name: readers for name, _, readers in shelf()}
    assert found["flashattention"].knobs_of("bench") == {"kernel"}
    assert found["seq2seq"].knobs_of("bench") == {"hidden", "seq_len", "symbols"}
    assert found["whisper"].knobs_of("bench") == {"d_model", "layers"}
    assert found["segmentation"].knobs_of("bench") == {"width"}
    for plugin in ("flashattention", "seq2seq", "whisper", "segmentation", "integer-tokenization"):
        assert "bench" in found[plugin].reading  # per stage it reads knobs: a sweep of lr used to time it
        assert not found[plugin].reads("bench", ["lr", "steps"]), plugin
        assert found[plugin].reads("train", ["lr"]), plugin
    assert bench_reads_knobs("seq2seq") and not bench_reads_knobs("seq2seq", ["lr"])
    assert bench_reads_knobs("seq2seq", ["lr", "hidden"]) and not bench_reads_knobs("adamw", ["lr"])


def test_a_sweep_of_a_knob_the_bench_does_not_read_runs_the_bench_once() -> None:
    """seq2seq's bench reads hidden, seq_len and symbols: a sweep of lr times it once, at the defaults; a
    sweep of hidden times it at every setting."""
    readers = next(readers for name, _, readers in shelf() if name == "seq2seq")
    lr = [("seq2seq", ()), ("seq2seq", (("lr", 0.003),)), ("seq2seq", (("lr", 0.01),))]
    planned = sweep.sweep_of("seq2seq", lr, [0, 1], None, readers)
    assert planned.stages == [("check", "train", "bench"), ("train",), ("train",)]
    assert planned.blind == ("check",)  # reads no knob at all: the runner warns if it calls ctx.config
    assert planned.unswept == ("check", "bench")
    assert planned.blind_note() == "check and bench do not read lr: run at the defaults only"
    hidden = [("seq2seq", ()), ("seq2seq", (("hidden", 32),)), ("seq2seq", (("hidden", 128), ("lr", 0.01)))]
    planned = sweep.sweep_of("seq2seq", hidden, [0], "bench", readers)
    assert planned.stages == [("bench",), ("bench",), ("bench",)] and planned.blind_note() == ""
    only_bench = sweep.sweep_of("seq2seq", lr, [0], "bench", readers)
    assert only_bench.arms == [("seq2seq", ())] and not only_bench.swept
    assert only_bench.blind_note() == "bench does not read lr: run once at the defaults"
