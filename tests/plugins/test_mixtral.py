"""The mixtral plugin: sparse dispatch on more shapes, routing details, and checks that fail for a router
that normalises over all experts or a dispatch that drops the second choice."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from readtrack_plugins.mixtral.experiment import dense_reference
from readtrack_plugins.mixtral.model import SparseMoE

from readtrack.testing import failures, run_stage


@pytest.mark.parametrize(("experts", "k", "tokens"), [(4, 1, 5), (8, 2, 33), (6, 3, 16), (2, 2, 3)])
def test_sparse_dispatch_equals_the_dense_definition(experts: int, k: int, tokens: int) -> None:
    moe = SparseMoE(12, 20, experts, k).double()
    x = torch.randn(tokens, 12, dtype=torch.float64)
    torch.testing.assert_close(moe(x), dense_reference(moe, x))


def test_leading_dimensions_are_tokens_too() -> None:
    moe = SparseMoE(8, 16).double()
    x = torch.randn(3, 5, 8, dtype=torch.float64)
    torch.testing.assert_close(moe(x), moe(x.reshape(15, 8)).reshape(3, 5, 8))


def test_weights_are_a_softmax_over_the_chosen_logits_only() -> None:
    moe = SparseMoE(8, 16).double()
    x = torch.randn(10, 8, dtype=torch.float64)
    logits, chosen, weights = moe.route(x)
    torch.testing.assert_close(weights, logits.gather(-1, chosen).softmax(-1))
    assert (logits.gather(-1, chosen[:, :1]) >= logits.max(-1, keepdim=True).values).all()


def softmax_over_all(self: SparseMoE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A broken router: probabilities from the softmax over all experts, not renormalised over the top 2."""
    logits = self.router(x)
    top, chosen = logits.softmax(-1).topk(self.k, dim=-1)
    return logits, chosen, top


def first_choice_only(self: SparseMoE, x: torch.Tensor) -> torch.Tensor:
    """A broken dispatch: only each token's first expert runs."""
    _, chosen, weights = self.route(x)
    y = torch.zeros_like(x)
    for i, expert in enumerate(self.experts):
        token = (chosen[:, 0] == i).nonzero().flatten()
        y.index_add_(0, token, weights[token, :1] * expert(x[token]))
    return y


@pytest.mark.parametrize("attribute,broken", [("route", softmax_over_all), ("forward", first_choice_only)])
def test_the_check_stage_catches_a_broken_router_or_dispatch(
    monkeypatch: pytest.MonkeyPatch, attribute: str, broken: object
) -> None:
    monkeypatch.setattr(f"readtrack_plugins.mixtral.model.SparseMoE.{attribute}", broken)
    result = run_stage("mixtral", "check")
    assert result.verdict() == "failed"
    failed = [c.name for c in result.comparisons if not c.passed]
    assert any(name.startswith(("sparse dispatch", "top-2 routing")) for name in failed), failures(result)


def test_the_balancing_loss_grows_as_routing_collapses() -> None:
    moe = SparseMoE(8, 16).double()
    x = torch.randn(512, 8, dtype=torch.float64)
    with torch.no_grad():
        spread = moe.load_balancing_loss(x).item()
        moe.router.weight[5] += 30 * F.normalize(x.mean(0), dim=0)
        collapsed = moe.load_balancing_loss(x + 20 * F.normalize(x.mean(0), dim=0)).item()
    assert spread < 1.5 < 3.5 < collapsed


def fixed_route(self: SparseMoE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Routing removed: every token goes to experts 0 and 1 with weight 1/2, whatever it is (a dense block
    of 2 experts' size, the active parameters of the MoE)."""
    logits = self.router(x)
    chosen = torch.arange(self.k, device=x.device).expand(x.shape[0], self.k)
    return logits, chosen, torch.full(chosen.shape, 1 / self.k, dtype=x.dtype, device=x.device)


def test_the_train_stage_fails_without_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SparseMoE, "route", fixed_route)
    result = run_stage("mixtral", "train")
    failed = {t.name for t in result.targets if not t.passed}
    assert "test MSE of the MoE / of the dense block with equal active parameters" in failed, failures(result)
