"""Language Models are Few-Shot Learners (Brown, Mann, Ryder, Subbiah et al., OpenAI 2020; GPT-3; arXiv
2005.14165).

Claim: a language model trained on enough varied text learns tasks in context: given a natural-language
description and k demonstrations in its prompt (zero-, one- and few-shot), it answers a new query with no
gradient update, and accuracy grows with the number of demonstrations (figure 1.2).

The setting, as the paper defines it (section 2, figure 2.1):

    prompt    (x_1, y_1), …, (x_k, y_k), x_q        k demonstrations of a task, then the query
    answer    argmax_y p_θ(y | prompt)               candidates ranked by the model (section 2.4)
    learning  none at test time: θ is frozen; the task is read from the prompt ("in-context learning")

``model.py`` builds such prompts for a task that can only be solved in context: each prompt demonstrates its
own map f: X → Y, drawn uniformly from all |Y|^|X| maps, so nothing learnt in the weights can know f(x_q).
The network is ``plugin_kit``'s TinyTransformer (GPT-2 style, as GPT-3's is), trained as a language model on
such prompts. Because every map is equally likely, the best possible accuracy with k shots is exact:

    ceiling(k) = P + (1 − P)/|Y|,   P = 1 − (1 − 1/|X|)^k = P(x_q was among the k shots)

A demonstration (x, f(x)) is one token and a query x another; with x and f(x) as two tokens a model needs an
induction circuit (find the earlier x, copy what followed it), which did not form within the quick budget (in
a one-off run outside readtrack, 400 steps of a 2-layer model stayed far below the 8-shot ceiling), while one
attention layer reads a pair token directly.

The tiny experiment. check: TinyTransformer under this plugin's mask equals a naive forward (per-head softmax
loops, LayerNorm and GELU from their formulas) to 5.6e-16 in float64, gradients to 1.8e-14 (``readtrack run
gpt3 --only check``); no answer depends on a later token (Jacobian); reading every query of a prompt in one
pass equals cutting the prompt after each query; the ceiling formula equals brute-force Bayes over every map
and prompt of small X, Y.

Measured with ``readtrack run gpt3 --only train --seeds 0-2`` (seed 0 unless said; |X| = |Y| = 8, 1 layer of
64, 600 steps), accuracy on new maps with k = 0, 1, 2, 4, 8 shots: 0.128, 0.240, 0.325, 0.488, 0.704 against
the ceiling 0.125, 0.234, 0.330, 0.487, 0.699 (4,096 prompts; standard error ≈ 0.007); largest shortfall 0.005
/ 0.005 / 0.006 on seeds 0-2, and every target passes on each. Zero-shot sits at chance; with 8 shots the same
model gains 0.58 (0.57, 0.59 on seeds 1, 2). Split by whether the query's x was shown: 1.000 when it was,
0.123 (chance 0.125) when not: the model reads f(x) off the prompt and guesses otherwise. The same model
trained on one fixed map memorises it (1.000 on that map with no shots) and scores 0.128 on new maps even with
8 shots (0.123, 0.118 on seeds 1, 2): in-context learning comes from training on many tasks, the paper's
"meta-learning" reading (section 1). The quick run (``readtrack run gpt3 --quick``: 300 steps at a learning
rate of 3e-3) asserts the same targets on the model trained on fresh maps (no fixed-map model); its numbers
over seeds are in the calibration at the end of this page. It trains half as long as the full run at a lower
rate: at 150 steps and 1e-2 the copy had not settled on 4 of 20 seeds (up to 0.13 short of the ceiling), the
rate too high for so few steps. Zero-shot accuracy is reported, not a target: with every map equally
likely no model can beat chance there. What does not carry over: GPT-3's growth of in-context ability with
model size needs natural text and billions of parameters; here one layer reaches the ceiling, so the echo is
the mechanism (shots → accuracy, bounded by what the prompt reveals).
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Language Models are Few-Shot Learners",
    arxiv="2005.14165",
    claim="A language model learns a task from demonstrations in its prompt: accuracy grows with the shots.",
    exercises=[
        Exercise(
            target="answer_logits",
            statement="""
                Few-shot evaluation by ranking the candidate answers (section 2.4): the prompt
                x_1 d_1 x_2 d_2 … x_k d_k x_q is answered by argmax over y ∈ Y of p((x_q, y) | prompt), the
                probability the model gives to the demonstration token d = (x_q, y) right after the query.
                One causal pass over a whole sequence answers every query in it at once: query i (0-based)
                with the i demonstrations before it.

                model: a TinyTransformer, model(tokens, mask=causal_mask(n, device)) gives next-token
                logits (B, n, vocab): the logits at position t are the distribution of token t + 1.
                tokens: (B, 2k+2), x_1 d_1 … x_(k+1) d_(k+1): queries at the even positions 0, 2, …, their
                demonstration tokens at the odd ones. The candidate tokens of query x are
                pair_token(x, y, n_x, n_y) for y = 0 … n_y − 1. Return (B, k+1, n_y): index i holds the
                logits of the n_y candidates for query x_(i+1), in the order of y. The check compares with
                separate passes, each over a prompt cut right after its query.
            """,
            hints=[
                "The answer to the query at position t is token t + 1, so it is predicted by the logits "
                "AT position t: the even positions, logits[:, 0::2].",
                "queries = tokens[:, 0::2], (B, k+1); pair_token(queries.unsqueeze(-1), "
                "torch.arange(n_y), n_x, n_y) is (B, k+1, n_y), the candidate token ids.",
                "logits[:, 0::2].gather(-1, candidates) picks those candidates' logits.",
            ],
            lines=5,
        )
    ],
)
