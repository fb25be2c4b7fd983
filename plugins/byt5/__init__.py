"""ByT5: Towards a token-free future with pre-trained byte-to-byte models (Xue, Barua, Constant, Al-Rfou,
Narang, Kale, Roberts and Raffel, Google 2021, arXiv 2105.13626).

Claim: a standard transformer can read and write raw UTF-8 bytes instead of subword tokens with little
change (a 259-id vocabulary, the saved embedding parameters moved into a deeper encoder), matching subword
models of the same size and being much more robust to noise: under character-level corruption (section 6:
add/drop/mutate, repetitions, uppercase, random case) a byte model loses far less than mT5.

What the code implements (``model.py``; the subword tokenizer is the shared ``plugin_kit.bpe``):

    ids:       0 <pad>, 1 </s>, 2 <unk>, 3 + b for each UTF-8 byte b: 259 ids (section 3.1)
    sizes:     the byte model gets the subword model's parameters: the saved (V_sub − 259)·d embedding
               parameters buy whole encoder layers, the rest widens or narrows d_ff (Table 1's re-allocation)
    encoder:   h = E[x] + P;  a = h + Attn(LN₁ h, padding masked);  h' = a + W₂ GELU(W₁ LN₂ a);
               logits = W_c · mean over real tokens of LN_f(h_L)
    noise:     add/drop/mutate (p = 0.1), repetitions (p = 0.2, 1-3 extra), uppercase, random case (section
               6), applied to the test text only: the paper's "unseen noise"

The tiny experiment. check: decode(encode(x)) == x for hostile strings (NUL, combining marks, ZWJ emoji, CJK,
right-to-left, U+10FFFF) and, in the tests, for any text hypothesis draws; the encoder block equals
``nn.TransformerEncoderLayer`` (pre-LN, GELU, key padding mask) with copied weights, forward and every
gradient, float64 (≤ 3e-14) and float32 (≤ 1.2e-5), N = 1, 7, 33 with padded rows; a sentence's logits in a
padded batch equal its logits alone; the byte model's parameters are within 1% of the subword model's; the
noise does what section 6 says. train: sentences of 2-4 made-up words, one of them a keyword naming one of 8
topics (keywords and fillers spelt from different syllables), the first word capitalised; a BPE trained on the
clean training text makes every word a token (vocabulary 489 + <pad>). The subword classifier (2 layers, d =
32, d_ff = 128, 46 536 parameters) and the byte classifier (3 layers, d_ff = 101, 46 583 parameters; inputs
nearly 5× longer, the ratio measured in the calibration) see the same 3000 sentences in the same batches of 32
for 1000 AdamW steps (quick: 600; a 10% linear warm-up, then cosine decay to 0), each at its best rate of
{1e-3, 3e-3, 1e-2} on a validation set. Full run (``readtrack run byt5 --only train --seeds 0-4``): both
models learn the clean task (target ≥ 0.95) and the subword model loses more accuracy to the four noises than
the byte model, by at least the target of 0.2, on every one of seeds 0-4; every target passes. The byte
model's rate varies by seed (3e-3 or 1e-3; ties go to the smaller rate); the subword model's validation
accuracy ties at every rate on every seed, so it trains at 1e-3. The full run's numbers over seeds 0-4, the
validation accuracy at each rate among them, are in the calibration at the end of this page; another CPU's
kernels round differently and move them, not the verdicts (an earlier full run with AVX2 kernels forced also
passed every target on seeds 0-4). At 600 steps the full run passed too, but seed 1's bytes by 0.001 (0.951).
The quick run (``readtrack run byt5 --quick``) trains one rate each, the grid's pick on the validation
sentences at 600 steps by the best mean over seeds (``readtrack run byt5 --quick --impl grid --seeds 0-4``
runs the grid): bytes 3e-3; subwords 1e-3, where every rate ties and the tie goes to the smallest. Its
targets: clean accuracy ≥ 0.85 for both; the accuracy lost to noise, subwords − bytes, is measured there, not
asserted: at quick size it is a smoke test and the full run carries the claim. Issue 42's calibration (every
seed of 0-19, a margin of at least 3 seed standard deviations) found the difference positive on every seed but
its margin over the former quick threshold, 0.1, only 2.6 sd: it moves with how much each seed's byte model
learns to ignore case, which it sees only in a sentence's first letter. The levers that would steady it, more
steps or each model's own rate from the grid on the validation sentences (the full run's way), would take the
quick run, already the shelf's slowest at about 14 s, past 15 s. The numbers over seeds are in the calibration
at the end of this page. The quick run used to train 500 steps at a constant rate; its byte accuracy then hung
on the CPU's rounding (it moved with the kernels, AVX-512 or AVX2, and with AVX2 kernels forced seed 3
failed); the warm-up and decay replaced the constant rate. The can-fail test gives the "byte" model the
subword model's tokens and size: the full run's A/B target fails.

What did not reproduce, or only partly: the byte model is robust only relative to the subword model. In the
full run it still loses a third or more of its clean accuracy on average under the four noises, on every one
of seeds 0-4; uppercase costs it most on every seed, because here the model never saw a capital letter outside
a sentence's first character, where ByT5 was pre-trained on text in which both cases occur. The subword model,
trained on clean text, falls to about chance (1/8) under both case noises (every word becomes unseen pieces)
and keeps far less than the byte model under repetitions. A fair echo of section 6's unseen-noise setting:
same task, data, batches and parameter count; only what the model reads (bytes or subwords) differs. The
bench: a training step costs about 3× the subword model's at 1 sentence per row (29 vs 5 ids) and 5.5× at 3
sentences (73 vs 17 ids).

Calibration (generated by ``python benchmarks/calibrate.py byt5 --write`` from ``calibration.json``; mean ±
sd [min, max] over seeds, one thread each; a target is asserted only when every seed passes and its margin,
(mean − threshold) / sd, is at least 3 on every torch):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.85: clean test accuracy, bytes
      torch 2.14.1, seeds 0-19: 0.9753 ± 0.02683 [0.8900, 0.9980], margin 4.7 sd
      torch 2.13.0, seeds 0-9: 0.9712 ± 0.03269 [0.8900, 0.9980], margin 3.7 sd
    target ≥ 0.85: clean test accuracy, subwords
      torch 2.14.1, seeds 0-19: 1.000 on every seed
      torch 2.13.0, seeds 0-9: 1.000 on every seed
    measured: ids per test sentence, bytes / subwords
      torch 2.14.1, seeds 0-19: 4.788 ± 0.08260 [4.560, 4.882]
      torch 2.13.0, seeds 0-9: 4.781 ± 0.08929 [4.560, 4.870]
    measured: validation accuracy, bytes, lr 0.003
      torch 2.14.1, seeds 0-19: 0.9747 ± 0.03079 [0.8733, 1.000]
      torch 2.13.0, seeds 0-9: 0.9693 ± 0.03912 [0.8733, 1.000]
    measured: clean test accuracy, bytes
      torch 2.14.1, seeds 0-19: 0.9753 ± 0.02683 [0.8900, 0.9980]
      torch 2.13.0, seeds 0-9: 0.9712 ± 0.03269 [0.8900, 0.9980]
    measured: test accuracy under add/drop/mutate 0.1, bytes
      torch 2.14.1, seeds 0-19: 0.6519 ± 0.05443 [0.4960, 0.7220]
      torch 2.13.0, seeds 0-9: 0.6356 ± 0.06269 [0.4960, 0.7220]
    measured: test accuracy under repetitions 0.2, bytes
      torch 2.14.1, seeds 0-19: 0.6419 ± 0.1037 [0.4240, 0.8160]
      torch 2.13.0, seeds 0-9: 0.6074 ± 0.09418 [0.4240, 0.7960]
    measured: test accuracy under uppercase, bytes
      torch 2.14.1, seeds 0-19: 0.3256 ± 0.1151 [0.1480, 0.6020]
      torch 2.13.0, seeds 0-9: 0.3238 ± 0.09681 [0.2060, 0.5140]
    measured: test accuracy under random case, bytes
      torch 2.14.1, seeds 0-19: 0.5446 ± 0.1025 [0.3660, 0.7640]
      torch 2.13.0, seeds 0-9: 0.5106 ± 0.09783 [0.3660, 0.7120]
    measured: validation accuracy, subwords, lr 0.001
      torch 2.14.1, seeds 0-19: 1.000 on every seed
      torch 2.13.0, seeds 0-9: 1.000 on every seed
    measured: clean test accuracy, subwords
      torch 2.14.1, seeds 0-19: 1.000 on every seed
      torch 2.13.0, seeds 0-9: 1.000 on every seed
    measured: test accuracy under add/drop/mutate 0.1, subwords
      torch 2.14.1, seeds 0-19: 0.5361 ± 0.03431 [0.4500, 0.5800]
      torch 2.13.0, seeds 0-9: 0.5264 ± 0.04034 [0.4500, 0.5760]
    measured: test accuracy under repetitions 0.2, subwords
      torch 2.14.1, seeds 0-19: 0.3000 ± 0.03014 [0.2580, 0.3620]
      torch 2.13.0, seeds 0-9: 0.2844 ± 0.02478 [0.2580, 0.3280]
    measured: test accuracy under uppercase, subwords
      torch 2.14.1, seeds 0-19: 0.1205 ± 0.01572 [0.1000, 0.1500]
      torch 2.13.0, seeds 0-9: 0.1174 ± 0.01327 [0.1040, 0.1500]
    measured: test accuracy under random case, subwords
      torch 2.14.1, seeds 0-19: 0.1552 ± 0.01477 [0.1300, 0.1800]
      torch 2.13.0, seeds 0-9: 0.1538 ± 0.01570 [0.1300, 0.1800]
    measured: accuracy lost to noise (mean of the four): subwords − bytes
      torch 2.14.1, seeds 0-19: 0.2877 ± 0.07227 [0.1665, 0.4200]
      torch 2.13.0, seeds 0-9: 0.2777 ± 0.06272 [0.2300, 0.4200]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 0.95: clean test accuracy, bytes
      torch 2.14.1, seeds 0-9: 0.9969 ± 0.003071 [0.9900, 1.000], margin 15.3 sd
    target ≥ 0.95: clean test accuracy, subwords
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    target ≥ 0.2: accuracy lost to noise (mean of the four): subwords − bytes
      torch 2.14.1, seeds 0-9: 0.3444 ± 0.07165 [0.2140, 0.4355], margin 2.0 sd
    measured: ids per test sentence, bytes / subwords
      torch 2.14.1, seeds 0-9: 4.773 ± 0.08472 [4.568, 4.874]
    measured: validation accuracy, bytes, lr 0.001
      torch 2.14.1, seeds 0-9: 0.9930 ± 0.009356 [0.9733, 1.000]
    measured: validation accuracy, bytes, lr 0.003
      torch 2.14.1, seeds 0-9: 0.9977 ± 0.003531 [0.9900, 1.000]
    measured: validation accuracy, bytes, lr 0.01
      torch 2.14.1, seeds 0-9: 0.9867 ± 0.02304 [0.9233, 1.000]
    measured: clean test accuracy, bytes
      torch 2.14.1, seeds 0-9: 0.9969 ± 0.003071 [0.9900, 1.000]
    measured: test accuracy under add/drop/mutate 0.1, bytes
      torch 2.14.1, seeds 0-9: 0.7082 ± 0.02351 [0.6800, 0.7460]
    measured: test accuracy under repetitions 0.2, bytes
      torch 2.14.1, seeds 0-9: 0.7610 ± 0.08794 [0.6390, 0.8750]
    measured: test accuracy under uppercase, bytes
      torch 2.14.1, seeds 0-9: 0.3591 ± 0.1022 [0.2030, 0.5000]
    measured: test accuracy under random case, bytes
      torch 2.14.1, seeds 0-9: 0.6136 ± 0.08824 [0.4630, 0.7260]
    measured: validation accuracy, subwords, lr 0.001
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    measured: validation accuracy, subwords, lr 0.003
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    measured: validation accuracy, subwords, lr 0.01
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    measured: clean test accuracy, subwords
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    measured: test accuracy under add/drop/mutate 0.1, subwords
      torch 2.14.1, seeds 0-9: 0.5220 ± 0.03811 [0.4430, 0.5630]
    measured: test accuracy under repetitions 0.2, subwords
      torch 2.14.1, seeds 0-9: 0.2833 ± 0.02346 [0.2450, 0.3290]
    measured: test accuracy under uppercase, subwords
      torch 2.14.1, seeds 0-9: 0.1224 ± 0.01993 [0.09300, 0.1540]
    measured: test accuracy under random case, subwords
      torch 2.14.1, seeds 0-9: 0.1489 ± 0.01434 [0.1230, 0.1690]

    Asserted though it breaks the rule (to be strengthened, or reported instead):
    - accuracy lost to noise (mean of the four): subwords − bytes (full, torch 2.14.1): margin 2.0 sd < 3
"""

from readtrack.plugins.declaration import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="ByT5: Towards a token-free future with pre-trained byte-to-byte models",
    arxiv="2105.13626",
    doi="10.1162/tacl_a_00461",
    claim="A byte-level model of equal size loses less accuracy than a subword model under character noise.",
    exercises=[
        Exercise(
            target="encode_bytes",
            statement="""
                Section 3.1: no tokenizer, the ids are the text's UTF-8 bytes. The vocabulary has 259 ids:
                0 <pad>, 1 </s>, 2 <unk> (the module's PAD, EOS, UNK), then byte b ∈ [0, 255] is id
                b + 3 (OFFSET = 3); every encoding ends with </s>.

                text: any str (NUL, combining marks, emoji, CJK, right-to-left...). Return a list of ints,
                one id per UTF-8 byte of the text and then EOS: len(text.encode("utf-8")) + 1 ids, each in
                [OFFSET, BYTE_VOCAB) but the last.
            """,
            hints=[
                "text.encode('utf-8') gives the bytes; iterating over a bytes object gives ints 0 … 255.",
                "Shift each byte by OFFSET, or byte 0 is read as <pad> and byte 1 as </s>.",
            ],
            lines=1,
        ),
        Exercise(
            target="decode_bytes",
            statement="""
                The inverse of encode_bytes: drop the special ids (PAD, EOS, UNK: every id below OFFSET),
                shift the others back to bytes (id − OFFSET) and read those bytes as UTF-8. A model can emit
                an invalid UTF-8 sequence: drop it, as ByT5's tokenizer does, rather than fail.

                ids: a list of ints in [0, BYTE_VOCAB). Return the str; decode_bytes(encode_bytes(x)) == x
                for every string x.
            """,
            hints=[
                "A character outside ASCII is several bytes (é is 2, an emoji 4): decode the bytes "
                "together, not one id at a time with chr().",
                "bytes(i - OFFSET for i in ids if i >= OFFSET).decode('utf-8', errors=...)",
            ],
            lines=1,
        ),
        Exercise(
            target="matched_bytes",
            statement="""
                Table 1's re-allocation: a byte model with the subword model's parameter count. The 259-id
                vocabulary saves (V_subword − 259)·d embedding parameters; they buy whole encoder layers
                first (the nearest whole number of blocks, never fewer layers than the subword model), and
                what is left over, or missing, widens (or narrows) d_ff in every layer, to the nearest unit:
                one more unit of d_ff costs 2d + 1 parameters per layer (a row of fc1 with its bias and a
                column of fc2).

                subword: the subword model's EncoderConfig (vocab V_subword, d_model d, layers, d_ff).
                Return an EncoderConfig equal to it but for vocab = BYTE_VOCAB, layers and d_ff
                (dataclasses.replace). parameters(Block(d, n_heads, d_ff)) counts one block's parameters.
                The check wants the byte Classifier's parameters within 1% of the subword one's.
            """,
            hints=[
                "saved = (subword.vocab - BYTE_VOCAB) * d; block = parameters(Block(d, subword.n_heads, "
                "subword.d_ff)).",
                "layers = subword.layers + max(0, round(saved / block)); what is still to spend is "
                "saved − (the layers added) · block.",
                "d_ff = subword.d_ff + round(rest / (layers * (2 * d + 1))), then replace(subword, "
                "vocab=BYTE_VOCAB, layers=layers, d_ff=d_ff).",
            ],
            lines=6,
        ),
    ],
)
