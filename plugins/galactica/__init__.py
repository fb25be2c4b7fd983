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
held-out pairs. Each format gets its own best rate of {1e-3, 3e-3, 1e-2}, chosen on 500 validation pairs of
their own stream (excluded from training like the held-out pairs), never on the reported pairs: the full run
trains the whole grid; the quick run trains each format at 3e-3, the grid's pick on validation at the quick
budget of 250 steps, not yet re-checked at 400
(``readtrack run galactica --quick --impl grid --seeds 0-4 --jobs 1`` runs the grid). Quick (3 digits, 400
steps; ``readtrack run galactica --quick --jobs 1``) is a smoke test: it reports the margin in exact match,
scratchpad over direct, beside its claim (≥ 0.2) and asserts nothing; the full run carries the claim (≥ 0.5).
The margin is well above 0 on every seed calibrated (numbers in the calibration at the end of this page), but
it does not meet the rule of issue 42 for an asserted target (every seed passing, by at least three seed
standard deviations): at 400 steps neither arm has finished, the scratchpad model has mostly learnt the trace
and the direct model only begins to, and how far each has got varies by seed, so as a target of 0.2 the margin
is 2.4 sd above it on seeds 0-19 (2.0 on torch 2.13.0, seeds 0-9). More steps do not fit in the quick budget
(15 s for all three stages on 2 cores). A better-conditioned optimiser (gradients clipped to norm 1,
β2 = 0.99), tried on three seeds, moved each arm up on some of them and down on others (held-out exact match,
against the quick run's) and raised the margin on all three, but spread it wider across them than without, so
it was not kept. At 250 steps (the quick run before issue 42) the scratchpad model was still half-way up its
learning curve: the margin fell below 0.2 on one seed and was fewer seed standard deviations above it than at
400 steps. Full (``readtrack run galactica --only train --seeds 0-4``, 5 digits, 800 steps, each format at its
own rate): the scratchpad model gets every held-out sum right on every one of seeds 0-4, while the direct
model gets few 5-digit sums right within 800 steps on any seed and none on two of them, so the margin passes
its target of 0.5 on every seed and meets the rule of issue 42. On validation the direct model gets no sum
right at 1e-3 or 1e-2 and trains at 3e-3 on every seed; the scratchpad model trains at 1e-3 on four seeds,
where 3e-3 scores as well and the tie goes to the first rate tried, and at 3e-3 on seed 3, where 1e-3 falls
short. The full run's numbers over seeds 0-4, the validation exact match at each rate among them, are in the
calibration at the end of this page. The direct model is not incapable, only slower: in an exploratory run at
4 digits and 800 steps (not a mode of the plugin, so no command repeats it) it learnt most sums, so the digit
count sets how hard the carry chain is for a fixed budget. Not tested: a digit count longer than trained;
learned absolute positions of a fixed-length format have no embedding for it. The bench: the scratchpad
generates 27 tokens per 5-digit answer against 6 (4.5×), and decoding it costs several times the direct
format's time with the key/value cache and a larger multiple without it
(``readtrack run galactica --only bench`` times both, batch 256; timings vary by machine).

A fair small-scale echo: the same model, steps and pairs, with only the data format changed, as in the
paper where ``<work>`` is a format of the training data rather than a change to the network.

Calibration (generated by ``python benchmarks/calibrate.py galactica --write`` from ``calibration.json``;
mean ± sd [min, max] over seeds, one thread each; a target is asserted only when every seed passes and its
margin, (mean − threshold) / sd, is at least 3 on every torch):

    quick runs, CPU (AVX512 kernels), 2026-11-25:
    measured: held-out exact match, direct, 3 digits
      torch 2.14.1, seeds 0-19: 0.2223 ± 0.1468 [0.02800, 0.4740]
      torch 2.13.0, seeds 0-9: 0.2448 ± 0.1623 [0.02800, 0.4740]
    measured: held-out exact match, scratchpad <work>, 3 digits
      torch 2.14.1, seeds 0-19: 0.8920 ± 0.08213 [0.7480, 1.000]
      torch 2.13.0, seeds 0-9: 0.8950 ± 0.1039 [0.7480, 1.000]
    reported, not asserted at quick size (the claim: ≥ 0.2): held-out exact match, scratchpad − direct
      (3-digit addition)
      torch 2.14.1, seeds 0-19: 0.6697 ± 0.1956 [0.3600, 0.9260], margin 2.4 sd
      torch 2.13.0, seeds 0-9: 0.6502 ± 0.2206 [0.3600, 0.9160], margin 2.0 sd
    full runs, CPU (AVX512 kernels), 2026-11-25:
    target ≥ 0.5: held-out exact match, scratchpad − direct (5-digit addition)
      torch 2.14.1, seeds 0-4: 0.9668 ± 0.03741 [0.9220, 1.000], margin 12.5 sd
    measured: validation exact match, direct, 5 digits, lr 0.001
      torch 2.14.1, seeds 0-4: 0 on every seed
    measured: validation exact match, direct, 5 digits, lr 0.003
      torch 2.14.1, seeds 0-4: 0.04120 ± 0.04330 [0.002000, 0.09800]
    measured: validation exact match, direct, 5 digits, lr 0.01
      torch 2.14.1, seeds 0-4: 0 on every seed
    measured: held-out exact match, direct, 5 digits
      torch 2.14.1, seeds 0-4: 0.03320 ± 0.03741 [0, 0.07800]
    measured: validation exact match, scratchpad <work>, 5 digits, lr 0.001
      torch 2.14.1, seeds 0-4: 0.9496 ± 0.1127 [0.7480, 1.000]
    measured: validation exact match, scratchpad <work>, 5 digits, lr 0.003
      torch 2.14.1, seeds 0-4: 1.000 on every seed
    measured: validation exact match, scratchpad <work>, 5 digits, lr 0.01
      torch 2.14.1, seeds 0-4: 0.0008 ± 0.001789 [0, 0.004000]
    measured: held-out exact match, scratchpad <work>, 5 digits
      torch 2.14.1, seeds 0-4: 1.000 on every seed
"""

from readtrack.paper_plugin import Exercise, declare

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
