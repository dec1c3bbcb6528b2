"""The one checkpoint format and its one reader.

``state.py`` writes and reads ``state.pt`` (atomically, ``weights_only`` loads; model
spec, weights, normalisation, objective state with the centroids, the AU formulas, the
crop settings, history); ``bundle.py`` turns a checkpoint into what inference needs
(:class:`~distlm.checkpoint.bundle.Bundle`: the network, normalisation, crop options,
names, formulas). Training, evaluation, prediction and export all read checkpoints
through :func:`~distlm.checkpoint.state.load_state` and
:func:`~distlm.checkpoint.bundle.load_bundle`.
"""
from distlm.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "AVERAGED_KEY": "distlm.checkpoint.state",
    "CheckpointError": "distlm.checkpoint.state",
    "inference_weights": "distlm.checkpoint.state",
    "load_state": "distlm.checkpoint.state",
    "save_state": "distlm.checkpoint.state",
    "Bundle": "distlm.checkpoint.bundle",
    "bundle_from_state": "distlm.checkpoint.bundle",
    "load_bundle": "distlm.checkpoint.bundle",
})
