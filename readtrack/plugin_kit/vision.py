"""A small image classifier and its training loop, shared by the CNN plugins (cnn-architectures,
visualizing-cnns, deepdream), each of which trains a network on the procedural shapes of
:mod:`readtrack.plugin_kit.images` and then studies it.

- :class:`ShapesLeNet`: a LeNet-5-style network (LeCun et al. 1998) for small one-channel images: two
  convolution → activation → 2×2 pooling stages, then three fully connected layers; its pieces are named
  (``conv1``, ``conv2``, ``fc1`` … ``fc3``) so that a plugin can run it layer by layer (a deconvnet needs the
  pooling switches, DeepDream the logits);
- :func:`fit_image_classifier`: Adam on cross-entropy over seeded minibatches of a fixed training set, the
  same batches for every model given the same generator seed (an A/B compares models, not data orders);
- :func:`image_accuracy`: top-1 accuracy, in chunks, without autograd.

The training loop is deliberately plain (no schedule, no augmentation) so that a plugin's page can say in one
line how its network was trained. These names are specific to image classifiers on purpose: other shared
training loops live in their own modules (``plugin_kit.recurrent.fit_adding`` …).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ShapesLeNet", "fit_image_classifier", "image_accuracy"]


class ShapesLeNet(nn.Module):
    """LeNet-5 for (B, 1, size, size) images, size divisible by 4 and ≥ 12:

    conv1 5×5 (padding 2, 1 → c1) → act → maxpool 2   (B, c1, size/2, size/2)
    conv2 5×5 (no padding, c1 → c2) → act → maxpool 2 (B, c2, (size/2 − 4)/2, …)
    fc1 → act → fc2 → act → fc3                         (B, classes)

    ``activation`` is ``"relu"`` or ``"tanh"`` (LeNet-5 used a scaled tanh; AlexNet's point was ReLU)."""

    def __init__(
        self,
        classes: int = 4,
        *,
        size: int = 16,
        channels: tuple[int, int] = (6, 16),
        hidden: tuple[int, int] = (120, 84),
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if size % 4 or size < 12:
            raise ValueError(f"ShapesLeNet needs an image size divisible by 4 and at least 12, got {size}")
        c1, c2 = channels
        self.act: Callable[[torch.Tensor], torch.Tensor] = {"relu": torch.relu, "tanh": torch.tanh}[
            activation
        ]
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5)
        side = (size // 2 - 4) // 2
        self.fc1 = nn.Linear(c2 * side * side, hidden[0])
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.fc3 = nn.Linear(hidden[1], classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, S, S) → (B, c2, S/4 − 2, S/4 − 2): the convolutional part."""
        x = F.max_pool2d(self.act(self.conv1(x)), 2)  # (B, c1, S/2, S/2)
        return F.max_pool2d(self.act(self.conv2(x)), 2)  # (B, c2, (S/2 − 4)/2, …)

    def classify(self, h: torch.Tensor) -> torch.Tensor:
        """(B, c2, s, s) → logits (B, classes): the fully connected part."""
        h = h.flatten(1)  # (B, c2·s·s)
        return self.fc3(self.act(self.fc2(self.act(self.fc1(h)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.features(x))


def fit_image_classifier(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: int,
    lr: float = 3e-3,
    batch: int = 64,
    seed: int = 0,
    weight_decay: float = 0.0,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train ``model`` in place with Adam on cross-entropy for ``steps`` minibatches of ``batch`` drawn
    uniformly with replacement from (images (N, C, H, W), labels (N,)) by a generator seeded with ``seed``
    (on the CPU, so the batches are the same on every device). Calls ``on_step(step, loss)`` after each
    step and returns the training losses."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    losses = []
    for step in range(steps):
        idx = torch.randint(0, len(images), (batch,), generator=g).to(images.device)
        loss = F.cross_entropy(model(images[idx]), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, losses[-1])
    model.eval()
    return losses


@torch.no_grad()
def image_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, chunk: int = 1000) -> float:
    """Top-1 accuracy of ``model`` on (images, labels), ``chunk`` images at a time, in eval mode."""
    was_training = model.training
    model.eval()
    right = sum(
        int((model(images[i : i + chunk]).argmax(-1) == labels[i : i + chunk]).sum())
        for i in range(0, len(images), chunk)
    )
    model.train(was_training)
    return right / max(len(images), 1)
