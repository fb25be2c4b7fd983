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
1e-2, pixel space 3e-3), and the sampler uses an exponential moving average of the denoiser's weights, as
Ho et al. and the LDM code do, with the decay that same validation loss picks (0.99 of 0.99 / 0.995 /
0.998 / 0.999). Without it, guidance's gain depended on where the last steps at a learning rate of 1e-2
left the raw weights (the full run's gains with it, over seeds 0-9, are in the calibration at the end of this
page).

The full run, ``readtrack run stable-diffusion --only train --seeds 0-9`` (400 autoencoder steps, 3000
denoiser steps, 1000 samples per class and guidance weight, sampled with the moving average), has its numbers
over seeds 0-9 in the calibration at the end of this page. The autoencoder reconstructs nearly every image
exactly; on every seed most latent diffusion samples decode into exact bars images, against a few percent for
a Gaussian fitted to the same latents (same decoder), a target passed with a wide margin. Guidance's claim,
that the samples follow the condition more faithfully, is asserted as a paired comparison: the same model
samples both weights (w = 0 and w = 2) from the same noise (z_T and every σ_t ε'), and the statistic is the
count of samples that are bars images but not of the class asked for. The target is the share of those that
guidance removes, 1 − k_2 / k_0, > 0 (guided samples miss the asked class less often); as k counts samples, >
0 is written as ≥ 1 / n, n = 2000 samples, no more than the least positive value it can take, 1 / k_0 (with
guidance removed, the paired design gives exactly 0). A ratio divides out how good the unguided model already
is, which is what moved the old statistic, guided minus unguided share of the requested class among all
samples: it is positive on every seed but misses its 5 points on seeds 3 and 9 of the calibration below (seed
3 of the earlier, unpaired, design too: its unguided samples already had the requested class most often), so
it stays reported, not asserted. The paper's comparison, the same denoiser, steps, sampler and budget in pixel
space (64-d, pixels as ±1): its samples are bars images less often than the latent model's on every seed
(target ≥ 0: quality kept, passed with a margin of more than 3 seed standard deviations). The cost does not
carry over at this size: the paper's saving is spatial (a convolutional U-Net on a 64×64×4 latent instead of
512×512×3 pixels); here the denoiser is an MLP whose hidden layers dominate, so 8 instead of 64 inputs cuts
its forward FLOPs only by a quarter (22.0 against 29.4 MFLOP per batch of 256; the ratio,
``denoiser forward FLOPs, latent / pixel space``, is in the calibration), before counting the autoencoder.

The quick run (``readtrack run stable-diffusion --quick``; 250 autoencoder / 1000 denoiser steps, 2000 samples
per guidance weight, no pixel-space arm) asserts diffusion minus the Gaussian ≥ 0.1 (looser than the full
run's 0.2). It scores 2000 samples, not 400, because with 400 the gain of guidance moved by up to 0.04 between
draws of samples of one model; sampling costs little next to training. Guided minus unguided class consistency
is reported there too, not asserted: with the moving average and 2000 samples no seed of 0-19 fell below 0.05,
but the gain still varies between trained models (its margin over seeds 0-19 is below the rule's 3 seed
standard deviations; 1500 denoiser steps did not lift the weakest seeds). The quick run keeps the numbers it
was calibrated with (two draws of noise, one per weight, and no wrong-class target); the full run asserts the
guidance claim as above, with diffusion against the Gaussian (both runs) and latent against pixel-space
diffusion (full run). Its numbers over seeds are in the calibration at the end of this page.

Knobs (``readtrack knobs stable-diffusion``, ``config.py``): the guidance weight ``guidance`` (the switch the
guidance claim is about; 0 makes both arms unguided), the denoisers' ``steps``, ``lr`` (0: each its tuned
rate), ``batch``, ``width``, the latent's size ``d_latent``, the condition dropout ``drop`` and the number of
``samples`` per class. A run with one turned reports its targets without asserting them.

Calibration (generated by ``readtrack calibrate stable-diffusion --write`` from ``calibration.json``; mean ±
sd [min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value −
threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and the mean
lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing
side, a single seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.1: share of bars images, diffusion (w = 0) minus the Gaussian baseline
      torch 2.14.1, seeds 0-19: 0.3738 ± 0.05514 [0.2605, 0.4605], margin 5.0 sd (worst seed 2.9 sd)
      torch 2.13.0, seeds 0-9: 0.3846 ± 0.05784 [0.2605, 0.4575], margin 4.9 sd (worst seed 2.8 sd)
    measured: autoencoder: share of images reconstructed exactly
      torch 2.14.1, seeds 0-19: 0.9630 ± 0.01045 [0.9402, 0.9900]
      torch 2.13.0, seeds 0-9: 0.9579 ± 0.008195 [0.9402, 0.9664]
    measured: share of bars images, latent diffusion, w = 0
      torch 2.14.1, seeds 0-19: 0.4103 ± 0.05925 [0.2895, 0.5155]
      torch 2.13.0, seeds 0-9: 0.4199 ± 0.06337 [0.2895, 0.5155]
    measured: share of the requested class, latent diffusion, w = 0
      torch 2.14.1, seeds 0-19: 0.3864 ± 0.06196 [0.2695, 0.5035]
      torch 2.13.0, seeds 0-9: 0.3987 ± 0.06592 [0.2695, 0.5035]
    measured: share of bars images, latent diffusion, w = 2
      torch 2.14.1, seeds 0-19: 0.5504 ± 0.07880 [0.4355, 0.6840]
      torch 2.13.0, seeds 0-9: 0.5657 ± 0.08660 [0.4355, 0.6840]
    measured: share of the requested class, latent diffusion, w = 2
      torch 2.14.1, seeds 0-19: 0.5450 ± 0.07889 [0.4320, 0.6775]
      torch 2.13.0, seeds 0-9: 0.5614 ± 0.08641 [0.4320, 0.6775]
    measured: share of bars images, a Gaussian fitted to the latents
      torch 2.14.1, seeds 0-19: 0.03642 ± 0.009359 [0.02300, 0.05800]
      torch 2.13.0, seeds 0-9: 0.03525 ± 0.01207 [0.02300, 0.05800]
    reported, not asserted at quick size (the claim: ≥ 0.05): class consistency, guided (w = 2) minus
      unguided (w = 0)
      torch 2.14.1, seeds 0-19: 0.1586 ± 0.05457 [0.07800, 0.3270], margin 2.0 sd (worst seed 0.5 sd)
      torch 2.13.0, seeds 0-9: 0.1627 ± 0.06718 [0.07800, 0.3270], margin 1.7 sd (worst seed 0.4 sd)
    measured: denoiser forward FLOPs, latent / pixel space
      torch 2.14.1, seeds 0-19: 0.7500 on every seed
      torch 2.13.0, seeds 0-9: 0.7500 on every seed
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.2: share of bars images, diffusion (w = 0) minus the Gaussian baseline
      torch 2.14.1, seeds 0-9: 0.6299 ± 0.03054 [0.5865, 0.6760], margin 14.1 sd (worst seed 12.7 sd)
    target ≥ 0.0005: bars images off the asked class, share guidance (w = 2) removes: 1 − guided / unguided
      torch 2.14.1, seeds 0-9: 0.8483 ± 0.09260 [0.6579, 0.9545], margin 9.2 sd (worst seed 7.1 sd)
    target ≥ 0: share of bars images, latent minus pixel-space diffusion (w = 0): quality kept
      torch 2.14.1, seeds 0-9: 0.1695 ± 0.04097 [0.08000, 0.2105], margin 4.1 sd (worst seed 2.0 sd)
    measured: autoencoder: share of images reconstructed exactly
      torch 2.14.1, seeds 0-9: 0.9913 ± 0.003058 [0.9859, 0.9945]
    measured: share of bars images, latent diffusion, w = 0
      torch 2.14.1, seeds 0-9: 0.6682 ± 0.03256 [0.6140, 0.7045]
    measured: share of the requested class, latent diffusion, w = 0
      torch 2.14.1, seeds 0-9: 0.6507 ± 0.03537 [0.5965, 0.6940]
    measured: share of bars images, latent diffusion, w = 2
      torch 2.14.1, seeds 0-9: 0.7230 ± 0.02763 [0.6835, 0.7625]
    measured: share of the requested class, latent diffusion, w = 2
      torch 2.14.1, seeds 0-9: 0.7204 ± 0.02753 [0.6810, 0.7620]
    measured: share of bars images, a Gaussian fitted to the latents
      torch 2.14.1, seeds 0-9: 0.03830 ± 0.008895 [0.02750, 0.05350]
    reported, not asserted at full size (the claim: ≥ 0.05): class consistency, guided (w = 2) minus
      unguided (w = 0)
      torch 2.14.1, seeds 0-9: 0.06970 ± 0.03164 [0.01650, 0.1170], margin 0.6 sd (worst seed -1.1 sd),
        misses it on seeds 3, 9
    measured: share of bars images, pixel diffusion, w = 0
      torch 2.14.1, seeds 0-9: 0.4987 ± 0.01953 [0.4810, 0.5340]
    measured: share of the requested class, pixel diffusion, w = 0
      torch 2.14.1, seeds 0-9: 0.4355 ± 0.02452 [0.4080, 0.4855]
    measured: share of bars images, pixel diffusion, w = 2
      torch 2.14.1, seeds 0-9: 0.5497 ± 0.08989 [0.4475, 0.7090]
    measured: share of the requested class, pixel diffusion, w = 2
      torch 2.14.1, seeds 0-9: 0.5462 ± 0.08887 [0.4450, 0.6975]
    measured: denoiser forward FLOPs, latent / pixel space
      torch 2.14.1, seeds 0-9: 0.7500 on every seed
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="High-Resolution Image Synthesis with Latent Diffusion Models",
    arxiv="2112.10752",
    doi="10.1109/CVPR52688.2022.01042",
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
                0-d tensor, not a Python float), in the schedule's dtype, which z0 and zt share.
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
