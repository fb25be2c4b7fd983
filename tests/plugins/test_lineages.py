"""Lineages as data (issue 92): what the plugins declare (`readtrack.plugins.lineages`), the built-in families
in time, and each step's number and verdict read from recorded runs (`readtrack.history.lineages`).
The CLI's journeys are tests/cli/test_lineage.py."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from made_records import make_record

from readtrack.catalog.reader import load
from readtrack.history import lineages as view
from readtrack.plugins import discovery
from readtrack.plugins.declaration import PaperPlugin
from readtrack.plugins.lineages import Lineage, Member, arxiv_date, arxiv_serial, collect, declared, order
from readtrack.plugins.records import Measured, RunRecord, StageResult, Target, claim_note

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
SEED_LIST = Path(__file__).resolve().parents[2] / "papers.yaml"

#: The families issue 92 names, each in the order of its papers' dates.
CHAINS = {
    "optimizers": ["lbfgs", "optimizers-bench:sgd-momentum", "adamw:adam", "adamw", "schedule-free"],
    "recurrent": ["rnn", "lstm", "gru", "mamba:s4", "mamba"],
    "cnn": [
        "cnn-architectures:lenet",
        "cnn-architectures:alexnet",
        "cnn-architectures:zfnet",
        "cnn-architectures:vgg",
        "cnn-architectures:googlenet",
        "resnet",
    ],
    "detection": ["r-cnn", "r-cnn:fast", "r-cnn:faster"],
    "attention": ["transformer", "gqa:mqa", "gqa", "sliding-window-attention"],
    "tokenization": ["byt5:bpe", "byt5", "integer-tokenization", "megabyte"],
    "normalization": [
        *("batchnorm", "weightnorm", "layernorm", "instancenorm", "groupnorm"),
        *("rmsnorm", "pre-ln", "deepnorm", "dyt"),
    ],
}


def builtin() -> tuple[dict[str, view.DeclaredLineage], dict[str, PaperPlugin]]:
    found = discovery.discovery(include_user=False)
    plugins = {p.name: p.info for p in found.plugins if isinstance(p, discovery.LoadedPlugin)}
    families = declared(found.hooks)
    assert families.problems == []
    return families.lineages, plugins


def test_an_arxiv_id_dates_its_paper_to_the_month() -> None:
    assert arxiv_date("1706.03762") == (2017, 6)
    assert arxiv_date("2405.15682v3") == (2024, 5)
    assert arxiv_date("cs/9901001") == (1999, 1)
    assert arxiv_date("hep-th/0603001") == (2006, 3)
    assert arxiv_date(None) is None and arxiv_date("not an id") is None


def test_the_built_in_families_are_the_issues_in_the_order_of_their_papers_dates() -> None:
    lineages, plugins = builtin()
    catalog = load(SEED_LIST)
    shown = {name: view.view(family, plugins, catalog, lambda _: []) for name, family in lineages.items()}
    assert {name: [row.member.key for row in v.rows] for name, v in shown.items()} == CHAINS
    for name, lineage in shown.items():
        assert lineage.problems == [], name
        dates = [(row.year, row.month) for row in lineage.rows]
        assert dates == sorted(dates), name  # never by hand: the order is the dates'
    recurrent = {row.member.key: row for row in shown["recurrent"].rows}
    assert (recurrent["rnn"].year, recurrent["rnn"].month) == (1990, 0)  # the list's year: no arXiv id
    assert (recurrent["gru"].year, recurrent["gru"].month) == (2014, 6)  # 1406.1078
    assert recurrent["lstm"].improves == ["rnn"] and recurrent["mamba"].improves == ["mamba:s4"]
    assert recurrent["mamba:s4"].improves == []  # a new branch, not an improvement on the GRU
    attention = {row.member.key: row for row in shown["attention"].rows}
    assert (attention["gqa:mqa"].arxiv, attention["gqa:mqa"].year) == ("1911.02150", 2019)  # MQA's own paper
    assert attention["gqa:mqa"].improves == attention["gqa"].improves == ["transformer"]
    cnn = {row.member.key: row for row in shown["cnn"].rows}
    assert cnn["cnn-architectures:alexnet"].title.startswith("ImageNet Classification")  # the arm's paper
    assert cnn["cnn-architectures:zfnet"].arxiv == "1311.2901"  # ZF Net: the plugin's own paper
    assert cnn["cnn-architectures:alexnet"].arxiv is None  # never the plugin's id for another paper
    optimizers = {row.member.key: row for row in shown["optimizers"].rows}
    assert optimizers["adamw"].status == "read"  # AdamW: the seed list's adamw item
    sgd = optimizers["optimizers-bench:sgd-momentum"]  # the "SGD" of that item: its status, its own year
    assert (sgd.status, sgd.year, sgd.arxiv, sgd.improves) == ("read", 2013, None, [])
    assert optimizers["adamw:adam"].improves == ["optimizers-bench:sgd-momentum"]


def test_every_built_in_step_names_a_claim_its_plugin_calibrates() -> None:
    """A step's number is a target of its plugin's (or its family bench's) quick run, or a claim the run
    reports unasserted: never a plain measured value, which no verdict can be given for; and every plugin
    named exists. A member that says its number is a full run's (``full_run``) names one the full
    calibration has and the quick one has not, so the flag cannot outlive the truth."""
    lineages, plugins = builtin()
    for family in lineages.values():
        for member in family.members:
            assert member.plugin in plugins, member.key
            if not member.number:
                continue
            source = member.plugin if member.source == "plugin" else family.lineage.bench
            assert source is not None, f"{member.key}: a bench number in a family without a bench"
            folder = PLUGINS / source.replace("-", "_")
            record = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
            names = {
                mode: [n for c in record["calibrations"] if c["mode"] == mode for n in c["numbers"]
                       if n["name"] == member.number]
                for mode in ("quick", "full")
            }  # fmt: skip
            named = names["full" if member.full_run else "quick"]
            assert named, f"{member.key}: {member.number!r} is not in its calibration"
            assert any("target" in n for n in named), f"{member.key}: {member.number!r} has no threshold"
            assert not (member.full_run and names["quick"]), f"{member.key}: a quick run gives it"


def test_collect_keeps_what_is_sound_and_says_each_problem_in_one_line() -> None:
    family = Lineage("fam", "A family")
    found = collect(
        [
            [family, Member("fam", "a", year=2001), Member("fam", "b", year=2002)],
            [Lineage("fam", "Again"), Member("nobody", "c"), Member("fam", "a", year=2003)],
            [Member("fam", "d", improves=("zzz",)), "junk"],
        ]
    )
    assert [m.key for m in found.lineages["fam"].members] == ["a", "b"]
    assert found.lineages["fam"].lineage.title == "A family"
    assert found.problems == [
        "lineage fam is declared twice: the second is left out",
        "readtrack_lineages() returned 'junk', expected Lineage or Member",
        "member c names lineage 'nobody', which nobody declares",
        "lineage fam: member a is declared twice",
        "lineage fam: member d improves zzz, not a member",
    ]


def test_a_declaration_is_refused_where_it_is_written() -> None:
    with pytest.raises(ValueError, match="lowercase slug"):
        Lineage("Optimizers", "x")
    with pytest.raises(ValueError, match="arm 'Alex Net'"):
        Member("cnn", "cnn-architectures", arm="Alex Net")
    with pytest.raises(ValueError, match="not an arXiv id"):
        Member("cnn", "resnet", arxiv="15123.03385")
    with pytest.raises(ValueError, match="source"):
        Member("cnn", "resnet", source="elsewhere")
    assert Member("cnn", "resnet", improves="lenet").improves == ("lenet",)  # type: ignore[arg-type]


def test_members_without_a_date_are_set_apart_not_guessed() -> None:
    members = [Member("f", "b", year=2010), Member("f", "a", year=2001), Member("f", "c")]
    dated, undated = order(members, lambda m: (m.year, 0) if m.year else None)
    assert [m.key for m, _ in dated] == ["a", "b"] and [m.key for m in undated] == ["c"]


def test_papers_of_one_month_are_in_the_order_arxiv_numbered_them() -> None:
    """LayerNorm (1607.06450) and InstanceNorm (1607.08022) are both July 2016: arXiv's number breaks the tie,
    whatever order the plugins declared them in (discovery's is alphabetical: instancenorm first)."""
    members = [Member("f", "instancenorm", arxiv="1607.08022"), Member("f", "layernorm", arxiv="1607.06450")]
    dated, _ = order(members, lambda m: arxiv_date(m.arxiv), lambda m: arxiv_serial(m.arxiv))
    assert [m.key for m, _ in dated] == ["layernorm", "instancenorm"]
    assert (
        arxiv_serial("1607.06450") == 6450 and arxiv_serial("cs/9901001") == 1 and arxiv_serial(None) is None
    )


def record_with(plugin: str, run_id: str, started: str, **stage: Any) -> RunRecord:
    record = make_record(plugin, run_id=run_id, started_at=started)
    record.stages = [StageResult("train", "passed", 1.0, **stage)]
    return record


def verdict(name: str, records: list[RunRecord]) -> str | None:
    found = view.find_number(name, records)
    assert found is not None
    return found.verdict


def test_a_steps_verdict_is_read_from_the_newest_record_that_holds_its_number() -> None:
    older = record_with("p", "old", "2026-01-01T00:00:00+00:00", targets=[Target("gap", 0.3, 0.2)])
    newer = record_with("p", "new", "2026-02-01T00:00:00+00:00", targets=[Target("other", 1.0, 0.5)])
    found = view.find_number("gap", [newer, older])  # newest first; the newer has no "gap"
    assert found is not None and found.run_id == "old" and found.verdict == view.HELD and found.asserted
    failing = record_with("p", "f", "2026-03-01T00:00:00+00:00", targets=[Target("gap", 0.1, 0.2)])
    assert verdict("gap", [failing, older]) == view.NOT_HELD
    lower = Target("loss", 0.3, 0.2, higher_is_better=False)
    assert verdict("loss", [record_with("p", "l", "t", targets=[lower])]) == view.NOT_HELD
    nan = record_with("p", "n", "t", targets=[Target("gap", math.nan, 0.2)])
    assert verdict("gap", [nan]) == view.NOT_HELD
    reported = Measured("parity", 0.04, claim_note(0.1, False))  # a claim reported, not asserted
    number = view.find_number("parity", [record_with("p", "r", "t", measured=[reported])])
    assert number is not None and number.verdict == view.HELD and not number.asserted
    assert number.claim() == "0.04 (≤ 0.1)"
    plain = view.find_number("raw", [record_with("p", "m", "t", measured=[Measured("raw", 2.0)])])
    assert plain is not None and plain.verdict is None  # a measured value with no claim: no verdict
    assert view.find_number("gap", []) is None


def test_a_row_says_not_run_until_a_record_has_its_number_and_nothing_for_a_member_without_one() -> None:
    lineages, plugins = builtin()
    catalog = load(SEED_LIST)
    gru_target = "GRU: test MSE on the adding problem"
    records = {"gru": [record_with("gru", "g1", "t", targets=[Target(gru_target, 0.004, 0.05, False)])]}
    shown = view.view(lineages["recurrent"], plugins, catalog, lambda p: records.get(p, []))
    verdicts = {row.member.key: row.verdict for row in shown.rows}
    assert verdicts == {
        "rnn": "not run",
        "lstm": "not run",
        "gru": "held",
        "mamba:s4": None,
        "mamba": "not run",
    }
    gru = next(row for row in shown.rows if row.member.key == "gru").to_json()
    assert gru["number"] == 0.004 and gru["threshold"] == 0.05 and gru["run"]["run_id"] == "g1"
    assert gru["improves"] == ["lstm"] and gru["status"] == "todo" and gru["year"] == 2014


def test_a_step_whose_newest_run_broke_says_so_instead_of_looking_never_run() -> None:
    lineages, plugins = builtin()
    xor = "RMS error predicting a XOR bit"
    good = record_with(
        "rnn", "good-run", "2026-01-01T00:00:00+00:00", targets=[Target(xor, 0.03, 0.2, False)]
    )
    broken = make_record("rnn", run_id="broken-run", started_at="2026-02-01T00:00:00+00:00")
    broken.status = "error"
    broken.stages = [StageResult("train", "error", 0.1, error="RuntimeError: shapes do not match")]
    records = {"rnn": [broken, good]}
    shown = view.view(lineages["recurrent"], plugins, load(SEED_LIST), lambda p: records.get(p, []))
    rnn = shown.rows[0]
    assert rnn.verdict == view.HELD and rnn.number is not None and rnn.number.run_id == "good-run"
    assert (
        rnn.note == "its newest run, broken-r, ended error with no such number "
        "(train: RuntimeError: shapes do not match)"
    )
    records["rnn"] = [broken]
    alone = view.view(lineages["recurrent"], plugins, load(SEED_LIST), lambda p: records.get(p, []))
    assert alone.rows[0].verdict == view.NOT_RUN and alone.rows[0].note.startswith(
        "its newest run, broken-r,"
    )


def test_a_full_runs_number_says_which_run_gives_it_until_one_has() -> None:
    # R-CNN's step: a full run's number of its family bench, so it names the bench's run, not the member's
    lineages, plugins = builtin()
    ap50 = "r-cnn: AP50 on the test scenes, the hand-made proposals"
    bench = "detection-bench"
    quick = record_with(bench, "quick-run", "2026-02-01T00:00:00+00:00", measured=[Measured("other", 1.0)])
    records: dict[str, list[RunRecord]] = {bench: [quick]}

    def row() -> view.Row:
        shown = view.view(lineages["detection"], plugins, load(SEED_LIST), lambda p: records.get(p, []))
        return next(r for r in shown.rows if r.member.key == "r-cnn")

    assert row().verdict == view.NOT_RUN and row().note == f"a full run's number: readtrack run {bench}"
    full = record_with(bench, "full-run", "2026-01-01T00:00:00+00:00", targets=[Target(ap50, 1.0, 0.5)])
    full.info.quick = False
    records[bench] = [quick, full]  # a later quick run does not hide the full run's number
    shown = row()
    assert shown.verdict == view.HELD and shown.number is not None and shown.number.run_id == "full-run"
    assert row().note == ""
    broken = make_record(bench, run_id="broken-full", started_at="2026-03-01T00:00:00+00:00")
    broken.info.quick, broken.status = False, "error"
    broken.stages = [StageResult("train", "error", 0.1, error="RuntimeError: out of memory")]
    records[bench] = [broken, quick, full]  # the newest full run broke: said, the older number still shown
    assert row().verdict == view.HELD and row().note.startswith("its newest run, broken-f, ended error")


def test_an_implementation_that_raises_is_one_problem_and_the_others_are_still_read() -> None:
    from types import SimpleNamespace

    from readtrack.plugins.discovery import new_plugin_manager
    from readtrack.plugins.markers import hookimpl

    @hookimpl
    def raising() -> list[object]:
        raise RuntimeError("boom")

    @hookimpl
    def sound() -> list[object]:
        return [Lineage("fam", "A family"), Member("fam", "a", year=2001)]

    manager = new_plugin_manager()
    manager.register(SimpleNamespace(readtrack_lineages=sound), name="sound")
    manager.register(SimpleNamespace(readtrack_lineages=raising), name="raising")
    found = declared(manager)
    assert found.problems == ["raising: readtrack_lineages() raised RuntimeError: boom"]
    assert [m.key for m in found.lineages["fam"].members] == ["a"]


def test_a_number_with_no_claim_is_shown_as_measured_and_a_bench_number_without_a_bench_is_said() -> None:
    from readtrack.plugins.lineages import DeclaredLineage
    from readtrack.render.lineages import chain

    family = DeclaredLineage(
        Lineage("fam", "A family"),
        [
            Member("fam", "gru", what="raw", number="raw speed"),
            Member("fam", "lstm", year=1997, what="benched", number="lstm: loss", source="bench"),
        ],
    )
    _, plugins = builtin()
    raw = record_with("gru", "g", "t", measured=[Measured("raw speed", 2.5)])
    shown = view.view(family, plugins, load(SEED_LIST), lambda p: [raw] if p == "gru" else [])
    assert shown.problems == ["member lstm takes its number from the family bench, which lineage fam has not"]
    text = " ".join(" ".join(chain(shown, 100)).split())
    assert "raw speed: 2.5 (measured, no claim)" in text
    assert shown.rows[1].to_json()["verdict"] is None  # a plain value: nothing to judge
