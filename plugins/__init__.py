"""readtrack's built-in paper plugins, installed as the package `readtrack_plugins`.

One folder per paper: a light `__init__.py` declaring the paper, `model.py` (the implementation) and
`experiment.py` (check, tiny train/eval, benchmark). See "Writing a plugin" in the README.
"""

from readtrack.api import Lineage, lineage_members

# The families the list names (issue 92). Each plugin declares its own members beside its paper, in its
# `__init__.py` (`readtrack_lineages = lineage_members(Member(...))`); `readtrack lineage NAME` orders them
# by date and reads each step's number from the newest run recorded.
readtrack_lineages = lineage_members(
    Lineage(
        "optimizers",
        "Optimizers: from SGD with momentum to Schedule-Free, L-BFGS beside them",
        "What each optimizer fixed in the one before: one rate for weights whose gradients differ in "
        "scale, a decay that Adam's normalisation undid, a schedule that needed the run's length in "
        "advance; and where a second-order method wins outright.",
        section="Optimization algorithm",
        bench="optimizers-bench",
    ),
    Lineage(
        "recurrent",
        "Recurrent networks: RNN, LSTM, GRU; S4 and Mamba",
        "How far back a recurrent model can remember: gates that keep a gradient alive over long lags, fewer "
        "gates for the same memory, then state spaces whose dynamics depend on the input.",
        section="Models",
        bench="recurrent-bench",
    ),
    Lineage(
        "cnn",
        "The CNN case study: LeNet, AlexNet, ZF Net, VGG, GoogLeNet, ResNet",
        "What each ImageNet generation changed in the convolutional network, and what it bought.",
        section="Vision",
        bench="cnn-bench",
    ),
    Lineage(
        "detection",
        "Detection: R-CNN, Fast R-CNN, Faster R-CNN",
        "From hand-made region proposals classified one by one to proposals the network learns itself.",
        section="Vision",
        bench="detection-bench",
    ),
    Lineage(
        "attention",
        "Attention: multi-head, multi-query, grouped-query; sliding window",
        "What the key-value heads cost and what sharing them loses; how far a layer of local attention sees.",
        section="Development of language models",
        bench="attention-bench",
    ),
    Lineage(
        "tokenization",
        "Tokenization: BPE, bytes, MEGABYTE",
        "What subword vocabularies do to numbers and noise, and what reading bytes costs and buys back.",
        section="Tokenization",
        bench="tokenization-bench",
    ),
    Lineage(
        "normalization",
        "Normalization layers in time: BatchNorm to Dynamic Tanh",
        "How each normalization layer improved the one before it (the list's own TODO in its "
        "Normalization section): statistics over the batch, then over each example, then none at all.",
        section="Normalization and Regularization",
        bench="normalization-bench",
    ),
)
