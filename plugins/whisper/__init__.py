"""Robust Speech Recognition via Large-Scale Weak Supervision (Radford, Kim, Xu, Brockman, McLeavey and
Sutskever, arXiv 2212.04356): Whisper.

Claim: one encoder-decoder transformer, trained on 680,000 hours of weakly supervised audio, does several
speech tasks at once (transcription in many languages, translation into English, language identification,
voice activity) because the task is written into the decoder's prompt as special tokens; the front end is
a plain log-Mel spectrogram.

Equations and choices (section 2.2, 2.3 and figure 1; the public code fixes what the paper leaves out):

    X[m, f] = Σ_n w[n] x[m·hop + n − N/2] e^(−2πi f n / N)   25 ms periodic Hann windows every 10 ms,
                                                             reflect padding, the last frame dropped
    S = M |X|²,   M the mel filterbank, Slaney-style (librosa's default, which Whisper uses):
        mel(f) = 3f/200 below 1 kHz, 15 + 27·ln(f/1000)/ln 6.4 above; triangles of unit area in Hz
    L = log10(max(S, 1e-10));  L = max(L, max L − 8);  L = (L + 4)/4     per example ("globally scaled
                                                             to be between -1 and 1", section 2.2)
    encoder: GELU(conv3(L)), GELU(conv3, stride 2), + sinusoidal positions, pre-LN blocks, LayerNorm
    decoder: tokens + learned positions, pre-LN blocks (causal self-attention, cross-attention, MLP),
             tied read-out;  prompt <|startoftranscript|> <|task|>, then the text, <|endoftext|>

The paper's front end is 16 kHz with 80 channels; this one is 8 kHz (N = 200, hop = 80) with 16 channels.
``model.py`` implements all of the above; the STFT is a framed DFT written as two matmuls (the twiddle
angle reduced mod N in integers, so float32 stays close to torch.stft's FFT). The convolutions use He
initialisation: with PyTorch's default the audio leaves the stem far smaller than the ±1 sinusoids and
training sat on a plateau for most of the quick budget.

The tiny experiment. check: our STFT power equals ``torch.stft``'s (float64 to 1e-12 on values up to ~10³,
lengths 101, 800, 1234, 7200; float32 within tolerance, and its gradient's worst error against float64 within
3× torch.stft's, 1.5-2.2× measured); the filterbank equals a plain-Python loop written from the formulas (≤
2e-16, at this plugin's 8 kHz / 16 channels and at Whisper's 16 kHz / 80); each filter has unit area; the log-
Mel equals the clamping written out per example and spans at most 2; an encoder block equals
``nn.TransformerEncoderLayer`` and a decoder block ``nn.TransformerDecoderLayer`` (pre-LN, causal) with the
weights copied and the key bias 0, forward and every gradient (float64 ≤ 1.6e-14); the stem halves the frames;
the decoder is causal (Jacobian); the whole model (conv stem, sinusoids written out per position, blocks,
final LayerNorms, tied read-out) equals one built from ``F.conv1d``, PyTorch's layers and the token embedding
(float32 tolerance: Whisper computes its sinusoids in float32).
train: 0.48 s clips of 2-4 tones (6 symbols, 350 Hz to 2.6 kHz, 40-80 ms each, random gaps, loudness,
phase and noise). One model (2 heads, one encoder and one decoder layer) is asked, at random within every
batch, to transcribe (write the symbols) or to "translate" (write them under a fixed permutation without a
fixed point: the same content in the same vocabulary, as Whisper writes English for French speech), trained
on a pool of 2048 clips; exact-sequence accuracy, greedy decoding, on new clips of their own stream. Every
learning rate picked in a run comes from a grid chosen on 512 validation clips of their own stream, never on
the reported clips. The knobs (``readtrack knobs whisper``: the task token, steps, rate, decay, batch, width,
layers, noise) are in ``config.py``; a run with one turned reports its targets without asserting them.

Quick (``readtrack run whisper --quick``, d 32, 400 Adam steps of 64 at a constant 1e-3): the model with task
tokens only, target ≥ 0.8 exact-sequence accuracy per task on 512 new clips each; its numbers over seeds are
in the calibration at the end of this page. Both targets can fail: a model without the task token cannot know
which output is asked, so its mean over the two tasks is at most 0.5, and the can-fail test (the token removed
in training and decoding) fails both. The quick run was 300 steps until issue 42: every seed crosses a loss
plateau, some late, and at 300 steps a few were still on their way up (over seeds 0-19 both targets' margins
were under 3 seed standard deviations, with some seeds below 0.8); 400 steps are enough for them to cross it
(the same model, task and target). 1e-3 is the pick of the grid 1e-3 / 3e-3 / 1e-2 on validation clips at 300
steps, by the mean validation accuracy over seeds 0-4: well ahead of 3e-3, where a seed was still on the
plateau, while 1e-2 got almost no clip right on seeds 0 and 1; it was not chosen again at 400 steps
(``--quick --set lr=0`` now runs the grid of 1e-3 and 3e-3 at the quick budget).

Full (``readtrack run whisper --seeds 0-9 --jobs 2``, d 64, 600 Adam steps of 64, the rate decayed linearly to
0 as in the paper): the A/B, the same initialisation, seed and batches with the task token removed, each arm
at its own peak rate, the better of 1e-3 and 3e-3 on validation (1e-2 left the grid: it was never picked,
validation 0.15 on seeds 0-4 before); targets ≥ 0.9 per task with the token on 2048 new clips each, and a gap,
with − without, ≥ 0.5 (the mean without the token cannot exceed 0.5, so it is reported, not a target). Without
the token the mean over the two tasks stays well below 0.5 on every seed (token-by-token greedy decoding mixes
the two answers within a clip). Until issue 54 the full run was d 32 at a constant rate, the grid with 1e-2,
512 test clips: transcription's ≥ 0.9 held on seeds 0-4 but by 1.9 seed standard deviations (0.941 ± 0.022,
seed 1 0.906), so it was only reported; training longer (1200 steps, seed 1) lifted it but let the arm without
the token close on its 0.5 ceiling and the A/B fall below its threshold. What was tried on seeds 100-104
(never the calibration seeds), transcription's mean ± sd and the A/B's, each with 2048 test clips and the grid
1e-3 / 3e-3: d 32 at a constant rate (``readtrack run whisper --only train --seeds 100-104 --set d_model=32
--set decay=false``) 0.948 ± 0.011, A/B 0.742 ± 0.048; d 32, cosine decay 0.946 ± 0.010, A/B 0.805 ± 0.010;
the same for 1200 steps, seed 100 only: 0.966 but A/B 0.753; d 64, cosine decay 0.958 ± 0.006, A/B 0.814 ±
0.012 (the cosine rows from a scratch script of the same training, which no command here reruns); d 64, linear
decay, the paper's schedule, kept (``readtrack run whisper --only train --seeds 100-104``): 0.961 ± 0.006, A/B
0.805 ± 0.028. The decay keeps the arm without the token from settling on one answer per clip (its mean stays
near 0.15), the wider model lifts both tasks, and 2048 test clips halve the test set's own sampling spread. A
full run takes about 2-4 minutes a seed on one thread. The full run's numbers over seeds 0-9 are in the
calibration at the end of this page.

A fair echo of the mechanism at toy scale: the task is read from one token of the prompt and the same
weights serve both tasks. The paper's claims about robustness and scale (zero-shot transfer, 680k hours)
are not tested, and "translation" here is a symbol map, not a language.

Calibration (generated by ``readtrack calibrate whisper --write`` from ``calibration.json``; mean ± sd [min,
max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value − threshold)
/ sd beside it; a target is asserted only when, on every torch, every seed passes and the mean lies at least
3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing side, a single
seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.8: exact-sequence accuracy, transcribe
      torch 2.14.1, seeds 0-19: 0.9325 ± 0.01529 [0.9043, 0.9590], margin 8.7 sd (worst seed 6.8 sd)
      torch 2.13.0, seeds 0-9: 0.9367 ± 0.01776 [0.9043, 0.9590], margin 7.7 sd (worst seed 5.9 sd)
    target ≥ 0.8: exact-sequence accuracy, translate
      torch 2.14.1, seeds 0-19: 0.9344 ± 0.01395 [0.9023, 0.9609], margin 9.6 sd (worst seed 7.3 sd)
      torch 2.13.0, seeds 0-9: 0.9359 ± 0.01862 [0.9023, 0.9609], margin 7.3 sd (worst seed 5.5 sd)
    measured: exact-sequence accuracy, transcribe, with task tokens
      torch 2.14.1, seeds 0-19: 0.9325 ± 0.01529 [0.9043, 0.9590]
      torch 2.13.0, seeds 0-9: 0.9367 ± 0.01776 [0.9043, 0.9590]
    measured: exact-sequence accuracy, translate, with task tokens
      torch 2.14.1, seeds 0-19: 0.9344 ± 0.01395 [0.9023, 0.9609]
      torch 2.13.0, seeds 0-9: 0.9359 ± 0.01862 [0.9023, 0.9609]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.9: exact-sequence accuracy, transcribe
      torch 2.14.1, seeds 0-9: 0.9610 ± 0.004629 [0.9526, 0.9678], margin 13.2 sd (worst seed 11.4 sd)
    target ≥ 0.9: exact-sequence accuracy, translate
      torch 2.14.1, seeds 0-9: 0.9599 ± 0.001890 [0.9565, 0.9634], margin 31.7 sd (worst seed 29.9 sd)
    target ≥ 0.5: the A/B: mean exact accuracy with − without the task token
      torch 2.14.1, seeds 0-9: 0.7894 ± 0.02000 [0.7639, 0.8176], margin 14.5 sd (worst seed 13.2 sd)
    measured: validation mean exact accuracy, with task tokens, lr 0.001
      torch 2.14.1, seeds 0-9: 0.9595 ± 0.007369 [0.9492, 0.9717]
    measured: validation mean exact accuracy, with task tokens, lr 0.003
      torch 2.14.1, seeds 0-9: 0.9519 ± 0.01009 [0.9336, 0.9668]
    measured: exact-sequence accuracy, transcribe, with task tokens
      torch 2.14.1, seeds 0-9: 0.9610 ± 0.004629 [0.9526, 0.9678]
    measured: exact-sequence accuracy, translate, with task tokens
      torch 2.14.1, seeds 0-9: 0.9599 ± 0.001890 [0.9565, 0.9634]
    measured: validation mean exact accuracy, task token removed, lr 0.001
      torch 2.14.1, seeds 0-9: 0.1632 ± 0.01631 [0.1445, 0.2012]
    measured: validation mean exact accuracy, task token removed, lr 0.003
      torch 2.14.1, seeds 0-9: 0.1599 ± 0.01997 [0.1396, 0.2012]
    measured: exact-sequence accuracy, transcribe, task token removed
      torch 2.14.1, seeds 0-9: 0.1353 ± 0.08955 [0.04736, 0.3325]
    measured: exact-sequence accuracy, translate, task token removed
      torch 2.14.1, seeds 0-9: 0.2069 ± 0.09527 [0.06299, 0.3428]
    measured: mean exact accuracy without the task token
      torch 2.14.1, seeds 0-9: 0.1711 ± 0.02124 [0.1406, 0.1978]
"""

from readtrack.api import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Robust Speech Recognition via Large-Scale Weak Supervision",
    arxiv="2212.04356",
    claim="One encoder-decoder on log-Mel audio does several tasks, chosen by special tokens in the prompt.",
    exercises=[
        Exercise(
            target="stft_power",
            statement="""
                Whisper's framed DFT power spectrum (section 2.2 as its code computes it, torch.stft with
                center=True, reflect padding and a periodic Hann window):

                    X[m, f] = Σ_n w[n] x_pad[m·hop + n] e^(−2πi f n / N),   P[f, m] = |X[m, f]|²

                x: audio (B, samples) with samples > N/2; N: the window and DFT length (even); hop: the
                stride. x_pad is x reflect-padded by N/2 samples at both ends (F.pad(..., mode="reflect")
                wants a channel dimension), so frame m is centred on sample m·hop and there are
                1 + samples // hop frames. w is hann_window(N) (model.py: periodic, w[n] = ½(1 −
                cos(2πn/N)), not the symmetric N − 1 form). f = 0 … N/2 (one-sided). Returns (B, N/2 + 1,
                frames) in x's dtype, differentiable in x; no complex tensors needed (the DFT as two real
                matmuls).
            """,
            hints=[
                "padded = F.pad(x[:, None], (N // 2, N // 2), mode='reflect')[:, 0]; frames = "
                "padded.unfold(-1, N, hop) * hann_window(N, dtype=x.dtype, device=x.device), (B, M, N).",
                "The DFT matrix: angle[n, f] = 2π·f·n / N for n = 0 … N−1, f = 0 … N/2 (reduce f·n mod N "
                "first, to keep the angles small); real = frames @ cos(angle), imag = −frames @ sin(angle).",
                "(real.square() + imag.square()).transpose(1, 2): frequencies before frames.",
            ],
            lines=7,
            references=["torch.stft"],
        ),
        Exercise(
            target="log_mel",
            statement="""
                Whisper's log-Mel normalisation (its log_mel_spectrogram), per example b:

                    S = M · P[:, :−1]            (the last STFT frame is dropped)
                    L = log10(max(S, 1e−10)),   L = max(L, max(L) − 8),   L = (L + 4) / 4

                x: audio (B, samples); filters: M, (n_mels, N/2 + 1) (cast it to x's dtype); N, hop: passed
                to stft_power (model.py). max(L) is the largest value of that one example's (n_mels,
                frames) map, so a quiet recording is floored 80 dB below its own loudest bin, not below the
                batch's. Returns (B, n_mels, frames − 1).
            """,
            hints=[
                "power = stft_power(x, N, hop)[..., :-1]; mel = filters.to(x.dtype) @ power.",
                "torch.clamp(mel, min=1e-10).log10(); the per-example maximum is L.amax(dim=(1, 2), "
                "keepdim=True).",
                "L = torch.maximum(L, L.amax(dim=(1, 2), keepdim=True) - 8.0); return (L + 4.0) / 4.0.",
            ],
            lines=5,
        ),
    ],
)
