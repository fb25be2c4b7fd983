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
LayerNorm in disguise), and equals bias-free LayerNorm on zero-mean inputs.

The training claim needs a network in which normalisation matters, or parity with LayerNorm shows nothing (an
earlier version compared them in a network that trained best with no normaliser at all). So the inputs arrive
×100 (raw units nobody standardised), which a re-scaling invariant layer absorbs: a 6-layer, 32-wide
He-initialised ReLU network learns a 4-class teacher problem from one pass of 100 Adam steps over fresh
examples, with RMSNorm, with ``nn.LayerNorm``, and with no normalisation, same seed and batches, each at its
own best rate of 3e-3 / 1e-2 / 3e-2 chosen on a validation split; the test split is reported.
``readtrack run rmsnorm --seeds 0-2`` (each full run averages seeds s, s+1, s+2; seed 0's run): test loss
RMSNorm 0.227, LayerNorm 0.201, no normalisation 1.092 (chance ln 4 = 1.39); RMSNorm − LayerNorm +0.025 /
−0.004 / +0.000 and no-norm / RMSNorm 4.8 / 5.4 / 5.0 for runs at seeds 0 / 1 / 2. Targets: RMSNorm −
LayerNorm ≤ 0.1 and no-norm / RMSNorm ≥ 2, in the full run and in the quick run
(``readtrack run rmsnorm --quick``, one seed per run instead of three; its numbers over seeds are in the
calibration at the end of this page). With RMSNorm replaced by the identity both fail (the plugin's test). The
benchmark times it against PyTorch's LayerNorm and RMSNorm. A fair echo: the paper's claim is parity of
quality with a cheaper normaliser; at toy scale the quality parity is sharp; the speed difference is small and
noisy (and this module is Python, the built-ins fused), so training time is reported rather than asserted.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Root Mean Square Layer Normalization",
    arxiv="1910.07467",
    claim="Re-scaling by the root mean square alone trains as well as LayerNorm for less computation.",
    exercises=[
        Exercise(
            target="RMSNorm.forward",
            statement="""
                Eq. 4 with ε: ā_i = a_i / RMS(a) · g_i,  RMS(a) = √((1/n) Σ_i a_i² + ε).

                a: the input, (..., *normalized_shape); the n hidden units of one example are its trailing
                len(self.normalized_shape) dimensions. g is self.weight (shape normalized_shape), ε is
                self.eps. No mean is subtracted and there is no bias: that is LayerNorm, not RMSNorm.
                Compute the statistics in at least float32 (torch.promote_types(a.dtype, torch.float32))
                and return a tensor of a's shape and dtype.
            """,
            hints=[
                "The dimensions to reduce are tuple(range(-len(self.normalized_shape), 0)).",
                "x.square().mean(dim=dims, keepdim=True) is (1/n) Σ a_i², one value per example.",
                "ε goes inside the square root: torch.sqrt(mean_of_squares + self.eps).",
            ],
            lines=4,
            references=["torch.nn.functional.rms_norm", "torch.rms_norm"],
        )
    ],
)
