"""Learning to Compress Prompts with Gist Tokens (Jesse Mu, Xiang Lisa Li and Noah Goodman, arXiv 2304.08467).

Claim: finetune a language model on instructions with k "gist" tokens inserted after each prompt and an
attention mask that stops everything after the gist tokens from seeing the prompt; the model learns to
compress the prompt into the gist tokens' activations, reaching nearly the accuracy of a model that sees the
whole prompt (the positive control) while only the gist tokens' keys and values need to be cached (up to 26×
compression in the paper), far above a model with no prompt at all (the negative control).

The gist mask for a decoder-only model (section 3, figure 2), over [prompt t] [gist G₁…G_k] [input x, output]:

    mask[i, j] = (j ≤ i) and not (i ≥ |t| + k and j < |t|)       True = i may attend to j
    gist caching: run t G once, keep each layer's K, V at the k gist positions; decode x against them alone
    cache per layer: 2 · d · k numbers instead of 2 · d · (|t| + k), a saving of (|t| + k) / k

The gist tokens are one new token repeated k times (the official code finds them as ``inputs == gist_token``).
``model.py`` has the mask, ``gist_cache`` and ``decode_with_gist_cache``: a key/value-cache forward of our
own over ``plugin_kit.transformer.TinyTransformer``'s weights.

The tiny experiment: the mask equals its definition written with loops; decoding the input against the cached
gist keys and values alone gives the masked forward's logits and gradients (float64 to 1.3e-14, float32 to
5.2e-6, ``readtrack run gist-tokens --only check``); the Jacobian of the outputs after the gist with respect
to the prompt embeddings is exactly 0 once the gist positions' states are held fixed, and clearly not 0 with a
causal mask or with the gist free. Then 8 tasks, each a fixed permutation of 8 symbols, named by instructions
of 8 words (each one of the task's 3 keywords, probability 3/4, or one of 8 fillers): many phrasings of 3
bits. The model reads the instruction, the gist tokens and 4 symbols and writes each symbol's image; held out:
a fixed fifth of all phrasings, never trained on. Full run
(``readtrack run gist-tokens --only train --seeds 0-4``, 600 steps, lr 1e-3, 3 layers): its numbers over seeds
0-4 are in the calibration at the end of this page. Gist models with k = 1, 2, 4 read the prompt through
caches of 1, 2, 4 positions instead of 8 (8×, 4×, 2× smaller); the negative control lands at the exact
expected ceiling of any model without the prompt (the most common image of each symbol over the tasks; the
held-out sample adds about ±0.01). The positive control learns the task on every seed, and gist k = 1 beats
the no-prompt ceiling by more than the target's 0.5 on every seed, with a margin of more than 3 seed standard
deviations. Gist k = 1 matches the positive control on seeds 0-3 but falls short of it on seed 4: that it
stays within 0.05 of the positive control held on every one of seeds 0-4, but within 3 seed standard
deviations of its threshold, short of the rule of issue 42, so the full run reports it rather than asserting
it. So the claim reproduces on seeds 0-3, where the task passes whole through one gist token,
and nearly so on seed 4. What is harder at toy scale: gist models sit on a plateau before they find the
two-hop route (prompt → gist at one layer, gist → input at a later one) that the positive control does not
need; its length depends on the seed and the learning rate, and more gist tokens learn later, not sooner: in
the full run k = 4 is still on the plateau, near the negative control, after 600 steps on seeds 2 and 4, and
k = 2 has only partly left it on seed 4, while k = 1 has left it on every seed. One-off runs outside readtrack
(no command re-runs them) saw the same at other rates and step counts. The quick run
(``readtrack run gist-tokens --quick``) trains the gist model with k = 1 alone, twice as wide (d = 64) for 300
steps, about the compute of 500 steps at d = 32: at d = 32 the plateau outlasted 500 steps on seeds 7 and 18
of 0-19 (nothing learnt), while the wider model leaves it by about step 200 on those seeds too. Yet its
plateau still has a tail: on seed 2 of 0-19 the wider model has learnt nothing by step 300, so the quick run
reports gist − the exact no-prompt ceiling without asserting it (the former target ≥ 0.3 fails on that seed;
margin 2.2 seed standard deviations). At quick size it is a smoke test. The full run (at d = 32, with the
controls) asserts that gist k = 1 beats the no-prompt ceiling by ≥ 0.5 and that the positive control learns
the task (≥ 0.95); gist k = 1 against the positive control is, at this scale, measured and reported rather
than asserted. Both runs' numbers over seeds are in the calibration at the end of this page.
With the gist tokens cut off from the prompt too (the idea removed) the reported gain vanishes (tested). The
bench: decoding 16 input tokens against a 1-token gist cache costs the same whatever the prompt's length
(2.2 ms after prompts of 128 and 512 tokens in the full run), while re-reading the prompt grows with it (24
and 80 ms). A fair echo, with one difference: the paper finetunes pretrained LLaMA-7B and FLAN-T5-XXL; here
the models learn from scratch. The knobs (``readtrack knobs gist-tokens``: the mask, steps, rate, batch,
width, layers, the keyword rate) are in ``config.py``; ``--set mask=sealed`` cuts the gist tokens off from the
prompt too, and a run with any knob turned reports its targets without asserting them.

Calibration (generated by ``python benchmarks/calibrate.py gist-tokens --write`` from ``calibration.json``;
mean ± sd [min, max] over seeds, one thread each; a target is asserted only when every seed passes and its
margin, (mean − threshold) / sd, is at least 3 on every torch):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    measured: best expected accuracy without the prompt (exact)
      torch 2.14.1, seeds 0-19: 0.3203 ± 0.02978 [0.2812, 0.3906]
      torch 2.13.0, seeds 0-9: 0.3312 ± 0.03359 [0.2969, 0.3906]
    measured: held-out accuracy, gist, k = 1
      torch 2.14.1, seeds 0-19: 0.9482 ± 0.1540 [0.3142, 1.000]
      torch 2.13.0, seeds 0-9: 0.9310 ± 0.2167 [0.3142, 1.000]
    reported, not asserted at quick size (the claim: ≥ 0.3): gist k = 1 (prompt 8× compressed): held-out
      accuracy − the best expected without the prompt
      torch 2.14.1, seeds 0-19: 0.6278 ± 0.1515 [0.001709, 0.7188], margin 2.2 sd, misses it on seed 2
      torch 2.13.0, seeds 0-9: 0.5997 ± 0.2126 [0.001709, 0.7031], margin 1.4 sd, misses it on seed 2
    full runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.5: gist k = 1 (prompt 8× compressed): held-out accuracy − the best expected without the
      prompt
      torch 2.14.1, seeds 0-4: 0.6587 ± 0.04130 [0.6064, 0.7031], margin 3.8 sd
    target ≥ 0.95: positive control learnt the task: held-out accuracy
      torch 2.14.1, seeds 0-4: 1.000 ± 5.46e-05 [0.9999, 1.000], margin 915.4 sd
    measured: best expected accuracy without the prompt (exact)
      torch 2.14.1, seeds 0-4: 0.3344 ± 0.03240 [0.2969, 0.3750]
    measured: held-out accuracy, positive control
      torch 2.14.1, seeds 0-4: 1.000 ± 5.46e-05 [0.9999, 1.000]
    measured: held-out accuracy, gist, k = 1
      torch 2.14.1, seeds 0-4: 0.9931 ± 0.01525 [0.9658, 1.000]
    measured: held-out accuracy, gist, k = 2
      torch 2.14.1, seeds 0-4: 0.8837 ± 0.2600 [0.4187, 1.000]
    measured: held-out accuracy, gist, k = 4
      torch 2.14.1, seeds 0-4: 0.7309 ± 0.3601 [0.3186, 1.000]
    measured: held-out accuracy, negative control
      torch 2.14.1, seeds 0-4: 0.3357 ± 0.02837 [0.3025, 0.3761]
    reported, not asserted at full size (the claim: ≥ -0.05): gist k = 1 − positive control, held-out
      accuracy
      torch 2.14.1, seeds 0-4: -0.006885 ± 0.01526 [-0.03418, 0.000122], margin 2.8 sd
"""

from readtrack.plugins.declaration import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Learning to Compress Prompts with Gist Tokens",
    arxiv="2304.08467",
    claim="A gist mask teaches a model to compress a prompt into k gist tokens whose cache replaces it.",
    exercises=[
        Exercise(
            target="gist_mask",
            statement="""
                The gist mask (section 3, figure 2, decoder): the causal mask with one block removed, so
                that nothing after the gist tokens can attend to the prompt:

                    mask[i, j] = (j ≤ i) and not (i ≥ |t| + k and j < |t|)

                The sequence is [prompt t: positions 0 … |t| − 1] [k gist tokens] [the input and output
                after the gist]. n_prompt = |t|, k, n_after: the three lengths; N = n_prompt + k + n_after.
                Return an (N, N) bool tensor on `device`, True where query i may attend to key j. The gist
                tokens themselves DO see the prompt (they are where it is compressed); only the positions
                after them lose it.
            """,
            hints=[
                "Start from the causal mask: torch.ones(N, N, dtype=torch.bool, device=device).tril().",
                "The removed block is rows n_prompt + k … N − 1 (after the gist), columns 0 … n_prompt − 1 "
                "(the prompt).",
                "mask[n_prompt + k :, :n_prompt] = False.",
            ],
            lines=4,
        ),
        Exercise(
            target="gist_cache",
            statement="""
                Gist caching: run [prompt, k gist tokens] once, causally, and keep for every layer the
                keys and values of the k gist positions only, so that later tokens are decoded against
                k cached positions instead of |t| + k (decode_with_gist_cache, below, does that).

                model: a TinyTransformer; prompt_and_gist: (B, |t| + k) tokens, the gist tokens last; k:
                the number of gist tokens. model.forward_cached(tokens, 0) returns (logits, kv) with kv a
                list of one (keys, values) pair per layer, each (B, H, |t| + k, d_head). Return the same
                list structure with each tensor cut to the gist positions: (B, H, k, d_head). The check
                compares decoding against your cache with the whole forward under the gist mask.
            """,
            hints=[
                "The gist tokens are the last k positions of prompt_and_gist; positions are dim 2 "
                "of each (B, H, positions, d_head) tensor.",
                "_, every = model.forward_cached(prompt_and_gist, 0); "
                "return [(keys[:, :, -k:], values[:, :, -k:]) for keys, values in every].",
            ],
            lines=2,
        ),
    ],
)
