"""Sequence to Sequence Learning with Neural Networks (Sutskever, Vinyals and Le, arXiv 1409.3215).

Claim: a deep LSTM that reads a whole input sequence into a fixed vector and a second LSTM that writes the
output from it learn general sequence-to-sequence mappings; reversing the order of the source words makes
the problem markedly easier to learn, and a small left-to-right beam search decodes better than greedy.

Equations (section 2; v the encoder's last hidden and cell state):

    p(y_1 … y_T' | x_1 … x_T) = Π_{t=1}^{T'} p(y_t | v, y_1, …, y_{t−1})     (eq. 1)
    training     maximise Σ log p(T | S) over pairs (S, T)                       (section 3.2)
    decoding     T̂ = argmax_T p(T | S), approximated by keeping the B best partial hypotheses
    reversal     the source is read as x_T … x_1: its first words sit next to the target's first words

``model.py`` implements the encoder-decoder (one LSTM each, the encoder's final (h, c) starting the
decoder), teacher-forced training, greedy decoding and beam search.

The tiny experiment: decoding one step at a time gives the same log-probabilities as training does; beam
search of width 1 is greedy, and a beam wide enough to keep every hypothesis finds the same best sequence
as enumerating all of them. On copying 12 symbols (the target is the source), the same model, seed and
batches learn faster with the source reversed: the first target tokens then sit one step from their source
tokens instead of twelve. The paper's "minimal time lag" argument, measured on the copy task. Each order
trains at its own Adam learning rate, the better of 3e-3 and 1e-2 by loss on validation pairs (accuracy is
reported on other, test pairs). Then greedy decoding against a beam of 4 on the reversed model: the target is
the share of test sources for which the beam finds an output the model finds more probable than greedy's
(greedy keeps one hypothesis, so this is what the beam adds; with greedy in place of the beam it is 0 and the
target fails, as ``tests/plugins/test_seq2seq.py`` shows, as does the reversal target with the source never
reversed).

The quick run (``readtrack run seq2seq --quick``: 100 steps, LSTMs of 64, 1,024 test sequences) asserts token
accuracy with the source reversed at least 0.08 above in order, and a beam that finds a more probable output
than greedy's for at least 0.05 of the sources; it also reports whole sequences right, greedy and beam. Its
numbers over seeds are in the calibration at the end of this page. Each run's details also give the accuracy
of the first and of the last 3 tokens (the gap is largest at the start of the target, as the paper says) and
how often the beam finds a less probable output than greedy's.

The full run (``readtrack run seq2seq --seeds 0-2``, 300 steps): token accuracy 0.869, 0.890, 0.845 reversed
against 0.469, 0.312, 0.570 in order; the beam finds a more probable output for 0.144, 0.111, 0.166 of the
sources (seeds 0-2; whole sequences right 0.479, 0.569, 0.424 greedy, 0.513, 0.605, 0.464 beam). The claim is
about learning speed, so it is measured before the models converge: trained for 800 steps (each order at its
best rate), the in-order model catches up most of the way, and the reversed one is so sure of its copies that
the beam rarely finds anything greedy missed (measured while revising this plugin, not by a command of this
version), which is why the run stops at 300.

The paper's gains (BLEU 25.9 → 30.6 from reversal; most of the beam's benefit already at width 2) are on
WMT'14 English to French with four-layer LSTMs of 1,000 units; this is their mechanism at the smallest size
where it shows, not their numbers.
"""

from readtrack.paper_plugin import Exercise, declare

readtrack_paper_plugins = declare(
    __name__,
    title="Sequence to Sequence Learning with Neural Networks",
    arxiv="1409.3215",
    claim="An LSTM encoder-decoder maps sequences to sequences; reversing the source makes it learn faster.",
    exercises=[
        Exercise(
            target="beam_search",
            statement="""
                Left-to-right beam search of fixed length (section 3.2): keep the B most likely partial
                hypotheses, each scored by its total log-probability Σ_t log p(y_t | v, y_1 … y_{t−1}).

                source: (batch, T) token ids; length: the number of tokens to generate; beam: B; reverse:
                passed on to model.encode. Start from state = model.encode(source, reverse) (h, c, each
                (layers, batch, d_hidden)), one empty hypothesis per example with score 0, and the input
                token BOS. Each step: logp, state = model.step(token, state) gives (rows, vocab)
                log-probabilities for every kept hypothesis (one row each); extend every hypothesis by
                every token, keep the min(B, k·vocab) best extensions by total score, and carry on from
                them. Return (the best sequence of each example, (batch, length) long; its total
                log-probability, (batch,) in the model's dtype). With B = 1 it is greedy decoding.
            """,
            hints=[
                "Keep scores (batch, k) and sequences (batch, k, t); lay the rows of the decoder state out "
                "example by example: example b's hypotheses are rows b·k … b·k + k − 1.",
                "total = (scores[:, :, None] + logp.view(batch, k, vocab)).view(batch, k * vocab); its "
                "topk gives the new scores and, by // vocab and % vocab, each winner's parent and token.",
                "The decoder state must follow the parents: rows = (parent + arange(batch)[:, None] * k)"
                ".flatten(); state = (h[:, rows], c[:, rows]). Sorted topk puts the best at index 0.",
            ],
            lines=20,
        )
    ],
)
