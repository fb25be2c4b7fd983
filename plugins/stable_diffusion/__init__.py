"""High-Resolution Image Synthesis with Latent Diffusion Models (Rombach et al., arXiv 2112.10752).

Claim: training a diffusion model in the latent space of a pretrained autoencoder, instead of in pixel
space, keeps sample quality while cutting the denoiser's cost, and conditioning (here classifier-free
guidance on a class) steers what it makes.

Equations (``model.py``; DDPM from Ho et al. 2020, arXiv 2006.11239):

    latent            z = E(x), x̃ = D(z); z rescaled to unit variance                      (section 3.1)
    forward           q(z_t | z_0) = N(√ᾱ_t z_0, (1 − ᾱ_t) I)                              (Ho eq. 4)
    posterior         μ̃_t = √ᾱ_{t−1} β_t/(1 − ᾱ_t) z_0 + √α_t (1 − ᾱ_{t−1})/(1 − ᾱ_t) z_t   (Ho eq. 7)
    loss              L_LDM = E ‖ε − ε_θ(z_t, t, c)‖²                                       (LDM eq. 2-3)
    sampler           z_{t−1} = (z_t − β_t/√(1 − ᾱ_t) ε_θ)/√α_t + √β_t ε'                  (Ho eq. 11, alg. 2)
    guidance          ε̃ = (1 + w) ε_θ(z_t, c) − w ε_θ(z_t, ∅)             (Ho and Salimans, arXiv 2207.12598)

The tiny experiment: the closed forms against iterating the forward process and against conditioning the
joint Gaussian, β written out by hand, the sampler against a case with an exact ε, and the PLUGINS.md trap
checked (a short T must rescale β: ᾱ_50 is 7.7e-6 rescaled, 0.60 not; rescaled, β_T = 20/T reaches 1 at
T = 20, so β is clipped at 0.999 as in Nichol and Dhariwal, else the sampler divides by √α_T = 0). Then 8×8
bars images with only horizontal (class 0) or only vertical (class 1) bars, an autoencoder into an 8-d
latent (64 pixels → 8 numbers), and a class-conditional DDPM with T = 50 in that latent (an MLP denoiser of
width 128). A fair small echo: the first stage is learned once, the diffusion model never sees pixels, and
validity is measured exactly (a decoded sample either is a bars image or is not). Each denoiser's Adam
learning rate is its best of 1e-3 / 3e-3 / 1e-2 by ε-prediction loss on a separate validation set (latent
1e-2, pixel space 3e-3).

Measured, full run (``readtrack run stable-diffusion --only train --seeds 0-2``; 400 autoencoder steps, 3000
denoiser steps, 1000 samples), seeds 0 / 1 / 2: the autoencoder reconstructs 99.4 / 99.2 / 98.8 % of images
exactly; 65.4 / 63.7 / 65.3 % of latent diffusion samples decode into exact bars images against 3.6 / 3.8 /
4.6 % for a Gaussian fitted to the same latents (same decoder); samples that are bars images of the requested
class: 60.9 / 62.4 / 62.7 % unguided (w = 0), 66.2 / 70.9 / 73.4 % guided (w = 2), a gain of 5.3 / 8.5 / 10.7
points (target 5: seed 0 is near it). The paper's comparison, the same denoiser, steps, sampler and budget in
pixel space (64-d, pixels as ±1): 38.3 / 39.8 / 44.2 % bars images, so the latent model is 27 / 24 / 21 points
better (target ≥ 0: quality kept). The cost does not carry over at this size: the paper's saving is spatial (a
convolutional U-Net on a 64×64×4 latent instead of 512×512×3 pixels); here the denoiser is an MLP whose hidden
layers dominate, so 8 instead of 64 inputs cuts its FLOPs only to 0.75× (22.0 against 29.4 MFLOP forward per
batch of 256), before counting the autoencoder.

The quick run (``readtrack run stable-diffusion --quick``; 250 autoencoder / 1000 denoiser steps, 400
samples, no pixel-space arm) asserts diffusion minus the Gaussian ≥ 0.1 (looser than the full run's 0.2) and
guided minus unguided class consistency ≥ 0.05; its numbers over seeds are in the calibration at the end of
this page.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="High-Resolution Image Synthesis with Latent Diffusion Models",
    arxiv="2112.10752",
    claim="Diffusion in an autoencoder's latent space keeps quality at a fraction of pixel-space cost.",
    exercises=[
        Exercise(
            target="posterior",
            statement="""
                The forward process posterior q(z_{t−1} | z_t, z_0) = N(μ̃_t, β̃_t I) (Ho et al. eq. 6-7):

                    μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · z_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · z_t
                    β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t

                z0, zt: (batch, d); t: an int, 2 ≤ t ≤ T; s: the Schedule, whose s.beta, s.alpha and
                s.alpha_bar are (T,) tensors in which index t − 1 holds step t (β_t is s.beta[t − 1],
                ᾱ_{t−1} is s.alpha_bar[t − 2]); α_t = 1 − β_t. Returns (μ̃_t of shape (batch, d), β̃_t a
                0-d tensor), in the schedule's dtype.
            """,
            hints=[
                "Read the three numbers first: a_bar = s.alpha_bar[t - 1], a_bar_prev = s.alpha_bar[t - 2], "
                "beta = s.beta[t - 1]; the steps are 1-based, the tensors 0-based.",
                "√α_t is (1 - beta).sqrt(): α_t is one step's 1 − β_t, not the product ᾱ_t.",
                "mean = (a_bar_prev.sqrt() * beta / (1 - a_bar)) * z0 + "
                "((1 - beta).sqrt() * (1 - a_bar_prev) / (1 - a_bar)) * zt.",
            ],
            lines=5,
        ),
        Exercise(
            target="guided_eps",
            statement="""
                Classifier-free guidance (Ho and Salimans, arXiv 2207.12598, eq. 6):

                    ε̃(z_t, c) = (1 + w) ε(z_t, c) − w ε(z_t, ∅)

                model(zt, t, c) is ε_θ; the null condition ∅ is the class index model.null. zt: (batch, d);
                t, c: (batch,) long; w: the guidance weight (a float ≥ 0). In this convention w = 0 is the
                plain conditional model, not the unconditional one. Returns (batch, d). One forward pass of
                a doubled batch (conditional and unconditional rows) is the usual way; two calls are
                equally right.
            """,
            hints=[
                "The unconditional prediction is the same network with c replaced by "
                "torch.full_like(c, model.null).",
                "At w = 0 the result must be model(zt, t, c) exactly: (1 + 0)·ε_c − 0·ε_∅.",
                "cond, uncond = model(torch.cat([zt, zt]), torch.cat([t, t]), torch.cat([c, null])).chunk(2);"
                " return (1 + w) * cond - w * uncond.",
            ],
            lines=6,
        ),
    ],
)
