"""Galactica: A Large Language Model for Science (Taylor, Kardas, Cucurull, Scialom, Hartshorn, Saravia,
Poulton, Kerkez and Stojnic, Meta AI 2022, arXiv 2211.09085).

Claim (section 3.1.1, "Working Memory Token, <work>"): a transformer has a fixed number of layers per
token, so a computation that needs more steps than that cannot be done "in the head" in one forward pass;
wrapping the intermediate steps in ``<work> … </work>`` and training on such traces gives the model a
working memory outside its weights, and it then solves problems (multi-digit arithmetic among them) that
it cannot answer directly. The paper prompts with ``<work>`` and reports gains on mathematical reasoning
(MMLU mathematics, MATH) over direct answers.

What ``model.py`` implements, for a + b with D digits each (zero-padded), the answer's D + 1 digits most
significant first in both formats:

    direct:      a_(D−1) … a_0 + b_(D−1) … b_0 = s_D … s_0
    scratchpad:  a_(D−1) … a_0 + b_(D−1) … b_0 = <work> [a_i b_i s_i c_(i+1)], i = 0 … D−1 </work> s_D … s_0
    each step:   a_i + b_i + c_i = s_i + 10·c_(i+1),   c_0 = 0,   s_D = c_D
    loss:        next-token cross-entropy on the generated tokens only (the work, </work> and the answer;
                 the answer alone for the direct format); decoding is greedy, with a key/value cache

The answer stays most significant first: written least significant first, the direct format would be easy
for a causal model (each digit needs only the carry of the one before) and the comparison would be empty.

The tiny experiment: the formatter, its parser and a vectorised formatter agree on every pair below 100 and on
2000 six-digit pairs, and every trace recomputes its sum; decoding with the cache equals the full forward
(float64) and greedy decoding equals a brute-force loop that re-runs the whole prefix; outputs never depend on
later inputs (Jacobian). Then two TinyTransformers (2 layers, d = 64, the same initialisation, the same
training pairs, AdamW, batch 32) learn each format, and greedy answers are scored by exact match on 500
held-out pairs. The target, asserted at both sizes: held-out exact match, scratchpad − direct, at least 0.2 in
the quick run (4 digits, 400 steps; ``readtrack run galactica --quick --jobs 1``) and at least 0.5 in the full
run (5 digits, 800 steps; ``readtrack run galactica --only train --seeds 0-9``). Every setting is a knob
(``readtrack knobs galactica``); ``--set work=false`` trains the second arm on the direct format too, the idea
removed, and its margin is 0. The full run gives each format its own best rate of {1e-3, 3e-3}, chosen on 500
validation pairs of their own stream (excluded from training like the held-out pairs), never on the reported
pairs; the quick run trains both formats at 3e-3, the grid's pick at its budget on seeds 100-101 (``readtrack
run galactica --quick --only train --set lr=0 --seeds 100-101 --jobs 1``): validation exact match of the
scratchpad model 0.87 and 0.72 at 3e-3 against 0.50 and 0.21 at 1e-3; the direct model gets no 4-digit sum
right at either rate.

The quick run was a smoke test at 3 digits and 400 steps (issue 42): the direct model half-learnt 3-digit sums
on some seeds (held-out exact match 0.03 to 0.47 on seeds 0-19), so the margin, 0.67 ± 0.20, was only 2.4 seed
standard deviations above its 0.2. At 4 digits the carry chain is one digit longer, the direct model stays
near 0 within 400 steps and the scratchpad model, whose work is the same four tokens per digit, still learns
it: the threshold is the one the quick run always claimed, and the margin meets the rule of issue 42 (the
calibration at the end of this page). Attempts on seeds 100-107 (an exploratory script with the same model,
formats and rates, its own stream of training pairs; the knobs repeat each design on the plugin's stream, e.g.
``readtrack run galactica --quick --only train --set steps=300 --seeds 100-104 --jobs 1``): 4 digits at 300
steps, the scratchpad model had not yet learnt the sums on every seed (0.56 ± 0.36, min 0.08, seeds 100-104);
6e-3 instead of 3e-3 at 300 steps broke it (0.01; 0.21 ± 0.23 with gradients clipped to norm 1); 500 steps let
the direct model learn (0.14 and 0.50 on seeds 100 and 101, a margin of 0.38 on 101); d = 32 at 500 steps
(0.89 ± 0.19), one layer at 400 steps (0.73 ± 0.21) and 5 digits at 400 steps (0.78 ± 0.15) left the
scratchpad model short on some seeds; 4 digits at 400 steps gave a margin of 0.86 ± 0.13 (min 0.67) on seeds
100-107, the direct model at 0 to 0.16. The sum digits s_i are what the scratchpad model learns last (at 400
steps on a seed where it is short, 8% of them wrong with teacher forcing, every copied digit and carry right).
The quick run takes about 30 s (all three stages, under load on 2 cores), as the 3-digit one did.

The full run does not meet the rule of issue 42 on seeds 0-9 (the calibration at the end of this page: the
margin is 2.4 seed standard deviations above 0.5, every seed passing, min 0.58). The scratchpad model gets
every held-out 5-digit sum right on every seed; the direct model, at 3e-3 on every seed (1e-3 learns no sum),
gets 0 to 0.04 on six seeds and 0.22 to 0.42 on four (0, 2, 5, 7) within 800 steps: it is not incapable, only
slower, and how far it gets varies by seed. Its earlier record (seeds 0-4, 12.5 sd, the direct model at 0 to
0.08) was made with AVX512 kernels; this one with AVX2; the training at 1e-3 and 3e-3 is the same code as
then, so the kernels' rounding is the likely difference (the old code was not re-run), and on a CUDA seed the
direct model reached 0.78 (benchmarks/RESULTS.md). A longer carry chain does not hold it back at this budget:
``readtrack run galactica --only train --set digits=6 --seeds 100-101 --jobs 1`` (about 4 minutes a seed on a
loaded 2-core machine) gave the direct model 0.01 and 0.53, the scratchpad model 1.00 on both, a margin of
0.99 and 0.47. The rate 1e-2 of the earlier grid is no longer tried: it learnt neither format on any of the
earlier record's seeds 0-4 (0 to 0.004 validation exact match). Not tested: a digit count longer than trained;
learned absolute positions of a fixed-length format have no embedding for it. The bench: the scratchpad
generates 27 tokens per 5-digit answer against 6 (4.5×), and decoding it costs several times the direct
format's time with the key/value cache and a larger multiple without it (``readtrack run galactica --only
bench`` times both, batch 256; timings vary by machine).

A fair small-scale echo: the same model, steps and pairs, with only the data format changed, as in the
paper where ``<work>`` is a format of the training data rather than a change to the network.

Calibration (generated by ``python benchmarks/calibrate.py galactica --write`` from ``calibration.json``;
mean ± sd [min, max] over seeds, one thread each; a target is asserted only when every seed passes and its
margin, (mean − threshold) / sd, is at least 3 on every torch):

    quick runs, CPU (AVX2 kernels), 2026-11-26:
    target ≥ 0.2: held-out exact match, scratchpad − direct (4-digit addition)
      torch 2.14.1, seeds 0-19: 0.8052 ± 0.1683 [0.4380, 0.9900], margin 3.6 sd
      torch 2.13.0, seeds 0-9: 0.8666 ± 0.07933 [0.7500, 0.9760], margin 8.4 sd
    measured: held-out exact match, direct, 4 digits
      torch 2.14.1, seeds 0-19: 0.03820 ± 0.05679 [0, 0.1880]
      torch 2.13.0, seeds 0-9: 0.02420 ± 0.02743 [0, 0.09600]
    measured: held-out exact match, scratchpad <work>, 4 digits
      torch 2.14.1, seeds 0-19: 0.8434 ± 0.1412 [0.5180, 1.000]
      torch 2.13.0, seeds 0-9: 0.8908 ± 0.09148 [0.7520, 1.000]
    full runs, CPU (AVX2 kernels), 2026-11-26:
    target ≥ 0.5: held-out exact match, scratchpad − direct (5-digit addition)
      torch 2.14.1, seeds 0-9: 0.8712 ± 0.1560 [0.5820, 1.000], margin 2.4 sd
    measured: validation exact match, direct, 5 digits, lr 0.001
      torch 2.14.1, seeds 0-9: 0 on every seed
    measured: validation exact match, direct, 5 digits, lr 0.003
      torch 2.14.1, seeds 0-9: 0.1194 ± 0.1499 [0, 0.3780]
    measured: held-out exact match, direct, 5 digits
      torch 2.14.1, seeds 0-9: 0.1288 ± 0.1560 [0, 0.4180]
    measured: validation exact match, scratchpad <work>, 5 digits, lr 0.001
      torch 2.14.1, seeds 0-9: 0.9526 ± 0.08094 [0.7780, 1.000]
    measured: validation exact match, scratchpad <work>, 5 digits, lr 0.003
      torch 2.14.1, seeds 0-9: 0.9916 ± 0.02656 [0.9160, 1.000]
    measured: held-out exact match, scratchpad <work>, 5 digits
      torch 2.14.1, seeds 0-9: 1.000 on every seed

    Asserted though it breaks the rule (to be strengthened, or reported instead):
    - held-out exact match, scratchpad − direct (5-digit addition) (full, torch 2.14.1): margin 2.4 sd < 3
"""

from readtrack.plugins.declaration import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Galactica: A Large Language Model for Science",
    arxiv="2211.09085",
    claim="Digit sums and carries written inside <work> let a small transformer add what it cannot directly.",
    exercises=[
        Exercise(
            target="work",
            statement="""
                The <work> trace of a + b (section 3.1.1's working memory, as schoolbook addition): for
                each digit i = 0 … D−1, least significant first, the four tokens

                    a_i, b_i, s_i, c_(i+1)      with  a_i + b_i + c_i = s_i + 10·c_(i+1),  c_0 = 0

                s_i is the sum digit (0 … 9) and c_(i+1) the carry (0 or 1) it passes to digit i + 1.

                a, b: ints below 10^D; D: the digit count. Returns a list of 4·D ints, the tokens
                between <work> and </work>. digits(n, D) gives n's D digits, least significant first.
                The check compares format_example (which calls it) with a vectorised formatter that uses
                the closed form of the carry, and recomputes every trace's sum.
            """,
            hints=[
                "Walk zip(digits(a, D), digits(b, D)) keeping the carry in a variable that starts at 0.",
                "total = a_i + b_i + carry; the digit is total % 10 and the new carry total // 10.",
                "Append [a_i, b_i, total % 10, carry] after updating carry: the step writes the carry out.",
            ],
            lines=6,
        ),
    ],
)
