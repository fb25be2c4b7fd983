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
split for a fixed 200 SGD steps, with plain CE and with the confidence loss, same seed and batches, each
student at its own best SGD rate of 0.03, 0.1, 0.3, chosen on a ground-truth validation half of the test
split (PGR is measured on the other half).

What was measured (``readtrack run weak-to-strong --only train``: seeds 0-5; the quick run takes seeds s and
s + 1 of the same computation, and its numbers over seeds are in the calibration at the end of this page): PGR
with plain CE 0.84 / 0.41 / 0.35 / 0.33 / 0.86 / 0.83, mean 0.60 (clearly above 0: the student does not copy
its supervisor's noise-driven mistakes); with the confidence loss 0.78 / 0.81 / 0.81 / 0.79 / 0.74 / 0.79,
mean 0.78. Targets: mean plain PGR ≥ 0.2, mean PGR with the confidence loss ≥ 0.5, and the confidence loss's
smallest per-seed PGR ≥ 0.6 (with α = 0, the idea removed, the student is the plain-CE one, 0.84 / 0.41 on
seeds 0-1 above, and the target fails: the test file shows it). Not asserted: that the confidence loss beats
plain CE on every seed. Before each student had its own learning rate (both at 0.1) it did (an earlier
version; no command of this one runs it); tuned fairly, plain CE matches or beats it on seeds 0, 4 and 5, at
its best rate there, 0.3 (gains −0.06, +0.40, +0.46, +0.45, −0.12, −0.03 on seeds 0-5, mean +0.18): what the
confidence loss buys here is a student that recovers the gap reliably, while plain CE's PGR swings from 0.33
to 0.86 with the seed and the rate the validation half picks. The full runs from seeds 1 and 2
(``readtrack run weak-to-strong --only train --seeds 0-2``; seeds 1-6 and 2-7, seeds 6 and 7 new: plain
0.49 / 0.76, confidence 0.77 / 0.76) give mean PGR 0.54 / 0.60 plain and 0.78 / 0.78 with the confidence loss,
its smallest 0.74: every target passes on seeds 0-2.
The first claim holds at this scale on every seed, the second only as reliability, not as a gain on every
seed; and the echo is only as good as its assumptions: the gain depends on the
concept being salient in the student's representation and on a fixed training length. With no salience
(λ = 1) the confidence loss did not help in our trials, and when the weak model's errors are exactly
imitable by the student (the weak model a function of the student's features) plain-CE PGR was 0 and the
confidence loss's gain faded with longer training. The paper likewise finds PGR depends on the task and
that the confidence loss helps most for large supervisor–student gaps.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Weak-to-Strong Generalization: Eliciting Strong Capabilities With Weak Supervision",
    arxiv="2312.09390",
    claim="A strong student trained on a weak supervisor's labels recovers part of the gap to its ceiling.",
    exercises=[
        Exercise(
            target="hardened_targets",
            statement="""
                The student's own hardened predictions t̂(f(x)) = I[f(x) > t] (section 4.3.2), with the
                threshold t chosen in the batch, as the paper's code does, so that the hardened labels have
                the weak labels' class balance (not t = 0.5, the plain argmax).

                logits: the student's (n, 2) two-class logits; weak_probs: the weak supervisor's soft labels
                (n, 2). With p0 = softmax(logits)[:, 0], t is the q-quantile of p0 (torch.quantile's default
                linear interpolation) at q = the mean of weak_probs[:, 1]; an example is hardened to class 1
                when p0 < t, else to class 0. Returns one-hot targets (n, 2) in the logits' dtype, with no
                gradient (detached).
            """,
            hints=[
                "p0 = logits.softmax(dim=-1)[:, 0]; t = torch.quantile(p0, weak_probs[:, 1].mean()).",
                "The fraction of p0 below t is then about the weak prior of class 1: those are the "
                "class-1 examples.",
                "torch.stack([p0 >= t, p0 < t], dim=1).to(logits.dtype).detach().",
            ],
            lines=3,
        ),
        Exercise(
            target="confidence_loss",
            statement="""
                The auxiliary confidence loss (section 4.3.2, appendix A.4):

                    L_conf(f) = (1 − α) · CE(f(x), f_w(x)) + α · CE(f(x), t̂(f(x)))

                logits: the student's f(x), (n, 2); weak_probs: the weak labels f_w(x), (n, 2) soft
                probabilities; alpha: α ∈ [0, 1], the weight of the student's own hardened predictions
                t̂ = hardened_targets(logits, weak_probs) (in model.py). CE is the cross-entropy with soft
                targets, averaged over the n examples. Returns a 0-d tensor. α = 0 is plain training on
                the weak labels; α grows during training (alpha_schedule).
            """,
            hints=[
                "F.cross_entropy(logits, target) takes soft (n, 2) probability targets.",
                "CE is linear in its target: mix the targets, (1 − α)·weak + α·hardened, and take one CE.",
                "return F.cross_entropy(logits, (1 - alpha) * weak_probs + alpha * "
                "hardened_targets(logits, weak_probs)).",
            ],
            lines=2,
        ),
    ],
)
