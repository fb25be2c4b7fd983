"""The L-BFGS plugin: torch.optim.LBFGS step for step on more settings, the two-loop recursion against the
dense BFGS matrix, and checks that fail for a recursion with its loops swapped or without ρ."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.lbfgs import experiment
from readtrack_plugins.lbfgs.experiment import _problems, _run
from readtrack_plugins.lbfgs.model import LBFGS, dense_inverse_hessian, two_loop

from readtrack.testing import check_catches, failures, run_stage


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize(("m", "max_iter", "lr"), [(2, 7, 1.0), (5, 40, 0.5), (100, 1, 1.0)])
def test_equals_torch_lbfgs_bit_for_bit(line_search: str | None, m: int, max_iter: int, lr: float) -> None:
    for problem in _problems(torch.float64, "cpu", 3).values():
        options = dict(history_size=m, line_search_fn=line_search, max_iter=max_iter, lr=lr)
        ours, ref = _run(LBFGS, problem, 4, **options), _run(torch.optim.LBFGS, problem, 4, **options)
        assert torch.equal(ours["points"], ref["points"])
        assert ours["state"]["func_evals"] == ref["state"]["func_evals"]


def test_two_loop_equals_dense_inverse_hessian_times_g() -> None:
    n = 6
    M = torch.randn(n, n, dtype=torch.float64)
    A = M @ M.T + n * torch.eye(n, dtype=torch.float64)
    S = [torch.randn(n, dtype=torch.float64) for _ in range(4)]
    Y = [A @ s for s in S]
    rho = [1.0 / y.dot(s) for s, y in zip(S, Y, strict=True)]
    g = torch.randn(n, dtype=torch.float64)
    torch.testing.assert_close(two_loop(g, S, Y, rho, 0.3), -dense_inverse_hessian(S, Y, 0.3) @ g)
    H = dense_inverse_hessian(S, Y, 0.3)  # the secant condition for the newest pair, H y = s
    torch.testing.assert_close(H @ Y[-1], S[-1])


def test_only_strong_wolfe_is_accepted() -> None:
    with pytest.raises(ValueError, match="strong_wolfe"):
        LBFGS([torch.zeros(2, requires_grad=True)], line_search_fn="backtracking")


def loops_swapped(g, S, Y, rho, gamma):  # type: ignore[no-untyped-def]
    """A broken recursion: the first loop runs oldest to newest (and so the second newest to oldest)."""
    rev = lambda xs: list(reversed(xs))  # noqa: E731
    return two_loop(g, rev(S), rev(Y), rev(rho), gamma)


def rho_missing(g, S, Y, rho, gamma):  # type: ignore[no-untyped-def]
    """A broken recursion: ρ_i left out (α_i = s_iᵀq, β = y_iᵀr)."""
    return two_loop(g, S, Y, [torch.ones_like(r) for r in rho], gamma)


@pytest.mark.parametrize("broken", [loops_swapped, rho_missing])
def test_the_check_stage_catches_a_broken_two_loop_recursion(
    monkeypatch: pytest.MonkeyPatch, broken: object
) -> None:
    monkeypatch.setattr(experiment, "two_loop", broken)
    monkeypatch.setattr("readtrack_plugins.lbfgs.model.two_loop", broken)
    check_catches("lbfgs", "two-loop recursion vs", "L-BFGS vs torch.optim.LBFGS")


def no_curvature_pairs(g, S, Y, rho, gamma):  # type: ignore[no-untyped-def]
    """L-BFGS without its idea: the pairs ignored, d = −γ g (scaled steepest descent, still strong Wolfe)."""
    return two_loop(g, [], [], [], gamma)


def test_the_train_claim_fails_without_the_curvature_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("readtrack_plugins.lbfgs.model.two_loop", no_curvature_pairs)
    result = run_stage("lbfgs", "train")
    assert result.verdict() == "failed"
    failed = [t.name for t in result.targets if not t.passed]
    assert any(name.startswith("L-BFGS (m = 10, strong Wolfe)") for name in failed), failures(result)
