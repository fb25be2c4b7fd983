"""Integer tokenization is insane (Beren Millidge, blog post, 2023; no arXiv id:
https://www.beren.io/2023-02-04-Integer-tokenization-is-insane/).

Claim: GPT-style BPE tokenizers cut integers into chunks chosen by how often digit strings occurred in the
training text, not by place value: some 4-digit numbers are one token, others two, three or four, in every
arrangement (1|234, 12|34, 123|4, 1|2|34, …), so the same digit lands in different tokens from number to
number and arithmetic over such tokens is needlessly hard; splitting numbers into single digits (as PaLM
and LLaMA later did) gives every number the same structure and should make arithmetic easier to learn.

What the code implements (``readtrack.plugin_kit.bpe``, ``model.py``):

    pieces:    " ?[A-Za-z]+ | ?[0-9]+ | ?[^\\sA-Za-z0-9]+ |\\s+"    (a run of digits stays one piece)
    digits:    " ?[A-Za-z]+ | ?[0-9]  | ?[^\\sA-Za-z0-9]+ |\\s+"    (each digit its own piece)
    BPE:       256 byte tokens; repeat: merge the most frequent adjacent pair inside the pieces (ties: the
               smallest pair) into token 256 + k; encode by applying the merges in rank order
    task:      enc(a) enc(+) enc(b) enc(=) enc(reverse(a + b)) <eos>, the sum least significant digit first,
               operands zero-padded to 2 digits and the sum to 3 (07+42=940); 2 × ``unseen`` of the
               numbers 0-99 never appear as an operand in training (half pick the rates, half are tested)
    loss:      − Σ_t log p(y_t | y_<t, prompt) over the answer's tokens;  exact = every arg-max right

The tiny experiment. check: the BPE's merges equal a naive recount-and-merge loop and Hugging Face
``tokenizers``' ``BpeTrainer`` with the same pattern (merges and encodings identical, digit runs kept and
digits split), decode(encode(x)) == x on hostile strings, a digit-split vocabulary holds no two-digit token,
every answer of the format reads back as a + b, and an answer's nats in a padded batch equal a
one-example-at-a-time log_softmax loop (float64 1.8e-15, float32 1.9e-6, gradients of every weight too;
``readtrack run integer-tokenization --only check``).

train: a BPE of 256 + 800 tokens trained on seeded text where 40% of the words are numbers (years, round
amounts, Benford-like counts) cuts 1000-9999 in several distinct ways (token lengths 2|2, 1|2|1, 1|3, 3|1 and
2|1|1, and a few numbers are one token; the run's details give how many numbers each splitting takes; the
quick run trains its BPE on 1000 lines); with digits split, one way (1|1|1|1 for all 9000). Then addition,
a + b with a, b < 100, written at a fixed width and the sum reversed (07+42=940: zero-padded operands, the
answer one digit wider, least significant digit first). Twenty of the hundred numbers never occur as an
operand in training (``--set unseen=10``: ten whose pairs pick each arm's rate, ten whose pairs are the test),
so the test asks what the post is about: a number whose tokens the model never read as an operand. With digit
tokens its digits are the digits of every other number; with BPE tokens it is, mostly, a token whose value
was never taught. A paired design: two TinyTransformers (2 layers, d = 32, vocabulary = the tokenizer's digit
tokens, "+", "=", <eos>, <pad>, the same size for both) with the same initialisation, the same batches of 128
drawn from the same training pairs, AdamW (betas 0.9, 0.98, 20 warm-up steps, then a cosine decay to 0);
only the tokenizer differs (``--set split_digits=false`` gives the digit arm the BPE too: every gap is then
exactly 0). The run reports exact match and −log p(answer) on 1000 held-out pairs of trained numbers and on
the ~1700 pairs with a test number, per arm and per rate.

The full run (1500 steps, each arm at its best of {3e-3, 1e-2} on the validation pairs; ``readtrack run
integer-tokenization --only train --seeds 0-9``) asserts the post's claim on the unseen-number pairs: digit
tokens ahead of BPE tokens in exact match (the gap > 0: the claim is "ahead", so no size is claimed), and the
digit model's exact match ≥ 0.95 on seen-number pairs; the −log p(answer) gap (held to < 0) is reported, as in
the quick run. The quick run (200 steps at 1e-2 for both, ``readtrack run integer-tokenization --quick``)
cannot show exact match: at 200 steps neither model adds yet (held-out exact match ~0.01-0.1 for both on
development seeds 100-104; at 150 steps, the old quick budget, the same), and the full run's first rate that
learns needs 400+ steps per arm, over the 15 s budget. So the quick run's A/B is the nearest claim that shows
there, named as such: "held-out −log p(answer), digit tokens − BPE tokens, unseen numbers (nats)" < 0, i.e.
before either model adds, the right answer to a sum with a never-trained number is already likelier with digit
tokens (the BPE model grows confident about seen tokens and wrong about unseen ones: its unseen-number nats
rise with training while its seen-number nats fall). It held on every calibration seed, but short of the
rule's 3 seed sds (the BPE model's confidence on never-trained tokens varies widely from seed to seed; the
calibration below), so the quick run reports it with its threshold rather than asserting it; its asserted
targets are the splittings and greedy = teacher-forced. Attempts (``python`` loops equal to the quick run's,
seeds 100-104, not part of the plugin): at 150 steps, the old quick budget, the gap was −0.91, −1.74, −0.86,
−1.46, −1.92 nats (2.9 sd), at 200 steps −3.5, −3.1, −4.6 on seeds 100, 103, 104; the calibration of the
200-step run at a constant rate (``python benchmarks/calibrate.py integer-tokenization --seeds 0-19``) gave
1.9 sd, with the cosine decay the run has now 1.6 sd. A bounded statistic (the share of unseen-number pairs
whose answer is likelier with digit tokens) or more initialisations per run (``--set seeds=3``, over the time
budget) are the next things to try.
The exact-match gap on seen-number pairs is measured only: with only 80 numbers, every pair of
which is a training candidate, BPE tokens can also learn those sums (in the previous version of this plugin,
with no numbers held out, BPE's exact match at its best rate reached 0.81 and 0.64 on two of seeds 0-4 at 800
steps, and the digit − BPE gap was 0.636 ± 0.335, 1.9 sd: unassertable).
Greedy decoding writes the answer's tokens exactly when teacher forcing gets every arg-max right (50 held-out
pairs, quick 20; asserted, on a float64 copy of the model so no near-tie can round the two apart). It can also
write the right sum in other tokens than the tokenizer's: on seed 2 of the older full run (800 steps at a
constant rate; commit e5b940a, ``readtrack run integer-tokenization --only train --seed 2``) the BPE model
wrote 46 + 43 = 089 reversed as 9|80 where the tokenizer spells 98|0, a right sum that teacher forcing counts
wrong (the target then compared sums with tokens and failed on seeds 2 and 4). That is the post's point from
the model's side, a number with many spellings in BPE tokens and one in digit tokens, and it is reported:
"greedy: right sums in other tokens than the tokenizer's". The full run's digit model on seen numbers needed
the longer run: at 800 constant-rate steps it ended at 0.904 on seed 3. The bench
(``readtrack run integer-tokenization --only bench``, one run on a shared 2-core CPU) shows BPE encoding the
9000 numbers slower than digit splitting (``encode 1000-9999, BPE tokens (cold cache)`` 95 ms against 33 ms
for ``encode 1000-9999, digit tokens (cold cache)``); it also times a training step with each tokenizer at 2
and 4 digits (``training step, 4-digit addition, digit tokens (16 tokens per padded example)`` and its like),
where the digit sequences are the longer at 4 digits (16 tokens against 13 or 14), but those rows' spreads
(26-63% of the median) were too wide there to order the steps' times.

What did not reproduce, or only partly: (1) "BPE cannot learn addition" is not what this shows: on pairs of
trained numbers BPE tokens do learn it on some seeds (above); what holds is that its learning does not carry
to a number it never saw as an operand, while digit tokens' does. (2) The format matters as much as the
tokenizer: written as is (7+42=94, numbers of different lengths), the digit model's plateau ended between 300
and over 800 steps depending on the seed (an earlier version of this plugin; no command here re-runs it).
Fixed width puts each digit at the same position in every example, the post's point about place value in its
own terms, and it is applied to both tokenizations. (3) At 3-digit operands an exploratory run (1200 steps,
unpadded, not part of the plugin) left the digit model on its plateau, so the plugin asserts the 2-digit case
only. A fair echo: one tokenizer trainer, one corpus, one model and one data stream, with only "may a token
hold more than one digit" switched.

Calibration (generated by ``readtrack calibrate integer-tokenization --write`` from ``calibration.json``;
mean ± sd [min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's
(value − threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and
the mean lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the
passing side, a single seed may lie closer):

    quick runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 4: distinct splittings (token lengths) of 1000-9999, BPE
      torch 2.14.1, seeds 0-19: 6.800 ± 0.5231 [6.000, 8.000], margin 5.4 sd (worst seed 3.8 sd)
      torch 2.13.0, seeds 0-9: 6.600 ± 0.5164 [6.000, 7.000], margin 5.0 sd (worst seed 3.9 sd)
    target ≤ 1: distinct splittings (token lengths) of 1000-9999, digits split
      torch 2.14.1, seeds 0-19: 1.000 on every seed
      torch 2.13.0, seeds 0-9: 1.000 on every seed
    target ≤ 0: greedy's tokens exact − teacher-forced exact match, 20 held-out pairs, BPE tokens, 2 digits
      torch 2.14.1, seeds 0-19: 0 on every seed
      torch 2.13.0, seeds 0-9: 0 on every seed
    target ≤ 0: greedy's tokens exact − teacher-forced exact match, 20 held-out pairs, digit tokens, 2
      digits
      torch 2.14.1, seeds 0-19: 0 on every seed
      torch 2.13.0, seeds 0-9: 0 on every seed
    measured: numbers in 1000-9999 that are one token, BPE
      torch 2.14.1, seeds 0-19: 15.85 ± 4.545 [9.000, 29.00]
      torch 2.13.0, seeds 0-9: 15.20 ± 2.898 [9.000, 19.00]
    measured: numbers in 1000-9999 that are one token, digits split
      torch 2.14.1, seeds 0-19: 0 on every seed
      torch 2.13.0, seeds 0-9: 0 on every seed
    measured: held-out exact match, BPE tokens, unseen numbers, lr 0.01
      torch 2.14.1, seeds 0-19: 0.01250 ± 0.006014 [0.001765, 0.02176]
      torch 2.13.0, seeds 0-9: 0.01106 ± 0.006502 [0.001765, 0.02176]
    measured: greedy: right sums in other tokens than the tokenizer's, 20 held-out pairs, BPE tokens
      torch 2.14.1, seeds 0-19: 0 on every seed
      torch 2.13.0, seeds 0-9: 0 on every seed
    measured: held-out exact match, digit tokens, unseen numbers, lr 0.01
      torch 2.14.1, seeds 0-19: 0.06412 ± 0.1517 [0.006471, 0.6494]
      torch 2.13.0, seeds 0-9: 0.1047 ± 0.2109 [0.009412, 0.6494]
    measured: greedy: right sums in other tokens than the tokenizer's, 20 held-out pairs, digit tokens
      torch 2.14.1, seeds 0-19: 0 on every seed
      torch 2.13.0, seeds 0-9: 0 on every seed
    measured: held-out exact match, digit tokens − BPE tokens, seen numbers
      torch 2.14.1, seeds 0-19: 0.02150 ± 0.1512 [-0.04700, 0.6080]
      torch 2.13.0, seeds 0-9: 0.06450 ± 0.2080 [-0.04200, 0.6080]
    measured: held-out −log p(answer), digit tokens − BPE tokens, seen numbers (nats)
      torch 2.14.1, seeds 0-19: 0.06747 ± 0.7607 [-2.511, 0.7154]
      torch 2.13.0, seeds 0-9: -0.1195 ± 0.9917 [-2.511, 0.6794]
    reported, not asserted at quick size (the claim: ≤ 0): held-out −log p(answer), digit tokens − BPE
      tokens, unseen numbers (nats)
      torch 2.14.1, seeds 0-19: -1.448 ± 0.9196 [-4.055, -0.4503], margin 1.6 sd (worst seed 0.5 sd)
      torch 2.13.0, seeds 0-9: -1.669 ± 1.138 [-4.055, -0.4503], margin 1.5 sd (worst seed 0.4 sd)
    measured: held-out exact match, digit tokens − BPE tokens, unseen numbers
      torch 2.14.1, seeds 0-19: 0.05162 ± 0.1537 [-0.008235, 0.6476]
      torch 2.13.0, seeds 0-9: 0.09365 ± 0.2135 [-0.008235, 0.6476]
    full runs, CPU (AVX512 kernels), 2026-11-27:
    target ≥ 4: distinct splittings (token lengths) of 1000-9999, BPE
      torch 2.14.1, seeds 0-9: 5.900 ± 0.3162 [5.000, 6.000], margin 6.0 sd (worst seed 3.2 sd)
    target ≤ 1: distinct splittings (token lengths) of 1000-9999, digits split
      torch 2.14.1, seeds 0-9: 1.000 on every seed
    target ≤ 0: greedy's tokens exact − teacher-forced exact match, 50 held-out pairs, BPE tokens, 2 digits
      torch 2.14.1, seeds 0-9: 0 on every seed
    target ≤ 0: greedy's tokens exact − teacher-forced exact match, 50 held-out pairs, digit tokens, 2
      digits
      torch 2.14.1, seeds 0-9: 0 on every seed
    target ≥ 0: held-out exact match, digit tokens − BPE tokens, unseen numbers
      torch 2.14.1, seeds 0-9: 0.9588 ± 0.03763 [0.8947, 0.9929], margin 25.5 sd (worst seed 23.8 sd)
    target ≥ 0.95: held-out exact match, digit tokens, seen numbers
      torch 2.14.1, seeds 0-9: 0.9999 ± 0.000316 [0.9990, 1.000], margin 157.8 sd (worst seed 155.0 sd)
    measured: numbers in 1000-9999 that are one token, BPE
      torch 2.14.1, seeds 0-9: 13.70 ± 2.751 [9.000, 17.00]
    measured: numbers in 1000-9999 that are one token, digits split
      torch 2.14.1, seeds 0-9: 0 on every seed
    measured: held-out exact match, BPE tokens, unseen numbers, lr 0.003
      torch 2.14.1, seeds 0-9: 0.03094 ± 0.02905 [0, 0.09000]
    measured: held-out exact match, BPE tokens, unseen numbers, lr 0.01
      torch 2.14.1, seeds 0-9: 0.02641 ± 0.03206 [0.004118, 0.1029]
    measured: greedy: right sums in other tokens than the tokenizer's, 50 held-out pairs, BPE tokens
      torch 2.14.1, seeds 0-9: 0 on every seed
    measured: held-out exact match, digit tokens, unseen numbers, lr 0.003
      torch 2.14.1, seeds 0-9: 0.9967 ± 0.007800 [0.9747, 1.000]
    measured: held-out exact match, digit tokens, unseen numbers, lr 0.01
      torch 2.14.1, seeds 0-9: 0.9985 ± 0.003224 [0.9906, 1.000]
    measured: greedy: right sums in other tokens than the tokenizer's, 50 held-out pairs, digit tokens
      torch 2.14.1, seeds 0-9: 0 on every seed
    measured: held-out exact match, digit tokens − BPE tokens, seen numbers
      torch 2.14.1, seeds 0-9: 0.3010 ± 0.2156 [0.007000, 0.5020]
    measured: held-out −log p(answer), digit tokens − BPE tokens, seen numbers (nats)
      torch 2.14.1, seeds 0-9: -1.046 ± 0.6160 [-1.617, -0.03820]
    reported, not asserted at full size (the claim: ≤ 0): held-out −log p(answer), digit tokens − BPE
      tokens, unseen numbers (nats)
      torch 2.14.1, seeds 0-9: -14.65 ± 4.721 [-19.60, -8.584], margin 3.1 sd (worst seed 1.8 sd)
"""

from readtrack.api import Exercise, Member, declare, lineage_members

readtrack_paper_plugins = declare(
    __name__,
    title="Integer tokenization is insane",
    arxiv=None,
    claim="BPE cuts integers inconsistently; addition on single-digit tokens beats BPE's number tokens.",
    exercises=[
        Exercise(
            target="answer_nats",
            statement="""
                The score that compares two tokenizations of the same sums: the negative log-probability of
                the whole answer string, in nats,

                    nats(a, b) = − Σ_t log p(y_t | y_<t, prompt)      over the answer's tokens (and <eos>)

                a number both tokenizations share however many tokens each cuts the answer into (a mean
                per token would not be). logits: (B, N, V), the model's next-token logits for a padded
                batch; y: (B, N) long, the target at each position: the answer tokens where x[t + 1] is
                one, IGNORE (−100, from readtrack.plugin_kit.tasks) at every prompt and padding position.
                Return (B,), one sum per example, IGNORE positions contributing nothing, differentiable in
                logits. The check compares a padded batch with one example at a time, unpadded.
            """,
            hints=[
                "F.cross_entropy(..., reduction='none') gives the per-position −log p; it needs "
                "targets ≥ 0, so clamp IGNORE to a valid id first and mask it out afterwards.",
                "scored = y != IGNORE; multiply the (B, N) losses by it before summing over dim 1.",
                "nll = F.cross_entropy(logits.flatten(0, 1), y.clamp(min=0).flatten(), reduction='none'); "
                "return (nll.view_as(y) * scored).sum(dim=1).",
            ],
            lines=3,
        )
    ],
)

readtrack_lineages = lineage_members(
    Member(
        "tokenization",
        "integer-tokenization",
        year=2023,
        improves=("byt5:bpe",),
        what="a finding, not a method: BPE splits the numbers 1000-9999 in many ways, digits split them "
        "one way",
        number="distinct splittings (token lengths) of 1000-9999, BPE",
    ),
)
