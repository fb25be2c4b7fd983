"""``readtrack.plugin_kit.mlm``: BERT's 80/10/10 corruption, the masked-LM loss, the right-neighbour copy
task and the exact Bayes ceiling of masked accuracy on it (checked against an empirical Bayes predictor)."""

from __future__ import annotations

import pytest
import torch

from readtrack.plugin_kit.mlm import IGNORE, ceiling, mask_tokens, masked_accuracy, mlm_loss, right_copy_batch


def test_every_odd_position_copies_its_right_neighbour() -> None:
    x = right_copy_batch(8, 9, torch.Generator().manual_seed(0), vocab=5)
    assert x.shape == (8, 9) and int(x.max()) < 5
    assert torch.equal(x[:, 1::2], x[:, 2::2])
    assert not torch.equal(x[:, 0::2][:, 1:], x[:, 0::2][:, :-1])  # the pairs themselves are random
    assert torch.equal(x, right_copy_batch(8, 9, torch.Generator().manual_seed(0), vocab=5))
    with pytest.raises(ValueError, match="odd"):
        right_copy_batch(2, 8, torch.Generator())


def test_masking_changes_and_scores_only_selected_positions() -> None:
    tokens = torch.randint(0, 10, (512, 33), generator=torch.Generator().manual_seed(1))
    inputs, labels = mask_tokens(tokens, torch.Generator().manual_seed(2), mask_id=10, vocab=10)
    selected = labels != IGNORE
    assert torch.equal(inputs[~selected], tokens[~selected])
    assert torch.equal(labels[selected], tokens[selected])
    assert int(inputs.max()) <= 10
    picked, original = inputs[selected], tokens[selected]
    n = len(picked)
    assert abs(n / tokens.numel() - 0.15) < 0.01
    assert abs(float((picked == 10).float().mean()) - 0.8) < 0.02
    assert abs(float((picked == original).float().mean()) - 0.1 - 0.1 / 10) < 0.015
    again = mask_tokens(tokens, torch.Generator().manual_seed(2), mask_id=10, vocab=10)
    assert torch.equal(again[0], inputs) and torch.equal(again[1], labels)


def test_the_loss_and_accuracy_count_selected_positions_only() -> None:
    labels = torch.full((2, 5), IGNORE)
    labels[0, 1], labels[1, 4] = 3, 0
    logits = torch.randn(2, 5, 6, dtype=torch.float64)
    expected = -(logits[0, 1].log_softmax(-1)[3] + logits[1, 4].log_softmax(-1)[0]) / 2
    torch.testing.assert_close(mlm_loss(logits, labels), expected)
    moved = logits.clone()
    moved[0, 0] += 100.0  # an unselected position
    torch.testing.assert_close(mlm_loss(moved, labels), expected)
    right = torch.zeros(2, 5, 6)
    right[0, 1, 3] = right[1, 4, 1] = 1.0  # first right, second wrong
    assert masked_accuracy(right, labels) == 0.5
    assert masked_accuracy(right, labels, slice(1, None, 2)) == 1.0  # position 1 only


def test_ceilings_have_their_closed_forms() -> None:
    V = 16
    # Seeing only itself: [MASK] → chance; otherwise read the token, right with P(0.1 + 0.1/V) of 0.2.
    assert ceiling(V, sees_partner=False) == pytest.approx(0.8 / V + 0.1 + 0.1 / V, abs=1e-15)
    assert ceiling(V, sees_partner=True) > 0.85 + 0.15 * ceiling(V, sees_partner=False)


@pytest.mark.parametrize("sees_partner", [False, True])
def test_ceiling_equals_an_empirical_bayes_predictor(sees_partner: bool) -> None:
    """Simulate a pair under the corruption, learn the best guess of each observation by counting, and
    score it on fresh samples: it must approach the enumerated ceiling."""
    V, n = 4, 400_000
    g = torch.Generator().manual_seed(0)

    def sample() -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randint(0, V, (n, 1), generator=g)  # the pair's token
        inputs, labels = mask_tokens(x.repeat(1, 2), g, mask_id=V, vocab=V)  # (target, partner)
        keep = labels[:, 0] != IGNORE  # the target (position 0 of the pair) is selected
        o = inputs[keep, 0] * (V + 1) + (inputs[keep, 1] if sees_partner else 0)
        return o, x[keep, 0]

    o, x = sample()
    counts = torch.zeros((V + 1) ** 2, V).index_put_((o, x), torch.ones(len(o)), accumulate=True)
    guess = counts.argmax(-1)
    o, x = sample()
    empirical = float((guess[o] == x).float().mean())
    assert empirical == pytest.approx(ceiling(V, sees_partner=sees_partner), abs=0.006)
