"""``python -m distlm.predict CHECKPOINT INPUT... --out results.parquet``.

Inputs: image files, folders (recursive), ``s3://`` prefixes and videos (every
``--every``-th frame). Writes one row per face (``.parquet`` / ``.csv`` / ``.jsonl``
by extension) and ``<out stem>.errors.csv`` listing every unreadable input with its
reason, and every frame without a face (``reason`` ``no_face``). Exit status: 0 done (faceless or unreadable inputs are reported, not
fatal), 2 bad arguments or a checkpoint that is not a distlm checkpoint.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import List, Optional

log = logging.getLogger("distlm.predict")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m distlm.predict", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="distlm checkpoint (state.pt or its folder)")
    p.add_argument("inputs", nargs="+", help="image files, folders, s3:// prefixes, videos")
    p.add_argument("--out", required=True, help="results file: .parquet, .csv or .jsonl")
    p.add_argument("--every", type=int, default=10, help="keep every N-th video frame (default 10)")
    p.add_argument("--detector", default=None, help="override the checkpoint's detector (mtcnn|haar|none)")
    p.add_argument("--threshold", type=float, default=0.5, help="AU on/off threshold")
    p.add_argument("--face-actors", type=int, default=1,
                   help="actors that decode inputs and detect/crop faces, in parallel (default 1)")
    p.add_argument("--model-actors", type=int, default=1,
                   help="actors that run the network on the crops (default 1)")
    p.add_argument("--cpus-per-actor", type=float, default=1.0,
                   help="CPUs reserved per face actor, i.e. its detector's threads (default 1)")
    p.add_argument("--model-cpus", type=float, default=None,
                   help="CPUs reserved per CPU model actor (default: --cpus-per-actor if it fits, "
                        "else what the face actors leave)")
    p.add_argument("--cluster-cpus", type=float, default=None,
                   help="CPUs to plan the actors for on an autoscaling cluster (its maximum; "
                        "default: the CPUs it has now)")
    p.add_argument("--gpus", type=float, default=0.0, help="GPUs per model actor (0: CPU)")
    p.add_argument("--batch-size", type=int, default=64, help="crops per forward pass")
    p.add_argument("--items-per-task", type=int, default=4, help="inputs per face-actor call")
    p.add_argument("--annotate", default=None, metavar="DIR", help="write copies with boxes and labels here")
    p.add_argument("--endpoint-url", default=None, help="S3 endpoint (e.g. http://127.0.0.1:9000)")
    p.add_argument("--address", default=None, help="Ray address (default: running cluster, else local)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of a new local Ray instance")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    from distlm.predict.bundle import load_bundle
    from distlm.predict.inputs import expand_inputs
    from distlm.predict.results import errors_path, rows_table, write_table
    from distlm.train.checkpoint import CheckpointError

    try:
        load_bundle(args.checkpoint, args.detector)  # refuse a foreign file before starting Ray
    except CheckpointError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not args.out.lower().endswith((".parquet", ".csv", ".jsonl", ".json")):
        print(f"error: {args.out}: use .parquet, .csv or .jsonl", file=sys.stderr)
        return 2
    storage = {"endpoint_url": args.endpoint_url} if args.endpoint_url else {}
    items = expand_inputs(args.inputs, storage)
    log.info("predict: %d inputs", len(items))
    from distlm.predict.pipeline import run_pipeline
    from distlm.prepare.ray_run import ray_session

    from distlm.predict.resources import ResourceError

    with ray_session(args.address, args.num_cpus):
        try:
            res = run_pipeline(args.checkpoint, items, detector=args.detector, face_actors=args.face_actors,
                               model_actors=args.model_actors, cpus_per_actor=args.cpus_per_actor,
                               model_cpus=args.model_cpus, gpus_per_model_actor=args.gpus,
                               cluster_cpus=args.cluster_cpus,
                               batch_size=args.batch_size, threshold=args.threshold, every=args.every,
                               storage=storage, items_per_task=args.items_per_task)
        except ResourceError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    write_table(res.to_table(), args.out)
    skipped = res.errors + [{**n, "reason": "no_face", "detail": "no face found"} for n in res.no_face]
    err_file = write_table(rows_table(skipped, ["source", "frame", "reason", "detail"]), errors_path(args.out))
    if args.annotate:
        from distlm.predict.annotate import annotate

        annotate(res, args.annotate, args.every, storage)
    print(json.dumps({"out": args.out, "errors": err_file, **dict(res.counts)}))
    print(f"predict: {res.summary()}", file=sys.stderr)
    for e in res.errors:
        print(f"  unreadable: {e['source']}: {e['reason']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
