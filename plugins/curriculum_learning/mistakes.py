"""Classic mistakes in the competence-based curriculum, for ``readtrack practice``: its check must catch
them (tests/practice/test_practice.py)."""

from __future__ import annotations

import torch

from readtrack.api import mistake


@mistake("competence", fails="sqrt competence vs min(1, √(t(1 − c0²)/T + c0²)), T = 100")
def competence(t: float, T: float, c0: float = 0.01, p: float = 2.0) -> float:
    """c0 not raised to the power p inside the root, √(t(1 − c0)/T + c0): the curriculum starts at √c0
    (10% of the data for c0 = 0.01), not at c0."""
    return min(1.0, (t * (1 - c0) / T + c0) ** (1 / p))


@mistake("difficulty_cdf", fails="difficulty CDF vs a naive count of examples no harder, with ties")
def difficulty_cdf(difficulty: torch.Tensor) -> torch.Tensor:
    """The rank in a sort, (rank + 1) / M: ties are broken arbitrarily, so examples of equal difficulty get
    different d̃ and enter the pool at different steps."""
    ranks = difficulty.argsort(stable=True).argsort(stable=True)
    return (ranks + 1).to(torch.float64) / len(difficulty)


@mistake("difficulty_cdf", fails="difficulty CDF is float64")
def difficulty_cdf_in_the_default_dtype(difficulty: torch.Tensor) -> torch.Tensor:
    """The right counts divided by M without making them float64 first: an integer tensor divided by an int
    is float32 (torch's default dtype), not the float64 the statement asks for."""
    sorted_d = difficulty.sort().values
    return torch.searchsorted(sorted_d, difficulty, right=True) / len(difficulty)
