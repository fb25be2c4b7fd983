"""Improving Language Understanding by Generative Pre-Training (Radford, Narasimhan, Salimans and Sutskever,
OpenAI 2018; GPT; no arXiv id: the paper was published as a PDF on openai.com).

Claim: a transformer decoder pretrained as a language model on unlabelled text, then fine-tuned on a small
labelled task with one extra linear layer, beats the same architecture trained on the task alone; the
representations learnt to predict text are the ones the task needs.

Equations (section 3; U the tokens, k the context, W_e token and W_p position embeddings, n blocks):

    L_1(U) = Σ_i log P(u_i | u_(i−k), …, u_(i−1); Θ)                         (eq. 1)
    h_0 = U W_e + W_p,  h_l = transformer_block(h_(l−1)),  P(u) = softmax(h_n W_eᵀ)      (eq. 2)
    P(y | x^1, …, x^m) = softmax(h_l^m W_y)                                   (eq. 3)
    L_2(C) = Σ_(x, y) log P(y | x^1, …, x^m)                                  (eq. 4)
    L_3(C) = L_2(C) + λ · L_1(C),  λ = 0.5                                    (eq. 5)

transformer_block is the 2017 decoder block without cross-attention, layer norm after each residual sum
(post-LN: LayerNorm(x + sublayer(x))), GELU (erf form; OpenAI's code used the tanh approximation),
learned positions, N(0, 0.02) initialisation (section 4.1).

``model.py`` implements the block, the GPT with its tied read-out and its task head W_y on the last token's
state, and the three objectives. The paper's extract token is left out: the head reads the last symbol.

The tiny experiment. check: the block equals ``nn.TransformerEncoderLayer(norm_first=False)`` with a causal
mask and the same weights, and the whole GPT a stack of them, forward and every gradient (float64 to 3.4e-14,
``readtrack run gpt --only check``); no output depends on a later position (Jacobian); every block's output is
layer-normalised. train: the unlabelled corpus is text from two order-1 Markov chains (16 symbols, different
seeds), mixed. Its exact floor is the loss of the Bayes predictor of the mixture, which must infer the chain
from the context (1.162 nats; a predictor blind to the chain scores 1.689), so a model near the floor has
learnt, unasked, the feature the later task needs. The task: which chain wrote 8 symbols, from 64 labels.

Measured with ``readtrack run gpt --only train --seeds 0-2`` (seed 0 unless said): pretraining (1,000 steps, 2
layers of 32) reaches 1.197 nats, 0.035 above the floor (target ≤ 0.1; 0.038 and 0.037 on seeds 1, 2).
Fine-tuned for 100 full-batch steps, the pretrained GPT classifies 0.976 of 2,048 new sequences right against
0.865 for the same model from scratch (mean of three draws of the 64 labels, each side with its best learning
rate of 3e-4, 1e-3, 3e-3 on a validation set; target: a gap ≥ 0.05; 0.981 against 0.897 and 0.987 against
0.875 on seeds 1, 2: both targets pass on seeds 0-2). Scratch is not merely short of steps: with 500 it scores
0.850 (0.896, 0.872). The auxiliary LM objective (eq. 5) gives 0.949 (0.972, 0.982), no gain, as the paper
found on its small datasets (section 5: "larger datasets benefit from the auxiliary objective but smaller
datasets do not"). The chains' likelihood ratio scores 1.000. The quick run (``readtrack run gpt --quick``:
250 pretraining steps; 40 fine-tuning steps at 1e-3 or 3e-3, one draw of labels) asserts ≤ 0.15 nats above the
floor and a gap ≥ 0.03; its numbers over seeds are in the calibration at the end of this page. Skip the
pretraining and both targets fail (the can-fail test). A fair echo at toy scale: the paper's gains (+8.9% on
commonsense reasoning; 14.8% on average lost without pretraining, section 5) are on real language with a
12-layer model 768 wide; this shows their mechanism, pretraining supplying the feature that 64 labels cannot
teach.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Improving Language Understanding by Generative Pre-Training",
    arxiv=None,
    claim="Pretraining a transformer as a language model, then fine-tuning it, beats training from scratch.",
    exercises=[
        Exercise(
            target="CausalSelfAttention.forward",
            statement="""
                Masked multi-head self-attention, the attention of GPT's decoder block: each head computes

                    softmax(Q Kᵀ / √d + M) V,   M[i, j] = −∞ where key j > query i, else 0

                so position i attends to positions 0 … i (itself included) and never to a later one.

                x: (B, N, D). self.c_attn (a Linear D → 3D) gives Q, K and V side by side: its output
                viewed as (B, N, 3, H, d) holds q, k, v along dim 2, head h along dim 3, with H =
                self.n_heads and d = D / H. Attend per head, concatenate the heads back to (B, N, D) (head
                h's d numbers at h·d … (h+1)·d − 1) and return self.c_proj of that, (B, N, D). The check
                compares a whole block with nn.TransformerEncoderLayer under a causal mask.
            """,
            hints=[
                "q, k, v = self.c_attn(x).view(B, N, 3, H, d).permute(2, 0, 3, 1, 4): each (B, H, N, d).",
                "The mask hides the strict upper triangle only, the diagonal stays: "
                "torch.ones(N, N, dtype=torch.bool).triu(1) is True where key j > query i.",
                "scores = q @ k.transpose(-2, -1) / math.sqrt(d); masked_fill(future, -inf), softmax over "
                "the keys (dim=-1), @ v, then y.transpose(1, 2).reshape(B, N, D).",
            ],
            lines=7,
            references=["torch.nn.functional.scaled_dot_product_attention"],
        ),
        Exercise(
            target="fine_tuning_loss",
            statement="""
                Eq. 3-5, fine-tuning with the language model kept as an auxiliary objective:

                    P(y | x^1 … x^m) = softmax(h_l^m W_y)       (eq. 3: the LAST token's final state)
                    −L_3 = −L_2 − λ·L_1,   λ = lam              (eq. 5)

                −L_2 is the cross-entropy of the class logits with `labels` (eq. 4), −L_1 the language
                model's next-token cross-entropy on the same tokens (eq. 1: each u_i predicted from u_<i),
                both averaged rather than summed. model: a GPT with a task head; model.hidden(tokens) is
                h_n (B, N, D), model.W_y the task head (D → classes), h_n @ model.W_e.weight.T the
                next-token logits (B, N, vocab), and lm_loss(logits, tokens) (below) −L_1 from them.
                tokens: (B, N) long; labels: (B,) long. Return the 0-dim loss; lam = 0 is −L_2 alone.
                Run the transformer once: both objectives read the same h_n.
            """,
            hints=[
                "h = model.hidden(tokens) once; the class logits are model.W_y(h[:, -1]), (B, classes).",
                "−L_2 = F.cross_entropy(model.W_y(h[:, -1]), labels).",
                "Add lam * lm_loss(h @ model.W_e.weight.T, tokens) when lam is not 0.",
            ],
            lines=5,
        ),
    ],
)
