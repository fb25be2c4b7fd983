"""Root Mean Square Layer Normalization (Zhang and Sennrich, arXiv 1910.07467).

Claim: LayerNorm's success comes from its re-scaling invariance, not its re-centring; dividing by the
root mean square alone (no mean, no bias) trains as well as LayerNorm while costing less to compute.

Equations (n hidden units, per example):

    RMS(a) = √((1/n) Σ_i a_i²),   ā_i = a_i / RMS(a) · g_i                              (eq. 4)

``model.py`` implements ``RMSNorm`` with the gain ``weight`` (g). The paper's eq. 4 has no ε; the code adds
ε = 1e-6 inside the square root, as ``torch.nn.RMSNorm``, T5 and Llama do, so that an all-zero input does
not divide by zero. Statistics are accumulated in at least float32.

The tiny experiment: the module equals ``torch.nn.RMSNorm`` (eps passed explicitly: PyTorch's default is
the dtype's machine epsilon), is invariant to re-scaling each example but not to shifting it (so it is not
LayerNorm in disguise), and equals bias-free LayerNorm on zero-mean inputs. In a 12-layer He-initialised
ReLU network it reaches ``nn.LayerNorm``'s loss from the same seed, batches and learning rate, and the
benchmark times it against PyTorch's LayerNorm and RMSNorm. A fair echo: the paper's claim is parity
of quality with a cheaper normaliser; at toy scale the quality parity is sharp, the speed difference small
and noisy, so it is reported rather than asserted.
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Root Mean Square Layer Normalization",
    arxiv="1910.07467",
    claim="Re-scaling by the root mean square alone trains as well as LayerNorm for less computation.",
)
