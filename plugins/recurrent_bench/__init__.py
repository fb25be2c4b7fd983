"""The recurrent family on one bench: Elman's RNN (1990) to Mamba (2023), the same task, data, seeds, budget
of weights and steps for every member (issue 92; the list's "Mamba, S4, SSM" item and its recurrent
networks).

Each member's own plugin shows its paper's claim on a task of its own: the LSTM's far memory against
``nn.RNN`` (``lstm``), the GRU solving the adding problem (``gru``), selection against a time-invariant state
space on selective copying (``mamba``). Here they stand side by side on one question, how far back a
recurrent model can remember: `readtrack lineage recurrent` reads this plugin's table, and `--plot` draws one
panel per quantity on the family's time axis.

The members, as the field runs them:

- RNN (Elman's simple recurrent network, 1990): ``nn.RNN``, h_t = tanh(W x_t + U h_(t−1) + b);
- LSTM (Hochreiter and Schmidhuber 1997, with the forget gate of Gers et al. 2000): ``nn.LSTM``, the forget
  gate's bias at 1;
- GRU (Cho et al., arXiv 1406.1078): ``nn.GRU``, PyTorch's form (the reset gate after the hidden matmul);
- S4 (Gu, Goel and Ré, arXiv 2111.00396), Mamba's time-invariant arm: the mamba plugin's Mamba block with
  Δ, B, C learned constants, computed by its convolution;
- Mamba (Gu and Dao, arXiv 2312.00752): the same block with Δ, B, C functions of the input (the selective
  scan).

Torch's recurrent layers are the references the rnn, lstm and gru plugins hold their own layers against; the
check here holds the layers as this plugin builds them against those plugins' layers (same weights), and the
state space blocks against the mamba plugin's per-position reference. The state space layers embed the two
input channels linearly and stack one residual, pre-normalised block, as the mamba plugin's model does.

The task: the adding problem (Hochreiter and Schmidhuber's experiment 4, in the form of Le et al. 2015): T
values in [0, 1], two of them marked, one in each half; the target is their sum, read out at the last step.
The first mark lies T/2 to T − 1 steps before the prediction, so T is the lag: the full run trains at T = 4
and T = 16, the quick run at T = 16 only (``--set lags=4,16,40`` adds a longer one, reported). Every member
has about the parameters of the LSTM with 16 hidden units (the width whose count is nearest: the RNN 34 units,
the GRU 19, S4 11 channels, Mamba 8), starts from its seed's weights and reads the same batches of 64
sequences (Adam, the gradient's norm clipped at 1: the recurrent kit's ``fit_adding``), at most 600 steps
(quick: 150), each run stopped once solved (the mean batch MSE of 20 steps ≤ 0.01), each member at its own
best rate of 1e-2 and 3e-2 on validation sequences (the quick run trains the rate that grid picks at the quick
budget on seeds 0-4, ``QUICK_RATE``: 1e-2 for the RNN, 3e-2 for the others), scored at its best validation
checkpoint on 1,000 test sequences. Per member and T it reports the test MSE (``lstm: test MSE, T = 16``;
predicting the mean scores 1/6), the weight a of the far marked value in the least-squares fit ŷ ≈ a·v_first +
b·v_second + c of its predictions (``lstm: far value's weight, T = 16``: 1 carries the value over the lag, 0
forgets it, whatever the model made of the near one), the steps to solve (inf: not within the budget), the
wall time per step at T = 16 (``lstm: ms per step, T = 16``, noisy: a measurement, never asserted) and its
parameter count.

What the runs show (their numbers over seeds are in the calibration at the end of this page: seeds 0-9 of the
full run, 0-19 of the quick one). At T = 4 every member carries the far value, the RNN included. At T = 16 the
gated units and both state spaces solve the task within the full run's 600 steps on every seed, the GRU first
(in 99 steps on average), then S4 (207), Mamba (259) and the LSTM (262), while the RNN solves it on none: it
does learn to carry part of the far value by then (its weight is above 0.59 on every seed, 0.81 on average),
so at this lag and budget what separates it from the gated units is how fast it learns, not whether. The quick
run's 150 steps catch the family mid-way: the GRU has solved it on every seed (in about 90 steps), the RNN has
not started to carry the far value, the LSTM is still on the plateau of the constant prediction on most seeds
(how long it sits there depends on the seed more than on the rate), and the two state spaces carry part of it
(S4 solved it on 6 seeds of 20, Mamba on 2).

Its targets, at T = 16 (the far mark 8-15 steps back): in the quick run, the RNN's far weight under 0.5 and
the GRU's above the RNN's (asserted); in the full run, the GRU's test MSE within 0.01 of the LSTM's (two gates
for three, about the same weights), S4's far weight above 0.5 and the RNN's far weight above 0.5 at T = 4
(asserted). The LSTM's far weight minus the RNN's is reported in both runs (quick: the LSTM is on its
plateau on many seeds; full: the RNN has learnt part of it too), the GRU's lead over the RNN and the RNN's
failure in the full run. Mamba's test MSE minus S4's is reported: the adding problem's marks are an input
channel, so a time-invariant layer with a nonlinearity in front of its state (the block's SiLU) can gate the
unmarked values out itself, and no selection is needed (the two end level at T = 16). Mamba's step in the
lineage keeps its own plugin's number, selective copying with random spacing, which a time-invariant layer
cannot do; the LSTM's and the GRU's steps keep their plugins' numbers too (the LSTM's: the far weight against
``nn.RNN`` at T = 30, where the RNN does fail).

Calibration (generated by ``readtrack calibrate recurrent-bench --write`` from ``calibration.json``; mean ±
sd [min, max] over seeds, one thread each; margin: (mean − threshold) / sd, and the worst seed's (value −
threshold) / sd beside it; a target is asserted only when, on every torch, every seed passes and the mean
lies at least 3 seed standard deviations past the threshold: (mean − threshold) / sd ≥ 3 on the passing
side, a single seed may lie closer):

    quick runs, CPU (AVX2 kernels), 2026-11-30:
    target ≥ 0: gru: far value's weight at T = 16, the GRU's − the RNN's
      torch 2.14.1, seeds 0-19: 1.002 ± 0.04225 [0.9092, 1.063], margin 23.7 sd (worst seed 21.5 sd)
      torch 2.13.0, seeds 0-9: 0.9985 ± 0.03760 [0.9092, 1.037], margin 26.6 sd (worst seed 24.2 sd)
    target ≤ 0.5: rnn: far value's weight at T = 16
      torch 2.14.1, seeds 0-19: 0.001414 ± 0.008801 [-0.009716, 0.03412], margin 56.7 sd (worst seed 52.9
        sd)
      torch 2.13.0, seeds 0-9: 0.001650 ± 0.01205 [-0.009716, 0.03412], margin 41.3 sd (worst seed 38.7 sd)
    measured: rnn: test MSE, T = 16
      torch 2.14.1, seeds 0-19: 0.1618 ± 0.008151 [0.1504, 0.1768]
      torch 2.13.0, seeds 0-9: 0.1623 ± 0.008621 [0.1515, 0.1746]
    measured: rnn: far value's weight, T = 16
      torch 2.14.1, seeds 0-19: 0.001414 ± 0.008801 [-0.009716, 0.03412]
      torch 2.13.0, seeds 0-9: 0.001650 ± 0.01205 [-0.009716, 0.03412]
    measured: rnn: steps to solve, T = 16
      torch 2.14.1, seeds 0-19: n/a on every seed
      torch 2.13.0, seeds 0-9: n/a on every seed
    measured: rnn: ms per step, T = 16
      torch 2.14.1, seeds 0-19: 9.223 ± 3.649 [5.280, 17.54]
      torch 2.13.0, seeds 0-9: 9.185 ± 1.373 [7.529, 11.30]
    measured: lstm: test MSE, T = 16
      torch 2.14.1, seeds 0-19: 0.1312 ± 0.05377 [0.01560, 0.1717]
      torch 2.13.0, seeds 0-9: 0.1262 ± 0.05665 [0.02484, 0.1717]
    measured: lstm: far value's weight, T = 16
      torch 2.14.1, seeds 0-19: 0.1735 ± 0.3205 [-0.008379, 0.9895]
      torch 2.13.0, seeds 0-9: 0.1966 ± 0.3231 [-0.008379, 0.8172]
    measured: lstm: steps to solve, T = 16
      torch 2.14.1, seeds 0-19: n/a on every seed
      torch 2.13.0, seeds 0-9: n/a on every seed
    measured: lstm: ms per step, T = 16
      torch 2.14.1, seeds 0-19: 8.485 ± 3.607 [4.794, 16.02]
      torch 2.13.0, seeds 0-9: 7.299 ± 1.406 [5.666, 9.834]
    measured: gru: test MSE, T = 16
      torch 2.14.1, seeds 0-19: 0.004993 ± 0.001238 [0.002616, 0.007780]
      torch 2.13.0, seeds 0-9: 0.004842 ± 0.001494 [0.002616, 0.007780]
    measured: gru: far value's weight, T = 16
      torch 2.14.1, seeds 0-19: 1.003 ± 0.03748 [0.9433, 1.061]
      torch 2.13.0, seeds 0-9: 1.000 ± 0.02969 [0.9433, 1.033]
    measured: gru: steps to solve, T = 16
      torch 2.14.1, seeds 0-19: 89.70 ± 7.895 [78.00, 107.0]
      torch 2.13.0, seeds 0-9: 92.70 ± 7.804 [81.00, 107.0]
    measured: gru: ms per step, T = 16
      torch 2.14.1, seeds 0-19: 16.91 ± 6.164 [10.53, 29.89]
      torch 2.13.0, seeds 0-9: 14.92 ± 2.227 [11.96, 18.22]
    measured: mamba:s4: test MSE, T = 16
      torch 2.14.1, seeds 0-19: 0.05040 ± 0.06666 [0.004381, 0.1705]
      torch 2.13.0, seeds 0-9: 0.07243 ± 0.07557 [0.004381, 0.1699]
    measured: mamba:s4: far value's weight, T = 16
      torch 2.14.1, seeds 0-19: 0.6480 ± 0.3951 [-0.01013, 0.9990]
      torch 2.13.0, seeds 0-9: 0.5033 ± 0.4449 [-0.01013, 0.9834]
    measured: mamba:s4: steps to solve, T = 16
      torch 2.14.1, seeds 0-19: 134.7 ± 16.67 [112.0, 149.0]; n/a on seeds 0-4, 7-10, 12-14, 16, 17
      torch 2.13.0, seeds 0-9: 148.0 ± 1.414 [147.0, 149.0]; n/a on seeds 0-4, 7-9
    measured: mamba:s4: ms per step, T = 16
      torch 2.14.1, seeds 0-19: 22.04 ± 5.948 [15.54, 36.79]
      torch 2.13.0, seeds 0-9: 19.76 ± 2.141 [16.55, 23.65]
    measured: mamba: test MSE, T = 16
      torch 2.14.1, seeds 0-19: 0.06314 ± 0.06250 [0.004463, 0.1738]
      torch 2.13.0, seeds 0-9: 0.06816 ± 0.06680 [0.009833, 0.1738]
    measured: mamba: far value's weight, T = 16
      torch 2.14.1, seeds 0-19: 0.5779 ± 0.3826 [-0.004126, 0.9867]
      torch 2.13.0, seeds 0-9: 0.5434 ± 0.3779 [-0.004126, 0.8823]
    measured: mamba: steps to solve, T = 16
      torch 2.14.1, seeds 0-19: 145.0 ± 5.657 [141.0, 149.0]; n/a on seeds 0-12, 14-18
      torch 2.13.0, seeds 0-9: n/a on every seed
    measured: mamba: ms per step, T = 16
      torch 2.14.1, seeds 0-19: 35.40 ± 8.994 [24.42, 54.45]
      torch 2.13.0, seeds 0-9: 32.31 ± 2.268 [28.51, 36.73]
    measured: rnn: parameters
      torch 2.14.1, seeds 0-19: 1327 on every seed
      torch 2.13.0, seeds 0-9: 1327 on every seed
    measured: lstm: parameters
      torch 2.14.1, seeds 0-19: 1297 on every seed
      torch 2.13.0, seeds 0-9: 1297 on every seed
    measured: gru: parameters
      torch 2.14.1, seeds 0-19: 1331 on every seed
      torch 2.13.0, seeds 0-9: 1331 on every seed
    measured: mamba:s4: parameters
      torch 2.14.1, seeds 0-19: 1375 on every seed
      torch 2.13.0, seeds 0-9: 1375 on every seed
    measured: mamba: parameters
      torch 2.14.1, seeds 0-19: 1361 on every seed
      torch 2.13.0, seeds 0-9: 1361 on every seed
    reported, not asserted at quick size (the claim: ≥ 0): lstm: far value's weight at T = 16, the LSTM's −
      the RNN's
      torch 2.14.1, seeds 0-19: 0.1721 ± 0.3209 [-0.005820, 0.9892], margin 0.5 sd (worst seed -0.0 sd),
        misses it on seeds 3, 7, 9, 12, 19
      torch 2.13.0, seeds 0-9: 0.1949 ± 0.3246 [-0.003136, 0.8191], margin 0.6 sd (worst seed -0.0 sd),
        misses it on seeds 3, 7, 9
    reported, not asserted at quick size (the claim: ≤ 0.01): gru: test MSE at T = 16, the GRU's − the
      LSTM's
      torch 2.14.1, seeds 0-19: -0.1262 ± 0.05353 [-0.1684, -0.01079], margin 2.5 sd (worst seed 0.4 sd)
      torch 2.13.0, seeds 0-9: -0.1213 ± 0.05595 [-0.1684, -0.02152], margin 2.3 sd (worst seed 0.6 sd)
    reported, not asserted at quick size (the claim: ≥ 0.5): mamba:s4: far value's weight at T = 16
      torch 2.14.1, seeds 0-19: 0.6480 ± 0.3951 [-0.01013, 0.9990], margin 0.4 sd (worst seed -1.3 sd),
        misses it on seeds 0, 3, 4, 7, 12
      torch 2.13.0, seeds 0-9: 0.5033 ± 0.4449 [-0.01013, 0.9834], margin 0.0 sd (worst seed -1.1 sd),
        misses it on seeds 0, 3, 4, 7
    measured: mamba: test MSE at T = 16, Mamba's − S4's
      torch 2.14.1, seeds 0-19: 0.01274 ± 0.06951 [-0.1527, 0.1404]
      torch 2.13.0, seeds 0-9: -0.004276 ± 0.05017 [-0.1267, 0.06349]
    full runs, CPU (AVX2 kernels), 2026-11-30:
    target ≤ 0.01: gru: test MSE at T = 16, the GRU's − the LSTM's
      torch 2.14.1, seeds 0-9: -0.001070 ± 0.001773 [-0.003921, 0.003035], margin 6.2 sd (worst seed 3.9 sd)
    target ≥ 0.5: mamba:s4: far value's weight at T = 16
      torch 2.14.1, seeds 0-9: 0.9252 ± 0.03751 [0.8757, 0.9834], margin 11.3 sd (worst seed 10.0 sd)
    target ≥ 0.5: rnn: far value's weight at T = 4
      torch 2.14.1, seeds 0-9: 0.9710 ± 0.03642 [0.9115, 1.041], margin 12.9 sd (worst seed 11.3 sd)
    measured: rnn: test MSE, T = 4
      torch 2.14.1, seeds 0-9: 0.006586 ± 0.001197 [0.004937, 0.008408]
    measured: rnn: far value's weight, T = 4
      torch 2.14.1, seeds 0-9: 0.9710 ± 0.03642 [0.9115, 1.041]
    measured: rnn: steps to solve, T = 4
      torch 2.14.1, seeds 0-9: 204.0 ± 74.52 [134.0, 338.0]
    measured: lstm: test MSE, T = 4
      torch 2.14.1, seeds 0-9: 0.005675 ± 0.001279 [0.004080, 0.008727]
    measured: lstm: far value's weight, T = 4
      torch 2.14.1, seeds 0-9: 1.001 ± 0.02292 [0.9627, 1.040]
    measured: lstm: steps to solve, T = 4
      torch 2.14.1, seeds 0-9: 135.1 ± 40.16 [107.0, 220.0]
    measured: gru: test MSE, T = 4
      torch 2.14.1, seeds 0-9: 0.003658 ± 0.001178 [0.002445, 0.006448]
    measured: gru: far value's weight, T = 4
      torch 2.14.1, seeds 0-9: 0.9842 ± 0.02991 [0.9292, 1.046]
    measured: gru: steps to solve, T = 4
      torch 2.14.1, seeds 0-9: 81.00 ± 21.58 [66.00, 141.0]
    measured: mamba:s4: test MSE, T = 4
      torch 2.14.1, seeds 0-9: 0.005590 ± 0.001006 [0.003916, 0.007073]
    measured: mamba:s4: far value's weight, T = 4
      torch 2.14.1, seeds 0-9: 0.9490 ± 0.03278 [0.8880, 0.9888]
    measured: mamba:s4: steps to solve, T = 4
      torch 2.14.1, seeds 0-9: 98.20 ± 21.56 [74.00, 131.0]
    measured: mamba: test MSE, T = 4
      torch 2.14.1, seeds 0-9: 0.005370 ± 0.000741 [0.004430, 0.006518]
    measured: mamba: far value's weight, T = 4
      torch 2.14.1, seeds 0-9: 0.9385 ± 0.02488 [0.8767, 0.9669]
    measured: mamba: steps to solve, T = 4
      torch 2.14.1, seeds 0-9: 112.3 ± 30.64 [65.00, 157.0]
    measured: rnn: test MSE, T = 16
      torch 2.14.1, seeds 0-9: 0.03405 ± 0.01785 [0.01566, 0.06695]
    measured: rnn: far value's weight, T = 16
      torch 2.14.1, seeds 0-9: 0.8113 ± 0.1441 [0.5965, 1.130]
    measured: rnn: steps to solve, T = 16
      torch 2.14.1, seeds 0-9: n/a on every seed
    measured: rnn: ms per step, T = 16
      torch 2.14.1, seeds 0-9: 10.91 ± 3.081 [7.947, 16.85]
    measured: lstm: test MSE, T = 16
      torch 2.14.1, seeds 0-9: 0.005893 ± 0.001203 [0.004042, 0.007630]
    measured: lstm: far value's weight, T = 16
      torch 2.14.1, seeds 0-9: 0.9352 ± 0.03613 [0.8805, 1.004]
    measured: lstm: steps to solve, T = 16
      torch 2.14.1, seeds 0-9: 262.2 ± 83.84 [175.0, 370.0]
    measured: lstm: ms per step, T = 16
      torch 2.14.1, seeds 0-9: 9.836 ± 3.380 [6.600, 17.48]
    measured: gru: test MSE, T = 16
      torch 2.14.1, seeds 0-9: 0.004822 ± 0.001477 [0.002616, 0.007780]
    measured: gru: far value's weight, T = 16
      torch 2.14.1, seeds 0-9: 1.002 ± 0.02982 [0.9433, 1.033]
    measured: gru: steps to solve, T = 16
      torch 2.14.1, seeds 0-9: 98.90 ± 20.20 [81.00, 152.0]
    measured: gru: ms per step, T = 16
      torch 2.14.1, seeds 0-9: 20.02 ± 7.020 [11.19, 34.29]
    measured: mamba:s4: test MSE, T = 16
      torch 2.14.1, seeds 0-9: 0.006876 ± 0.001613 [0.004381, 0.009235]
    measured: mamba:s4: far value's weight, T = 16
      torch 2.14.1, seeds 0-9: 0.9252 ± 0.03751 [0.8757, 0.9834]
    measured: mamba:s4: steps to solve, T = 16
      torch 2.14.1, seeds 0-9: 207.0 ± 41.46 [149.0, 257.0]
    measured: mamba:s4: ms per step, T = 16
      torch 2.14.1, seeds 0-9: 24.44 ± 7.764 [15.10, 36.21]
    measured: mamba: test MSE, T = 16
      torch 2.14.1, seeds 0-9: 0.006728 ± 0.001539 [0.005120, 0.01062]
    measured: mamba: far value's weight, T = 16
      torch 2.14.1, seeds 0-9: 0.9435 ± 0.04295 [0.8795, 1.025]
    measured: mamba: steps to solve, T = 16
      torch 2.14.1, seeds 0-9: 259.1 ± 57.27 [171.0, 347.0]
    measured: mamba: ms per step, T = 16
      torch 2.14.1, seeds 0-9: 40.94 ± 11.15 [26.28, 56.85]
    measured: rnn: parameters
      torch 2.14.1, seeds 0-9: 1327 on every seed
    measured: lstm: parameters
      torch 2.14.1, seeds 0-9: 1297 on every seed
    measured: gru: parameters
      torch 2.14.1, seeds 0-9: 1331 on every seed
    measured: mamba:s4: parameters
      torch 2.14.1, seeds 0-9: 1375 on every seed
    measured: mamba: parameters
      torch 2.14.1, seeds 0-9: 1361 on every seed
    reported, not asserted at full size (the claim: ≥ 0): lstm: far value's weight at T = 16, the LSTM's −
      the RNN's
      torch 2.14.1, seeds 0-9: 0.1239 ± 0.1365 [-0.1773, 0.2839], margin 0.9 sd (worst seed -1.3 sd), misses
        it on seeds 1, 2
    reported, not asserted at full size (the claim: ≥ 0): gru: far value's weight at T = 16, the GRU's − the
      RNN's
      torch 2.14.1, seeds 0-9: 0.1910 ± 0.1533 [-0.1647, 0.4274], margin 1.2 sd (worst seed -1.1 sd), misses
        it on seed 2
    reported, not asserted at full size (the claim: ≤ 0.5): rnn: far value's weight at T = 16
      torch 2.14.1, seeds 0-9: 0.8113 ± 0.1441 [0.5965, 1.130], margin -2.2 sd (worst seed -4.4 sd), misses
        it on seeds 0-9
    measured: mamba: test MSE at T = 16, Mamba's − S4's
      torch 2.14.1, seeds 0-9: -0.000149 ± 0.002071 [-0.002812, 0.003864]
"""

from readtrack.api import declare

readtrack_paper_plugins = declare(
    __name__,
    title="The recurrent family on one bench",
    arxiv=None,
    claim="At a long lag of the adding problem the gated units and the state spaces carry the far value; "
    "the plain RNN learns it last.",
)
