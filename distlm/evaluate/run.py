"""Evaluate a checkpoint on a job's test set; tables, CSV/JSON and plots."""
from __future__ import annotations

import csv
import json
import os
import tempfile
from typing import Any, Callable, Dict, Iterator, Optional, Sequence

import numpy as np
import torch

from distlm.checkpoint.bundle import bundle_from_state
from distlm.checkpoint.state import load_state
from distlm.config import job_from_dict
from distlm.data.fs import atomic_local
from distlm.errors import UserError
from distlm.evaluate import plots
from distlm.metrics import format_table1, format_table2
from distlm.data.sources import loader_kind, parquet_batches, parquet_split, read_memory, test_batches
from distlm.train.evaluate import evaluate


def fetch_checkpoint(path: str, storage: Optional[Dict[str, Any]] = None) -> str:
    """A local copy of a checkpoint directory or file (``s3://`` fetched)."""
    if "://" not in path:
        return path
    from distlm.data.fs import resolve

    fs, root = resolve(path, storage)
    local = tempfile.mkdtemp(prefix="distlm-ckpt-")
    name = root.rstrip("/").rsplit("/", 1)[-1]
    if fs.isdir(root):
        fs.get(root.rstrip("/") + "/", local, recursive=True)
        return local
    fs.get(root, os.path.join(local, name))
    return os.path.join(local, name)


def evaluate_checkpoint(checkpoint: str, spec, out_dir: str, device: str = "cpu",
                        method: Optional[str] = None, framework: str = "",
                        storage: Optional[Dict[str, Any]] = None, overrides: Sequence[str] = ()) -> Dict[str, Any]:
    """Metrics of ``checkpoint`` on ``spec``'s test set, written to ``out_dir``.

    ``spec`` None: the spec the checkpoint was trained with (``overrides`` applied),
    ``storage`` the S3 options to fetch it with (default: ``spec``'s)."""
    state = load_state(fetch_checkpoint(checkpoint, storage if spec is None else (storage or _storage(spec))))
    if spec is None:
        spec = job_from_dict(state["spec"], overrides, f"{checkpoint} (its job spec)")
    if spec.data.test is None:
        raise UserError(f"{spec.name}: the job has no data.test source to evaluate on "
                        f"(give a job YAML with one, or --set data.test.path=... --set data.test.format=...)")
    bundle = bundle_from_state(state, checkpoint)
    model, norm = bundle.model.to(device), bundle.norm
    batches = eval_batches(spec)
    result = evaluate(model, batches(), spec, norm, device, collect_embeddings=3000)
    plots.ensure_dir(out_dir)
    emb, targets = result.pop("embeddings", None), result.pop("targets", None)
    metrics = {k: v for k, v in result.items()}
    row = {"method": method or spec.name, "framework": framework or _framework(spec), **metrics}
    names = spec.data.class_names or [str(i) for i in range(spec.num_outputs)]
    files = {}
    if spec.scenario == "aus":
        table = format_table2([{**row, "f1": {int(k[5:]): v for k, v in metrics.items() if k.startswith("f1_AU")}}],
                              au_ids=spec.data.au_ids)
        files["au_f1"] = plots.au_f1({k: v for k, v in metrics.items() if k.startswith("f1_AU")},
                                     os.path.join(out_dir, "au_f1.png"))
    else:
        table = format_table1([row])
        cm = _confusion(model, batches, spec, norm, device)
        files["confusion"] = plots.confusion(cm, names, os.path.join(out_dir, "confusion.png"))
    cents = _centroids(state)
    if emb is not None and spec.scenario != "aus":
        files["embedding"] = plots.embedding(emb.numpy(), targets.numpy(), cents, names,
                                             os.path.join(out_dir, "embedding.png"))
    files["training"] = plots.training(state.get("history", {}), os.path.join(out_dir, "training.png"))
    with atomic_local(os.path.join(out_dir, "metrics.csv")) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    # metrics.json last: its presence says the whole evaluation was written
    with atomic_local(os.path.join(out_dir, "metrics.json")) as tmp, open(tmp, "w") as f:
        json.dump({"row": row, "files": files, "epoch": state["epoch"], "step": state["step"]}, f, indent=2)
    return {"row": row, "table": table, "files": files}


def eval_batches(spec) -> Callable[[], Iterator[Dict[str, np.ndarray]]]:
    """``() ->`` one pass over ``spec``'s test set as numpy batches: in-memory arrays, or a
    Parquet crops source read in batches with pyarrow (its ``test`` rows when it mixes splits)."""
    src = spec.data.test
    if src is None:
        raise ValueError(f"job {spec.name!r} has no data.test source to evaluate on")
    if loader_kind(spec) == "memory" and src.format != "parquet":
        memory = read_memory(spec, with_unlabelled=False)
        return lambda: test_batches(memory, 0, 1)
    from distlm.data.sources import check_sources

    check_sources(spec)
    storage = _storage(spec) if src.path.startswith("s3://") else None
    split = parquet_split(src.path, "test", storage)
    return lambda: parquet_batches(src.path, storage, split)


def _storage(spec):
    from distlm.data.sources import storage_options

    return storage_options(spec)


def _framework(spec) -> str:
    if spec.scenario == "aus":
        return "T." if spec.selflabel.enabled else "Sv"
    return "SSL" if spec.selflabel.enabled else "Superv"


def _centroids(state) -> Optional[np.ndarray]:
    obj = state.get("objective", {})
    for key in ("aux.centroids.centroids", "aux.centers"):
        if key in obj and obj[key].numel():
            return obj[key].float().numpy()
    return None


@torch.no_grad()
def _confusion(model, batches, spec, norm, device) -> np.ndarray:
    from distlm.metrics import ExpressionMetrics
    from distlm.models.forward import predict_batch

    m = ExpressionMetrics(spec.num_outputs, ignore_index=-1)
    for b in batches():
        m.update(predict_batch(model, b["images"], norm, device).logits.float().cpu(), torch.as_tensor(b["labels"]))
    return m.confmat.numpy()
