"""How a number spreads over seeds: mean, standard deviation, a Student-t 95% interval, min and max.

A multi-seed run (``readtrack run NAME --seeds 0-4``) reports each target and measured value of the plugin
this way; a target *holds* only when it passed on every seed. Pure Python (``math`` and ``statistics``): the
CLI and the TUI read it without torch or scipy.

A ratio (a number whose name holds " / " or the word "ratio", every value positive: `Spread.log_scale`) has
its interval computed on the log scale, the t interval of the logs exponentiated: the interval of its
geometric mean, never negative (a ratio's seeds spread by factors, and its linear interval at two seeds
reached -2.9 for values all above 1). Below `MIN_RUNS` values a comparison gives no verdict.

The t quantile comes from inverting Student's t CDF, written with the regularised incomplete beta function
(Numerical Recipes' continued fraction, §6.4) and bisection; ``tests/test_spread.py`` checks it against the
published table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from readtrack.plugins.records import RunInfo, RunRecord, RunStatus, float_or_nan


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz, Numerical Recipes 6.4)."""
    tiny, eps = 1e-300, 1e-15
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (bisection on :func:`t_cdf`)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must lie in (0, 1), not {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        if t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
        if high - low < 1e-12 * max(1.0, high):
            break
    return 0.5 * (low + high)


#: Fewer runs than this of a number give no verdict when two settings are compared: with two, a 95% t
#: interval spans ±12.7 standard errors (one degree of freedom), so "the intervals overlap" says nothing.
MIN_RUNS = 3

#: How a number's name says it is a ratio (``"time flash / SDPA"``, ``"loss ratio"``): nothing in a record
#: marks one, so the name is the signal, as the plugins write them (`is_ratio`).
_RATIO_NAME = re.compile(r" / |\bratios?\b", re.IGNORECASE)


def is_ratio(name: str) -> bool:
    """Whether ``name`` names a ratio: it holds " / " (``a / b``) or the word "ratio"."""
    return _RATIO_NAME.search(name) is not None


#: A number this near zero is round-off, not a value: float64's is 2.2e-16 of the numbers summed, times how
#: many were (a reference's max abs error of 6.661e-16 beside 5.551e-17 says two things are equal, no more).
ROUND_OFF = 1e-12
#: Two numbers nearer than this share of the larger print the same to the 4 significant digits every table
#: shows (`readtrack.render.cells.fmt_number`): under half a unit of their last printed digit.
PRINTED = 5e-5


def at_round_off(value: float) -> bool:
    """Whether ``value`` is zero up to round-off (`ROUND_OFF`), 0 itself included."""
    return math.isfinite(value) and abs(value) <= ROUND_OFF


def same_printed(a: float, b: float) -> bool:
    """Whether ``a`` and ``b`` differ by less than what a table prints of them: relatively, below their 4th
    significant digit (`PRINTED`), or near zero, both at round-off (`at_round_off`). Numbers that print the
    same are not said to differ."""
    if not (math.isfinite(a) and math.isfinite(b)):
        return a == b or (math.isnan(a) and math.isnan(b))
    if at_round_off(a) and at_round_off(b):
        return True
    return abs(a - b) <= PRINTED * max(abs(a), abs(b))


def _exp(x: float) -> float:
    """e**x, infinite past a float's range (a ratio's interval at two wildly apart seeds)."""
    return math.exp(x) if x < 709.0 else math.inf


@dataclass
class Spread:
    """One number of a plugin over several seeds (a target when ``target`` is set, else a measured value).

    ``values`` and ``passed`` follow ``seeds``; a seed whose run did not record the number has NaN there (and
    ``passed`` False), so a target holds only when every seed reached it.
    """

    name: str
    kind: str  # target | measured
    seeds: list[int]
    values: list[float]
    passed: list[bool] = field(default_factory=list)
    target: float | None = None
    higher_is_better: bool = True
    #: per seed: whether its run recorded this number at all (a NaN value may be a recorded NaN)
    recorded: list[bool] = field(default_factory=list)

    @property
    def finite(self) -> list[float]:
        return [v for v in self.values if math.isfinite(v)]

    @property
    def mean(self) -> float:
        from statistics import fmean  # (2.7 ms to import: not for `show`, which reads a group's seeds)

        return fmean(self.finite) if self.finite else math.nan

    @property
    def std(self) -> float:
        """The sample standard deviation (n - 1); NaN with fewer than two values."""
        from statistics import stdev

        return stdev(self.finite) if len(self.finite) > 1 else math.nan

    @property
    def log_scale(self) -> bool:
        """Whether the interval is computed on the log scale: a ratio (`is_ratio`) whose every value is
        positive."""
        return is_ratio(self.name) and bool(self.finite) and all(v > 0 for v in self.finite)

    @property
    def ci95(self) -> tuple[float, float]:
        """The 95% confidence interval of the mean, mean ± t(0.975, n - 1)·s/√n (NaN below two values); of a
        ratio (`log_scale`), that interval of the logs, exponentiated (of the geometric mean: positive)."""
        n = len(self.finite)
        if n < 2:
            return math.nan, math.nan
        values = [math.log(v) for v in self.finite] if self.log_scale else self.finite
        from statistics import fmean, stdev

        centre = fmean(values)
        half = t_quantile(0.975, n - 1) * stdev(values) / math.sqrt(n)
        if self.log_scale:
            return _exp(centre - half), _exp(centre + half)
        return centre - half, centre + half

    @property
    def low(self) -> float:
        return min(self.finite) if self.finite else math.nan

    @property
    def high(self) -> float:
        return max(self.finite) if self.finite else math.nan

    @property
    def n_passed(self) -> int:
        return sum(self.passed)

    @property
    def holds(self) -> bool | None:
        """For a target: whether it passed on every seed; None for a measured value."""
        return None if self.kind != "target" else bool(self.passed) and all(self.passed)

    def failing_seeds(self) -> list[int]:
        return [seed for seed, ok in zip(self.seeds, self.passed, strict=True) if not ok]

    def unrecorded_seeds(self) -> list[int]:
        """The seeds whose run did not record this number (a run that stopped early, or a name that changes
        with the seed: a picked rate or the seed itself in it, which a multi-seed run cannot line up)."""
        if not self.recorded:  # a Spread built by hand, or read back from a file: nothing known
            return []
        return [seed for seed, ok in zip(self.seeds, self.recorded, strict=True) if not ok]

    def to_dict(self) -> dict[str, object]:
        low, high = self.ci95
        return {
            "name": self.name,
            "kind": self.kind,
            "seeds": self.seeds,
            "values": self.values,
            "passed": self.passed if self.kind == "target" else None,
            "target": self.target,
            "higher_is_better": self.higher_is_better,
            "mean": self.mean,
            "std": self.std,
            "ci95": [low, high],
            "ci95_scale": "log" if self.log_scale else "linear",
            "min": self.low,
            "max": self.high,
            "n_passed": self.n_passed if self.kind == "target" else None,
            "holds": self.holds,
        }


def seed_dependent(found: Sequence[Spread], records: Sequence[RunRecord]) -> list[Spread]:
    """The numbers that some seed's *finished* run (no stage ended in an error, a timeout or a cancel, which
    skip the rest) did not record: their name changes with the seed, so the seeds' values cannot be lined up
    (put what varies in the detail instead)."""
    stopped = ("error", "timeout", "cancelled")
    finished = {r.info.seed for r in records if not any(st.status in stopped for st in r.stages)}
    return [s for s in found if any(seed in finished for seed in s.unrecorded_seeds())]


def spreads(records: Sequence[RunRecord]) -> list[Spread]:
    """Every target and measured value of ``records`` (one run per seed of one plugin), as first seen."""
    seeds, n = [r.info.seed for r in records], len(records)
    found: dict[tuple[str, str], Spread] = {}
    for i, record in enumerate(records):
        for stage in record.stages:
            for t in stage.targets:
                spread = found.setdefault(
                    ("target", t.name),
                    Spread(t.name, "target", seeds, [math.nan] * n, [False] * n, recorded=[False] * n),
                )
                spread.values[i], spread.passed[i], spread.recorded[i] = t.value, t.passed, True
                spread.target, spread.higher_is_better = t.target, t.higher_is_better
            for m in stage.measured:
                spread = found.setdefault(
                    ("measured", m.name),
                    Spread(m.name, "measured", seeds, [math.nan] * n, recorded=[False] * n),
                )
                spread.values[i], spread.recorded[i] = m.value, True
                if m.claim is not None:  # a target reported, not asserted: the threshold it is held to
                    spread.target, spread.higher_is_better = m.claim
    return list(found.values())


# -- a group: one plugin on several seeds, recorded together with its spread ----------------------------
#: Why a seed of a group has no run when the batch was cancelled before it finished (`GroupRecord.missing`):
#: such a seed is what ``readtrack run --resume`` runs (`readtrack.history.resume`).
CANCELLED_BEFORE_END = "cancelled before it finished"


@dataclass
class GroupRecord:
    """One plugin run on several seeds at once (``readtrack run NAME --seeds 0-4``): its runs, one per seed in
    seed order, recorded in history together. ``status`` is ``passed`` only when every seed's run passed
    (a claim holds only when it holds on every seed), else the worst seed's status; ``missing`` lists seeds
    whose worker ended without a record, with the reason."""

    group_id: str
    plugin: str
    seeds: list[int]
    started_at: str
    status: RunStatus
    duration_s: float
    runs: list[RunRecord] = field(default_factory=list)
    missing: dict[int, str] = field(default_factory=dict)

    @property
    def info(self) -> RunInfo:
        """The first seed's run info (device, quick, threads are shared by every seed)."""
        return self.runs[0].info

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "plugin": self.plugin,
            "settings": self.runs[0].info.settings if self.runs else {},  # what the numbers belong to
            "seeds": self.seeds,
            "started_at": self.started_at,
            "status": self.status,
            "duration_s": self.duration_s,
            "missing": {str(seed): why for seed, why in self.missing.items()},
            "spread": [s.to_dict() for s in spreads(self.runs)],
            "runs": [r.to_dict() for r in self.runs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupRecord:
        return cls(
            group_id=data["group_id"],
            plugin=data["plugin"],
            seeds=[int(s) for s in data["seeds"]],
            started_at=data["started_at"],
            status=data["status"],
            duration_s=float_or_nan(data.get("duration_s")),
            runs=[RunRecord.from_dict(r) for r in data.get("runs", [])],
            missing={int(seed): why for seed, why in data.get("missing", {}).items()},
        )
