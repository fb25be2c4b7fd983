"""Shared code for paper plugins: the toy tasks, toy models, reference checks and layer timings that several
plugins use, written and tested once (``tests/test_plugin_kit*.py``) instead of copied into each.

- :mod:`readtrack.plugin_kit.tasks`: seeded synthetic data (a teacher classification problem, reversal and
  lagged copy, the adding problem, Markov-chain text with its exact entropy rate, a ring of Gaussians and its
  mode coverage);
- :mod:`readtrack.plugin_kit.images`: procedural images (shapes, scenes with boxes and class maps, bars
  images with their exact likelihood, bouncing balls) and text art for samples;
- :mod:`readtrack.plugin_kit.models`: small networks the experiments train (a deep MLP, with or without a
  normalisation layer);
- :mod:`readtrack.plugin_kit.checks`: "ours against the reference" for modules, forward and gradients, and
  causality through the Jacobian;
- :mod:`readtrack.plugin_kit.timing`: a layer's forward and training step through ``ctx.bench``;
- :mod:`readtrack.plugin_kit.transformer`: a small GPT-2-style transformer taking any attention mask, for
  plugins whose idea is an objective or a data format rather than the architecture;
- :mod:`readtrack.plugin_kit.mlm`: masked language modelling (BERT's 80/10/10 corruption, the masked loss and
  accuracy) and a task that needs the right context, with its exact Bayes ceiling;
- :mod:`readtrack.plugin_kit.recurrent`: for recurrent networks, the check against a reference on the same
  parameters, the adding problem's model and training loop, and the timing against torch's fused module;
- :mod:`readtrack.plugin_kit.vision`: a LeNet-5-style classifier for the procedural images and its training
  loop (the CNN plugins train one and then study it);
- :mod:`readtrack.plugin_kit.cnns`: the CNN case study's networks at toy scale (AlexNet, ZF Net, VGG,
  GoogLeNet and its inception module), trained by cnn-architectures and by the CNN family's bench;
- :mod:`readtrack.plugin_kit.memory`: the bytes a training step keeps for its backward pass, counted exactly
  (the family benches' memory column);
- :mod:`readtrack.plugin_kit.detection`: box operations, NMS, RoI pooling, anchors and a tiny two-stage
  detector with its training loop (r-cnn builds it, coco evaluates it);
- :mod:`readtrack.plugin_kit.bpe`: a byte-level BPE trainer and tokenizer (integer-tokenization and byt5);
- :mod:`readtrack.plugin_kit.rates`: each arm of a comparison its own best learning rate from one grid,
  picked on validation (the quick run trains the rate the grid picks at its budget).

A plugin imports what it needs (``from readtrack.plugin_kit.tasks import reversal_batch``), never a sibling
plugin: a plugin folder copied into a user's plugin directory keeps working. These modules import torch, so
only experiments modules import them, never a plugin's ``__init__``.
"""
