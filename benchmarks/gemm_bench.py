"""Matrix-multiply throughput of this CPU (numpy/OpenBLAS and torch), in GFLOP/s.

The physical yardstick of the live benchmark: a model of F FLOPs cannot run faster than
F / (GEMM GFLOP/s) on these cores. numpy is measured as the environment is set and, in a child
process, with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset (those pin an older kernel here; see
the environment README); the OpenBLAS kernel in use is printed for each.

    python benchmarks/gemm_bench.py [--quick] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def openblas_core() -> str:
    """The OpenBLAS kernel numpy runs (its get_corename), or '?'."""
    import ctypes
    import glob

    import numpy as np

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "libscipy_openblas*.so"))
    for lib in libs:
        try:
            dll = ctypes.CDLL(lib)
            for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                         "openblas_get_corename"):
                if hasattr(dll, name):
                    fn = getattr(dll, name)
                    fn.restype = ctypes.c_char_p
                    return fn().decode()
        except OSError:
            continue
    return "?"


def _gflops(mm, n: int, repeats: int) -> tuple[float, float]:
    mm()  # warm up (thread pool, page faults)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        mm()
        times.append(time.perf_counter() - t)
    # the fastest run is the machine's capability (the others lost time to other processes on
    # this shared 2-core box); the median is printed beside it
    return 2 * n**3 / min(times) / 1e9, 2 * n**3 / statistics.median(times) / 1e9


def numpy_gemm(n: int, repeats: int, threads: int | None) -> tuple[float, float]:
    import ctypes
    import glob

    import numpy as np

    if threads:
        for lib in glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs",
                                          "libscipy_openblas*.so")):
            dll = ctypes.CDLL(lib)
            for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads"):
                if hasattr(dll, name):
                    getattr(dll, name)(threads)
                    break
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return _gflops(lambda: a @ b, n, repeats)


def torch_gemm(n: int, repeats: int, threads: int | None) -> tuple[float, float]:
    import torch

    if threads:
        torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    return _gflops(lambda: torch.mm(a, b), n, repeats)


def measure(n: int, repeats: int) -> dict:
    """numpy and torch GEMM GFLOP/s on 1 thread and on every core, in this process's env."""
    cores = os.cpu_count() or 1
    out = {"n": n, "openblas_core": openblas_core(),
           "env": {k: os.environ.get(k) for k in OPENBLAS_VARS}}
    for threads in sorted({1, cores}):
        best, med = numpy_gemm(n, repeats, threads)
        out[f"numpy_{threads}t"], out[f"numpy_{threads}t_median"] = round(best, 1), round(med, 1)
    for threads in sorted({1, cores}):
        best, med = torch_gemm(n, repeats, threads)
        out[f"torch_{threads}t"], out[f"torch_{threads}t_median"] = round(best, 1), round(med, 1)
    return out


def measure_both(n: int, repeats: int) -> dict:
    """measure() here, and numpy again in a child with the OpenBLAS variables unset."""
    here = measure(n, repeats)
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
    child = subprocess.run([sys.executable, __file__, "--child", "--n", str(n), "--repeats",
                            str(repeats)], env=env, capture_output=True, text=True, check=True)
    unset = json.loads(child.stdout.strip().splitlines()[-1])
    cores = os.cpu_count() or 1
    best = max(here[f"numpy_{cores}t"], here[f"torch_{cores}t"], unset[f"numpy_{cores}t"])
    best1 = max(here["numpy_1t"], here["torch_1t"], unset["numpy_1t"])
    return {"as_set": here, "openblas_vars_unset": unset, "best_gflops_all_cores": best,
            "best_gflops_1_thread": best1, "cores": cores}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1024, help="square matrix side")
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", action="store_true")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.repeats = 512, 8
    if args.child:
        import numpy as np  # noqa: F401

        cores = os.cpu_count() or 1
        out = {"n": args.n, "openblas_core": openblas_core(),
               "env": {k: os.environ.get(k) for k in OPENBLAS_VARS}}
        for threads in sorted({1, cores}):
            best, med = numpy_gemm(args.n, args.repeats, threads)
            out[f"numpy_{threads}t"], out[f"numpy_{threads}t_median"] = round(best, 1), round(med, 1)
        print(json.dumps(out))
        return 0
    r = measure_both(args.n, args.repeats)
    for label, d in (("env as set", r["as_set"]), ("OPENBLAS_* unset", r["openblas_vars_unset"])):
        nums = ", ".join(f"{k} {d[k]} (median {d[k + '_median']})" for k in d
                         if k.startswith(("numpy", "torch")) and not k.endswith("_median"))
        print(f"GEMM {args.n}^3 float32 [{label}; OpenBLAS core {d['openblas_core']}]: {nums} GFLOP/s")
    print(f"best (fastest run): {r['best_gflops_1_thread']} GFLOP/s on 1 thread, "
          f"{r['best_gflops_all_cores']} GFLOP/s on {r['cores']} cores")
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
