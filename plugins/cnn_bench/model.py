"""The CNN case study's six networks, one per generation, for the same 16×16×1 images, like nanoGPT.

``network(member, classes, seed)``: the member's network, the same weights for one seed. LeNet-5 is the kit's
``ShapesLeNet``; AlexNet, ZF Net, VGG and GoogLeNet are ``readtrack.plugin_kit.cnns`` (cnn-architectures
trains and checks the same ones, AlexNet's LRN written out there); ResNet is below, the paper's CIFAR network
(section 4.2) at the depth of the bench's VGG, so that the step from one to the other is the design, not
the depth:

    ResNet-8   3×3 conv (w) → BN → ReLU                                     (B, w, 16, 16)
               three stages of one basic block, widths w, 2w, 4w, the last two of stride 2
                   y = ReLU(BN(W₂ ReLU(BN(W₁ x))) + s(x))                   (eq. 1, fig. 5 left)
                   s(x) = x, or BN(W_s x) (a 1×1 projection) where the shape changes   (eq. 2, option B)
               global average pooling → fc classes                           (B, classes)

with w = 16: 8 weight layers, as VGG's 6 convolutions and 2 fully connected layers, and VGG's widths.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from readtrack.plugin_kit.cnns import VGG, AlexNet, GoogLeNet, zf_net
from readtrack.plugin_kit.vision import ShapesLeNet

LENET, ALEXNET, ZFNET = "cnn-architectures:lenet", "cnn-architectures:alexnet", "cnn-architectures:zfnet"
VGGNET, GOOGLENET, RESNET = "cnn-architectures:vgg", "cnn-architectures:googlenet", "resnet"
#: The members in their papers' order.
MEMBERS = (LENET, ALEXNET, ZFNET, VGGNET, GOOGLENET, RESNET)
NAMES = {
    LENET: "LeNet-5",
    ALEXNET: "AlexNet",
    ZFNET: "ZF Net",
    VGGNET: "VGG",
    GOOGLENET: "GoogLeNet",
    RESNET: "ResNet",
}


class BasicBlock(nn.Module):
    """ResNet's basic block (fig. 5 left): y = ReLU(BN(W₂ ReLU(BN(W₁ x))) + s(x)), with s the identity,
    or a 1×1 projection and BN where the stride or the width changes (eq. 2, option B); with
    ``residual=False`` the plain block ReLU(BN(W₂ ReLU(BN(W₁ x)))).
    x (B, c_in, H, W) → (B, c_out, H/s, W/s)."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if residual and (stride != 1 or c_in != c_out):
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))  # F(x): (B, c_out, H/s, W/s)
        if not self.residual:
            return F.relu(out)  # the plain block: the same layers, no shortcut
        return F.relu(out + self.shortcut(x))  # eq. 1 (eq. 2 where the shape changes)


class ResNet(nn.Module):
    """ResNet-8 for (B, 1, 16, 16) images: a stem, three basic blocks of widths w, 2w, 4w, global average
    pooling, a linear read-out; He-initialised (fan out), as the paper. ``residual=False``: its plain twin."""

    def __init__(self, classes: int = 4, width: int = 16, residual: bool = True) -> None:
        super().__init__()
        w = width
        self.stem = nn.Sequential(nn.Conv2d(1, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU())
        self.blocks = nn.Sequential(
            BasicBlock(w, w, 1, residual),
            BasicBlock(w, 2 * w, 2, residual),
            BasicBlock(2 * w, 4 * w, 2, residual),
        )
        self.fc = nn.Linear(4 * w, classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(x))  # (B, 4w, 4, 4)
        return self.fc(h.mean(dim=(2, 3)))  # global average pooling: (B, classes)


def network(member: str, classes: int, seed: int, residual: bool = True) -> nn.Module:
    """``member``'s network for 16×16×1 images and ``classes`` classes, the same weights for one seed
    (``residual``: ResNet's shortcuts, or its plain twin)."""
    torch.manual_seed(seed)
    make = {
        LENET: lambda: ShapesLeNet(classes),
        ALEXNET: lambda: AlexNet(classes),
        ZFNET: lambda: zf_net(classes),
        VGGNET: lambda: VGG(classes),
        GOOGLENET: lambda: GoogLeNet(classes),
        RESNET: lambda: ResNet(classes, residual=residual),
    }[member]
    return make()


def parameters(net: nn.Module) -> int:
    """The number of trainable weights and biases."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def forward_flops(net: nn.Module, image: torch.Tensor) -> int:
    """FLOPs of one forward pass over ``image`` (1, 1, H, W), counted by ``torch.utils.flop_counter``
    (convolutions and matrix products, a multiply and an add each)."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = net.training
    net.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(image)
    net.train(was_training)
    return int(counter.get_total_flops())
