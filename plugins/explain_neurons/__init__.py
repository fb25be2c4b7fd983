"""Language models can explain neurons in language models (Bills, Cammarata, Mossing, Tillman, Gao, Goh,
Sutskever, Leike, Wu, Saunders; OpenAI 2023; no arXiv id).

Claim: a neuron's explanation can be generated automatically and scored automatically: an explainer
proposes an explanation from the neuron's top-activating text, a simulator predicts the neuron's activations
from the explanation alone, and the explanation's score is how well the simulated activations match the
real ones.

Equations (section 2):

    explain:  top-activating snippets with per-token activations on a 0–10 scale → explanation e
    simulate: e and a text → ŝ_t ∈ [0, 10] for every token t, without seeing the neuron
    score:    ρ(ŝ, a) = Σ_t (ŝ_t − ŝ̄)(a_t − ā) / √(Σ_t (ŝ_t − ŝ̄)² · Σ_t (a_t − ā)²)   (section 2.3)

What is and is not reproduced. No language model runs here: the explainer and the simulator are programs, not
GPT-4, over a finite explanation language (the token a; tokens of a class; tokens right after a; b right
after a; positions k and later). What is reproduced is the method's pipeline and its scoring: the explainer
sees only the 20 top-activating snippets (activations normalised to 0–10 and rounded, as the paper shows
them), proposes 5 explanations (best F1 on those snippets), the simulator turns each into activations on
held-out text, and the correlation score picks the best. The paper's ablation scoring is not implemented.

The tiny model: a one-layer MLP over token sequences, a_j = ReLU(W_j·[onehot(x_t), onehot(x_{t−1}),
onehot(t)] + b_j), with neurons planted (weights set by hand, jittered) to fire on one feature each,
"polysemantic" neurons firing on two unrelated features (a token OR a previous token, not expressible in the
language), and random neurons. Text is uniform random tokens (V = 32, T = 16).

What was measured: the planted explanation is the best-scoring one for 80 of 80 planted neurons in the full
run (``readtrack run explain-neurons --only train --seeds 0-2``: each run plants over 4 seeds, from its own;
80 of 80 on seeds 0, 1 and 2, planted − random gap 0.617 / 0.613 / 0.614, both targets pass). The quick run
(``readtrack run explain-neurons --quick``, which plants over one seed) asserts the same targets, a recovered
share ≥ 0.8 and a planted − random gap in mean score ≥ 0.3; its numbers over seeds are in the calibration at
the end of this page. The recovery fraction is near-circular: the explainer already ranks its proposals by F1
on the top-activating snippets, so it can pass without the scoring step; the planted − random gap is the
target that can fail, and does when the simulated activations no longer come from the explanation (tested).
Mean best score in the full run, seed 0: planted 0.96, polysemantic 0.72 (one feature of two explains part of
the variance), random 0.34 (seeds 1-2 within 0.003 of these); the planted − random gap (0.62) is the A/B, with
target 0.3. Rare features score lowest among planted neurons (a bigram fires on 1 token in 1024, so the weight
jitter's small activations elsewhere weigh more): the worst planted neuron scores 0.816 / 0.816 / 0.799 in the
full runs of seeds 0-2. A fair echo of the paper's finding that explanations score well where a neuron is
monosemantic and poorly where it is not; not of the paper's central question, whether a language model can
write such explanations.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Language models can explain neurons in language models",
    arxiv=None,
    claim="Explanations of neurons can be scored by how well activations simulated from them correlate.",
    exercises=[
        Exercise(
            target="correlation_score",
            statement="""
                Section 2.3, the explanation's score: Pearson's correlation between the simulated and the
                real activations over all tokens,

                    ρ(ŝ, a) = Σ_t (ŝ_t − ŝ̄)(a_t − ā) / √(Σ_t (ŝ_t − ŝ̄)² · Σ_t (a_t − ā)²)

                for every pair at once: simulated (C, N), C simulations over the same N tokens; real (H, N),
                H neurons. Return (C, H) with entry (i, j) = ρ(simulated[i], real[j]), in the inputs'
                dtype. ρ does not change when a simulation is scaled or shifted (the simulator's 0–10
                scale is arbitrary); a constant row (no variance) scores 0, not NaN.
            """,
            hints=[
                "Centre each row first: x - x.mean(dim=-1, keepdim=True). Without it, this is the cosine "
                "similarity, which a shift of the simulation changes.",
                "Divide each centred row by its norm (clamped away from 0, so a constant row gives 0); then "
                "every correlation is one dot product: s @ r.T.",
            ],
            lines=5,
            references=["torch.corrcoef"],
        ),
        Exercise(
            target="simulate",
            statement="""
                The simulator (section 2.2), here a program: from the explanation and the text alone,
                predict the neuron's activation of every token on the paper's 0–10 scale: 10 where the
                explanation holds, 0 elsewhere. e.kind and e.args (see Explanation):

                    "token" (a,):     x_t = a
                    "class" (c,):     x_t is in class c, the tokens c·CLASS_SIZE … c·CLASS_SIZE + 3
                    "prev" (a,):      x_{t−1} = a (the token right before; nothing before t = 0)
                    "bigram" (a, b):  x_{t−1} = a and x_t = b
                    "position" (k,):  t ≥ k

                tokens: (B, T) int64 token ids. Return (B, T) float64 (10.0 or 0.0); raise ValueError for
                an unknown kind.
            """,
            hints=[
                "The previous token of every position: shift tokens right by one along the time axis and "
                "put a value no token has (−1) at t = 0.",
                "torch.cat([torch.full_like(tokens[:, :1], -1), tokens[:, :-1]], dim=1) is x_{t−1}.",
                "Build a bool (B, T) hit per kind; return 10.0 * hit.to(torch.float64).",
            ],
            lines=15,
        ),
    ],
)
