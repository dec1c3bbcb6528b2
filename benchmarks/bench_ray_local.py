"""What a local Ray exposes, and how long a second process takes to join it:
``ray.init(address="local")`` vs. ``distlm.ray_local.start_local``, then a plain
``ray.init(address=GCS)`` vs. ``distlm.ray_local.join`` from a fresh process.

Listening sockets are read from ``/proc`` for every process under this one
(``tests/net_helpers.listening_sockets``). A plain join that does not finish within
``--timeout`` seconds is reported as such.

    .venv/bin/python benchmarks/bench_ray_local.py [--timeout 60]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from net_helpers import listening_sockets  # noqa: E402

JOIN = {"plain ray.init(address=GCS)": "import ray; ray.init(address='{gcs}')",
        "distlm.ray_local.join(GCS)": "from distlm.ray_local import join; join('{gcs}')"}


def join_seconds(code: str, timeout: float) -> str:
    t0 = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", code + "; import ray; ray.cluster_resources()"], check=True,
                       timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"not joined after {timeout:.0f} s"
    return f"{time.perf_counter() - t0:.1f} s"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args(argv)
    import ray

    from distlm.ray_local import start_local

    rows = []
    for name, start in (("ray.init(address='local')", lambda: ray.init(address="local", num_cpus=1,
                                                                          include_dashboard=False)),
                        ("distlm.ray_local.start_local()", lambda: start_local(num_cpus=1, include_dashboard=False))):
        start()
        gcs = ray.get_runtime_context().gcs_address
        time.sleep(2)  # the agents open their ports after init returns
        ips = sorted({ip for _, ip in listening_sockets(os.getpid())})
        joins = {k: join_seconds(code.format(gcs=gcs), a.timeout) for k, code in JOIN.items()}
        rows.append((name, gcs, ips, joins))
        ray.shutdown()
        time.sleep(2)
    print(f"\nRay {ray.__version__}, {os.cpu_count()} CPUs\n")
    print("| started with | GCS address | addresses its processes listen on | " + " | ".join(JOIN) + " |")
    print("|---|---|---|" + "---|" * len(JOIN))
    for name, gcs, ips, joins in rows:
        print(f"| `{name}` | {gcs} | {', '.join(ips)} | " + " | ".join(joins[k] for k in JOIN) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
