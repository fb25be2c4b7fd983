"""The CNN family bench: its members are the lineage's, each network is its paper's (its check catches an
LRN, a residual block or a seeding that is not), and what it costs is counted the same on every run."""

from __future__ import annotations

import pytest
import torch
from readtrack_plugins.cnn_bench import experiment, model
from torch import nn

from readtrack.plugin_kit.cnns import GoogLeNet
from readtrack.plugin_kit.memory import backward_memory
from readtrack.plugins import discovery
from readtrack.plugins.lineages import declared
from readtrack.testing import check_catches, reported_claim, run_stage

EXPERIMENT = "readtrack_plugins.cnn_bench.experiment"


def test_every_member_of_the_cnn_lineage_is_on_the_bench() -> None:
    family = declared(discovery.discovery(include_user=False).hooks).lineages["cnn"]
    assert family.lineage.bench == "cnn-bench"
    assert [m.key for m in family.members] == list(model.MEMBERS)
    measured = {m.key: m.number for m in family.members if m.source == "bench"}
    assert measured == {  # the steps no paper plugin measures
        model.ZFNET: f"{model.ZFNET}: test accuracy, ZF Net's − AlexNet's",
        model.VGGNET: f"{model.VGGNET}: test accuracy, VGG's − ZF Net's",
        model.GOOGLENET: f"{model.GOOGLENET}: parameters, AlexNet's / GoogLeNet's",
    }


def test_what_the_networks_cost_is_counted_not_timed() -> None:
    images, labels = torch.randn(8, 1, 16, 16), torch.zeros(8, dtype=torch.long)
    costs = {}
    for member in model.MEMBERS:
        net = model.network(member, 4, seed=0)

        def step(net: nn.Module = net) -> None:
            nn.functional.cross_entropy(net(images), labels).backward()

        counted = [
            (model.parameters(net), model.forward_flops(net, images[:1]), backward_memory(net, step))
            for _ in range(2)
        ]
        assert counted[0] == counted[1], member  # the same count twice
        costs[member] = counted[0]
    params = {m: c[0] for m, c in costs.items()}
    assert min(params, key=params.__getitem__) == model.GOOGLENET  # the fewest, as in the papers
    assert params[model.ZFNET] > params[model.ALEXNET]  # ZF Net's wider middle layers
    flops = {m: c[1] for m, c in costs.items()}
    assert flops[model.ZFNET] > 2 * flops[model.ALEXNET]  # a stride-1 first layer: 4× the places after it
    plain = model.network(model.RESNET, 4, seed=0, residual=False)
    assert model.parameters(plain) < params[model.RESNET]  # the projections of eq. 2 are gone


def test_the_check_catches_torchs_lrn_constant_taken_for_the_papers(monkeypatch: pytest.MonkeyPatch) -> None:
    # nn.LocalResponseNorm divides α by n: given the paper's α as it stands, the sum counts n times less
    monkeypatch.setattr(
        f"{EXPERIMENT}.paper_lrn", lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    )
    check_catches("cnn-bench", "AlexNet's LRN")


def test_the_check_catches_a_block_that_adds_its_shortcut_after_the_relu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def forward(self: model.BasicBlock, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out) + (self.shortcut(x) if self.residual else 0)  # ReLU(F(x)) + x: not eq. 1

    monkeypatch.setattr(model.BasicBlock, "forward", forward)
    check_catches("cnn-bench", "ResNet's block, eq. 1", "ResNet's block, eq. 2")


def test_the_check_catches_networks_that_do_not_start_from_the_same_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = experiment._network
    drawn = iter(range(1000))
    monkeypatch.setattr(
        f"{EXPERIMENT}._network",
        lambda member, cfg, seed, device: real(member, cfg, seed + next(drawn), device),
    )
    check_catches("cnn-bench", "LeNet-5: the same weights for one seed")


def test_the_parameter_claim_fails_without_the_one_by_one_reductions(monkeypatch: pytest.MonkeyPatch) -> None:
    """GoogLeNet's 12× fewer parameters than AlexNet (the paper's words) holds for the inception module with
    its 1×1 reductions (16×) and fails for the naive module of fig. 2a (5.4×), whatever the training: ten
    steps are enough to reach the target."""
    claim = "cnn-architectures:googlenet: parameters, AlexNet's / GoogLeNet's"
    cheap = {"steps": 10, "images": 200}  # a setting of its own: the claim is reported, with its threshold
    assert reported_claim(run_stage("cnn-bench", "train", settings=cheap), claim).passed
    real = experiment.network
    monkeypatch.setattr(
        f"{EXPERIMENT}.network",
        lambda member, classes, seed, residual=True: (
            GoogLeNet(classes, reduce=False)
            if member == model.GOOGLENET
            else real(member, classes, seed, residual)
        ),
    )
    naive = reported_claim(run_stage("cnn-bench", "train", settings=cheap), claim)
    assert 5 < naive.value < 6 and not naive.passed
