"""Efficient Training of Language Models to Fill in the Middle (Bavarian, Jun, Tezak, Schulman, McLeavey,
Tworek and Chen, arXiv 2207.14255).

Claim: a causal language model learns to infill if a share of its training documents is cut at two random
points and the middle moved to the end behind sentinel tokens; and this is "FIM for free": at a FIM rate of
0.5 the model's ordinary left-to-right loss is the same as a model trained without it.

The transformation (section 3; split points uniform on {0, …, L}, sorted, so any piece may be empty; applied
to a document with probability ``fim_rate``, before packing: "document-level FIM"):

    document x = prefix · middle · suffix
    PSM:  <PRE> prefix <SUF> suffix <MID> middle <EOT>
    SPM:  <PRE> <SUF> suffix <MID> prefix middle <EOT>        (the variant of appendix D, which the paper
                                                               trains jointly with PSM, half and half)
    loss: the usual next-token loss on the whole rearranged sequence

At inference the prompt is everything up to <MID>; the model writes the middle. ``model.py`` implements the
transformation as one gather per batch, its inverse, and the training batch (FIM rate 0.5, SPM rate 0.5).

The tiny experiment: the transformation equals a list-by-list version of the formulas for every split of
documents of 0 to 8 tokens, its inverse recovers each document exactly, and the split points pass a χ² test of
uniformity. On documents of 8 symbols from a first-order Markov chain over 16 symbols the best possible
infilling is exact: the chain's posterior of each middle symbol given prefix and suffix (forward-backward,
checked against enumerating every middle). Two TinyTransformers with the same weights, batches and 1500 steps,
one left-to-right only and one with FIM at rate 0.5 (``readtrack run fill-in-the-middle --only train --seeds
0-2``; seed 0 unless said): held-out left-to-right loss 0.015 and 0.021 nats above the chain's own, a
difference of 0.005 (0.006 and −0.003 on seeds 1, 2; target ≤ 0.05), so FIM for free holds. Infilling
held-out middles of 1 to 6 symbols, in nats per symbol (accuracy): the FIM model 0.90 (0.66) from the SPM
prompt and 1.44 (0.48) from the PSM prompt; the left-to-right model, which can only continue the prefix, 1.13
(0.56); exact Bayes 1.11 (0.57) given the prefix alone and 0.69 (0.72) given both sides. So the FIM model
uses the suffix (0.218 / 0.196 / 0.237 nats below Bayes given the prefix alone on seeds 0-2, target at least
0.1), better in SPM, where the prefix runs straight into the middle, than in PSM, where it must find where the
prefix ended; and it is still 0.20 nats from the best possible. Using the suffix is learnt late and suddenly:
a plateau of about 1000 steps at rate 0.5 (sooner with every document in SPM), so the quick run (100 steps;
``readtrack run fill-in-the-middle --quick``) asserts FIM for free (target ≤ 0.1 nats) and that the FIM model
reads the sentinel format: its middle loss from the SPM prompt is within 0.1 nats of the left-to-right
model's from the prefix, each model read in the format it was trained on. Its numbers over seeds are in the
calibration at the end of this page. The full run asserts the same format target, and there the FIM model is
0.23 / 0.21 / 0.26 nats better on seeds 0-2; every full-run target passes on seeds 0-2. A left-to-right model
fed the SPM prompt, which it never saw, scores 2.73-2.92 in the full runs: reported, not compared (an earlier
target did), and with FIM training removed (rate 0) the format target fails by about 1 nat (tested). At 100
steps the FIM model's middle loss is still the prefix-only one. A fair echo: the paper's claims are about
these two numbers, left-to-right loss and infilling, at equal compute.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Efficient Training of Language Models to Fill in the Middle",
    arxiv="2207.14255",
    claim="Moving a random middle to the end behind sentinels teaches infilling at no left-to-right cost.",
    exercises=[
        Exercise(
            target="fim_transform",
            statement="""
                Section 3's transformation, cut at i ≤ j: prefix = x[:i], middle = x[i:j], suffix = x[j:]
                (any of them may be empty), then

                    PSM:  <PRE> prefix <SUF> suffix <MID> middle <EOT>
                    SPM:  <PRE> <SUF> suffix <MID> prefix middle <EOT>   (appendix D's SPM, the variant the
                                                                         paper trains jointly with PSM)

                docs: (B, L) int64 token ids; i, j: (B,) int64 with 0 ≤ i ≤ j ≤ L; spm: (B,) bool, True for
                the rows to write as SPM; vocab: the number of ordinary symbols, the sentinel ids are
                sentinels(vocab) = (<PRE>, <SUF>, <MID>, <EOT>) = (vocab, vocab + 1, vocab + 2, vocab + 3).
                Return (B, L + 4) int64 on docs' device: every row is a rearrangement of its document and
                the 4 sentinels. A loop over the rows is fine; the model solution is one gather.
            """,
            hints=[
                "Row by row: the pieces are x[:i], x[i:j] and x[j:], and torch.cat joins them with the "
                "sentinels, each a 1-element tensor.",
                "In this SPM, <PRE> and <SUF> come first, together; after <MID> the prefix and the middle "
                "follow in the document's order, so they read as x[:j].",
                "One gather: build, for each output slot t, the index it reads in the extended document "
                "[x, <PRE>, <SUF>, <MID>, <EOT>] (B, L + 4) with torch.where on t, i and j.",
            ],
            lines=20,
        )
    ],
)
