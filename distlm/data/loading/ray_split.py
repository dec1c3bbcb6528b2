"""How the trainer's Ray Datasets are split across its workers (a Ray Train ``DataConfig``).

Every dataset is split with ``streaming_split``, each worker reading a disjoint shard:

* training sides (``labelled``, ``unlabelled``): ``equal=True``, so every worker takes
  the same number of steps (DDP needs it; up to ``world - 1`` rows of a pass may go
  unread);
* evaluation sides (``test``): ``equal=False``, so every row goes to exactly one
  worker and none is dropped; shards may differ in length (or be empty), which
  evaluation allows: each worker sums its counts and they are all-reduced
  (``distlm.train.evaluate``).

Example::

    TorchTrainer(..., datasets={"labelled": l, "test": t},
                 dataset_config=SplitEveryDataset(read_order(deterministic=False)))
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Sequence

from ray.train import DataConfig

#: sides read whole, once per evaluation, by all workers together
EVALUATION_SIDES = ("test",)


class SplitEveryDataset(DataConfig):
    """Ray Train's ``DataConfig`` with the evaluation sides split unequally too.

    ``options``: Ray Data's ``ExecutionOptions`` given to every dataset (set the read
    order with ``ray_adaptor.read_order``); ``uneven``: names split with ``equal=False``.
    """

    def __init__(self, options: Any, uneven: Sequence[str] = EVALUATION_SIDES,
                 locality: bool = True) -> None:
        super().__init__(datasets_to_split="all", execution_options=options, enable_shard_locality=locality)
        self.options, self.uneven, self.locality = options, frozenset(uneven), locality

    def configure(self, datasets: Dict[str, Any], world_size: int, worker_handles: Optional[List[Any]],
                  worker_node_ids: Optional[List[str]], **kwargs: Any) -> List[Dict[str, Any]]:
        """``[{name: DataIterator}]`` per rank: each dataset's ``world_size`` disjoint shards."""
        out: List[Dict[str, Any]] = [{} for _ in range(world_size)]
        hints = worker_node_ids if self.locality else None
        for name, ds in datasets.items():
            if ds.name is None:
                ds.set_name(name)
            ds = ds.copy(ds)
            ds.context.execution_options = copy.deepcopy(self.options)
            for rank, shard in enumerate(ds.streaming_split(world_size, equal=name not in self.uneven,
                                                            locality_hints=hints)):
                out[rank][name] = shard
        return out
