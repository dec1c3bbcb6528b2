"""The Ray Train trainer: ``python -m distlm.train JOB.yaml``.

Layers, thinnest on top: ``driver`` (Ray, ``TorchTrainer``), ``loop``
(``train_loop_per_worker`` and the per-worker state), ``objective`` (the loss
of one step for both scenarios), ``supervised``, ``optim``, ``evaluate``,
``checkpoint``.
"""
