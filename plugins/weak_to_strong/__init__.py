"""Weak-to-Strong Generalization: Eliciting Strong Capabilities With Weak Supervision (Burns, Izmailov,
Kirchner, Baker, Gao, Aschenbrenner, Chen, Ecoffet, Joglekar, Leike, Sutskever, Wu; arXiv 2312.09390).

Claim: a strong model finetuned on labels from a weaker supervisor does better than the supervisor: it
recovers part of the gap to the same strong model trained on ground truth, and an auxiliary confidence loss,
which lets the student trust its own hardened predictions against the supervisor's, recovers more.

Equations:

    PGR = (weak-to-strong − weak) / (strong ceiling − weak)                                     (eq. 1)
    L_conf(f) = (1 − α)·CE(f(x), f_w(x)) + α·CE(f(x), t̂(f(x)))                  (section 4.3.2, app. A.4)
    t̂(f(x)) = I[f(x) > t], t chosen in each batch so the hardened class balance matches the weak labels'
    α: linear warm-up from 0 to α_max = 0.75 over the first 20% of training

``model.py`` implements them as the paper's code does (two-class logits; the threshold is the quantile of
p(class 0) at the weak labels' mean of class 1; CE against the mixed target, which equals the sum above
because CE is linear in its target), the seeded task and a linear probe trained by SGD. The warm-up follows
the paper's text (20%); the public code's default is warmup_frac = 0.1 with α = step_frac · α_max there.

The tiny experiment. A latent z ∈ R³² decides the truth y = 1[w·z + η > 0]. The weak supervisor is a linear
model on noisy measurements z + 2ε (ε unseen by anyone else), trained on ground truth: about 60% accurate.
The strong student is a linear probe on a representation of z in which the concept direction w is salient
(scaled 4×), standing in for a pretrained model in which the concept is already linearly represented; on
ground truth it reaches about 96.5%. The student is trained on the weak model's soft labels of a held-out
split for a fixed 200 SGD steps, with plain CE and with the confidence loss, same seed and batches.

What was measured (6 seeds, full run): PGR with plain CE 0.19–0.59, mean 0.37 (clearly above 0: the
student does not copy its supervisor's noise-driven mistakes), with the confidence loss 0.64–0.75, mean
0.69, higher on every seed (by +0.16 at least). Targets: mean plain PGR ≥ 0.2, mean PGR with the confidence
loss ≥ 0.5, smallest per-seed gain ≥ 0.1 (the quick run's 2 seeds use the same targets).
Both claims hold at this scale, but the echo is only as good as its assumptions: the gain depends on the
concept being salient in the student's representation and on a fixed training length. With no salience
(λ = 1) the confidence loss did not help in our trials, and when the weak model's errors are exactly
imitable by the student (the weak model a function of the student's features) plain-CE PGR was 0 and the
confidence loss's gain faded with longer training. The paper likewise finds PGR depends on the task and
that the confidence loss helps most for large supervisor–student gaps.
"""

from readtrack.paper_plugin import declare

readtrack_paper_plugins = declare(
    __name__,
    title="Weak-to-Strong Generalization: Eliciting Strong Capabilities With Weak Supervision",
    arxiv="2312.09390",
    claim="A strong student trained on a weak supervisor's labels recovers part of the gap to its ceiling.",
)
