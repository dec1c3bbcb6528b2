"""Process-group helpers shared by every piece of state that must agree across
workers (centroids, loss balance, metrics). Plain ``torch.distributed``: no Ray."""
from distlm.distributed.backend import process_group_backend
from distlm.distributed.reduce import all_reduce, all_reduce_sum, is_distributed, world_size

__all__ = ["all_reduce", "all_reduce_sum", "is_distributed", "process_group_backend", "world_size"]
