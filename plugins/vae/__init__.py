"""Auto-Encoding Variational Bayes (Kingma and Welling, arXiv 1312.6114).

Claim: a directed model with continuous latent variables and an intractable posterior can be fitted by
stochastic gradient ascent on a lower bound of the likelihood, whose gradient is made low-variance and
differentiable by reparameterising the sample z = μ + σ ⊙ ε, with an encoder q_φ(z | x) learned jointly
(the variational auto-encoder).

Equations (``model.py``):

    ELBO            log p(x) ≥ L = −D_KL(q_φ(z|x) ‖ p(z)) + E_q[log p_θ(x|z)]           (eq. 3)
    estimator A     L̃^A = 1/L Σ_l log p_θ(x, z^(l)) − log q_φ(z^(l)|x)                   (eq. 6)
    estimator B     L̃^B = ½ Σ_j (1 + log σ_j² − μ_j² − σ_j²) + 1/L Σ_l log p_θ(x|z^(l)) (eq. 10)
    trick           z = g_φ(ε, x) = μ + σ ⊙ ε,  ε ~ N(0, I)                             (section 2.4)
    decoder         log p(x|z) = Σ_i x_i log y_i + (1 − x_i) log(1 − y_i)              (appendix C.1)

The tiny experiment: the KL term against ``torch.distributions.kl_divergence`` and the decoder against
``torch.distributions.Bernoulli`` (float64 and float32, with gradients); the reparameterised gradient of E[z²]
unbiased against 2μ, 2σ and of lower variance than the score-function estimator; eq. 10 and eq. 6 with the
same mean; with a 1-d latent the ELBO below log p(x) by quadrature. Then 8×8 binary bars images (each of 8 row
and 8 column bars on with p = 0.2), whose exact log-likelihood is known (the floor, 8.0 nats): a VAE with an
8-d latent and tanh MLPs of 256 against the independent-pixel model, and against the same VAE whose encoder
gradient is the score-function ("naive", section 2.3) estimator, same seed and batches, each at its best
learning rate of 1e-3 / 3e-3 / 1e-2 by −ELBO on a separate validation split, chosen in every run (the full
run's choices are given below). A fair echo of the paper's figures 2-3 (the bound on MNIST and Frey faces
against wake-sleep), at a size where the true likelihood is known.

The targets: −ELBO at most 0.7 (quick) or 0.6 (full) × the independent-pixel model's NLL, a KL term ≥ 1 nat
(no posterior collapse), and the score-function gradient on the same model, at its own best learning rate,
≥ 3 nats worse; the importance-weighted NLL (K = 64) against the exact floor and the share of samples
(z ~ N(0, I), decoder mean thresholded) that are exact bars images are reported. The quick run
(``readtrack run vae --quick``: 300 steps of 128, 2000 test images) asserts the same; its numbers over seeds
are in the calibration at the end of this page. The full run (2000 steps,
``readtrack run vae --only train --seeds 0-2``), seeds 0 / 1 / 2: −ELBO 14.75 / 14.73 / 14.88 (0.35-0.36 × the
independent-pixel model; target ≤ 0.6), importance-weighted NLL 13.0 / 12.1 / 12.3, KL term 11.2 / 12.0 /
11.8, the score-function gradient 23.85 / 25.78 / 24.32, 9.1 / 11.1 / 9.4 nats worse, 12-19 % of samples bars
images; the rates chosen were 3e-3 / 1e-2 / 1e-2 (reparameterised) and 3e-3 / 1e-3 / 3e-3 (score-function):
every target passes on seeds 0-2. On the check's E[z²] the score-function estimator's variance is several
times the pathwise one's, the mechanism behind the gap. Eq. 10's analytic KL is said to give "typically" lower
variance than eq. 6: for an untrained network it does not always (``readtrack run vae --only check --seed 4``:
0.346 against 0.248), so it is reported, not checked. The paper's figures compare with wake-sleep and MCEM,
not the score-function estimator; this ablation is the "naive" estimator of its section 2.3.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Auto-Encoding Variational Bayes",
    arxiv="1312.6114",
    claim="Reparameterising z = μ + σε gives the ELBO a low-variance gradient: a VAE learns a latent code.",
    exercises=[
        Exercise(
            target="reparameterise",
            statement="""
                The reparameterisation trick (section 2.4): z = g_φ(ε, x) = μ + σ ⊙ ε with ε ~ N(0, I), a
                sample of N(μ, σ²) through which gradients reach μ and σ.

                mu: μ; logvar: log σ², what the encoder outputs (eq. 9), of μ's shape; eps: ε, already
                drawn, of any shape that broadcasts with μ (e.g. (L, batch, d_z) for L samples). Returns z
                of the broadcast shape. The encoder gives the log-variance, not σ: σ = exp(½ log σ²).
            """,
            hints=[
                "σ is the square root of the variance: exp(logvar / 2), not exp(logvar).",
                "return mu + torch.exp(0.5 * logvar) * eps: broadcasting does the L samples.",
            ],
            lines=1,
        ),
        Exercise(
            target="gaussian_kl",
            statement="""
                The KL term of eq. 10, in closed form for a diagonal Gaussian against the prior N(0, I)
                (appendix B):

                    D_KL(N(μ, σ²) ‖ N(0, I)) = −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²)

                mu: μ and logvar: log σ², both (..., d_z); returns (...): the sum over the d_z latent
                dimensions (the last one), one value per example, ≥ 0. It is a sum over dimensions, not
                a mean: the bound's reconstruction term is a sum over pixels.
            """,
            hints=[
                "σ² is logvar.exp(); μ² is mu.square().",
                "return -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(dim=-1).",
            ],
            lines=1,
        ),
    ],
)
