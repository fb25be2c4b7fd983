"""The ``triton`` extra installs beside every torch the README promises: torch's own CUDA wheels pin Triton
(on Linux), and a range of ours that excluded that pin would make ``pip install torch==X "readtrack[triton]"``
unresolvable (pip then moves torch to another release instead).

Read from real metadata: the installed readtrack's extra and the installed torch's requirements; the pins of
the CUDA wheels at both ends of the tested range are facts read off those wheels' metadata (torch 2.13.0's
from its wheel, 2.14.1's from the one installed here), kept below so that a CPU-only venv checks them too.
"""

from __future__ import annotations

from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

#: ``Requires-Dist: triton ...`` of torch's CUDA wheels for Linux, per release.
CUDA_WHEEL_PINS = {"2.13.0": "==3.7.1", "2.14.1": "~=3.8.0"}


def extra_range() -> Requirement:
    found = [
        Requirement(r)
        for r in metadata.requires("readtrack") or []
        if Requirement(r).name == "triton" and Requirement(r).marker is not None
    ]
    assert len(found) == 1, found
    return found[0]


def admits(ours: Requirement, pin: str) -> bool:
    """Whether some Triton release satisfies both our range and torch's pin (pins name a release)."""
    theirs = Requirement(f"triton{pin}")
    named = Version(next(iter(theirs.specifier)).version)
    return ours.specifier.contains(named)


@pytest.mark.parametrize("torch_release", sorted(CUDA_WHEEL_PINS))
def test_the_extra_admits_the_triton_each_cuda_wheel_of_torch_pins(torch_release: str) -> None:
    ours = extra_range()
    assert admits(ours, CUDA_WHEEL_PINS[torch_release]), (
        f"readtrack[triton] asks {ours.specifier}; torch {torch_release}'s CUDA wheel needs triton"
        f"{CUDA_WHEEL_PINS[torch_release]}"
    )


def test_the_extra_admits_the_installed_torchs_own_pin() -> None:
    pins = [Requirement(r) for r in metadata.requires("torch") or [] if Requirement(r).name == "triton"]
    if not pins:
        pytest.skip(f"torch {metadata.version('torch')} pins no Triton (a CPU wheel)")
    ours = extra_range()
    for pin in pins:
        assert admits(ours, str(pin.specifier)), f"ours {ours.specifier} vs torch's triton{pin.specifier}"


def test_a_range_that_excludes_a_pin_is_caught() -> None:
    assert not admits(Requirement('triton>=3.8,<4; extra == "triton"'), CUDA_WHEEL_PINS["2.13.0"])
