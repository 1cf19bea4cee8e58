#!/usr/bin/python3
"""Checks of compare.py's bookkeeping on made-up runs (no benchmark is run):
    /usr/bin/python3 -m unittest benchmarks/peers/test_compare.py
"""

import argparse
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def run(b64, b256, b1, b256i, waits=(0.0, 0.0), **extra):
    """A side's JSON as Kiln.Benchmarks --quick-json / torch_mlp.py / Kiln.Peers print it."""
    r = {"train_b64_samples_per_s": b64, "train_b256_samples_per_s": b256,
         "infer_b1_median_us": b1, "infer_b256_median_us": b256i, "details": {}}
    if b64 is not None:
        r["details"]["train_b64"] = {"rounds_samples_per_s": [b64, b64], "rounds_runqueue_wait_fraction": list(waits)}
        r["details"]["train_b256"] = {"rounds_samples_per_s": [b256, b256], "rounds_runqueue_wait_fraction": list(waits)}
    r["details"]["infer_b1"] = {"median_us": b1, "runqueue_wait_fraction": waits[0]}
    r["details"]["infer_b256"] = {"median_us": b256i, "runqueue_wait_fraction": waits[0]}
    r.update(extra)
    return r


def torch_run(b64, b256, b1, b256i, variant):
    r = run(b64, b256, b1, b256i, torch_threads=2, variant=variant)
    r["details"]["train_b64"]["page_faults_per_step"] = 0.0
    r["details"]["train_b256"]["page_faults_per_step"] = 0.0
    r["machine"] = {"blas": {"openblas_corename": "Cooperlake", "openblas_threads": 1},
                    "allocator": {"name": "libjemalloc.so.2"}, "gemm_check_max_rel_err": 1e-8}
    return r


class FigureTests(unittest.TestCase):
    def test_disturbed_rounds_are_left_out_when_quiet_ones_exist(self):
        r = run(100, 200, 5, 50)
        r["details"]["train_b64"] = {"rounds_samples_per_s": [100, 10, 110], "rounds_runqueue_wait_fraction": [0.0, 0.5, 0.01]}
        f = compare.figure([r], "train_b64_samples_per_s", 0.05)
        self.assertEqual(f["value"], 105)
        self.assertEqual((f["used"], f["total"], f["disturbed"]), (2, 3, False))

    def test_all_disturbed_falls_back_and_says_so(self):
        r = run(100, 200, 5, 50, waits=(0.4, 0.6))
        f = compare.figure([r], "train_b256_samples_per_s", 0.05)
        self.assertEqual(f["value"], 200)
        self.assertTrue(f["disturbed"])

    def test_missing_figure_is_none(self):
        ort = run(None, None, 20, 900)
        self.assertIsNone(compare.figure([ort], "train_b64_samples_per_s", 0.05))


class ReportTests(unittest.TestCase):
    def report(self, kiln2, torch_variants, net, missing=None):
        args = argparse.Namespace(quiet=0.05, threads=2)
        kiln = {1: [dict(run(50_000, 100_000, 4.0, 900), train_flop_per_sample=1_000_000, isa="Avx512")],
                2: [dict(kiln2, train_flop_per_sample=1_000_000, isa="Avx512")]}
        fma = {"threads_1": {"threads": 1, "peak_gflop_per_s": 200.0}, "threads_2": {"threads": 2, "peak_gflop_per_s": 400.0}}
        summary = {"models": {}}
        text = compare.model_report("mlp", kiln, torch_variants, net, missing or {}, fma, args, summary)
        return "\n".join(text), summary["models"]["mlp"]

    def test_strongest_peer_per_figure_and_targets(self):
        torch_variants = {"blas1-torchN+jemalloc": [torch_run(30_000, 60_000, 45, 1500, "blas1-torchN+jemalloc")],
                          "blasN-torch1+jemalloc": [torch_run(36_000, 50_000, 50, 1200, "blasN-torch1+jemalloc")]}
        net = {"TorchSharp eager": [run(31_000, 58_000, 40, 1000, config="eager")],
               "TorchSharp best": [run(33_000, 70_000, 28, 1100, config="best")],
               "ONNX Runtime": [run(None, None, 10, 800, config="ort")]}
        text, m = self.report(run(200_000, 320_000, 2.5, 700), torch_variants, net)
        b64 = m["metrics"]["train_b64_samples_per_s"]
        # PyTorch's column is its fastest variant per figure; the strongest peer is over every column.
        self.assertEqual(b64["peers"]["PyTorch"]["variant"], "blasN-torch1+jemalloc")
        self.assertEqual(b64["strongest"], {"peer": "PyTorch", "value": 36_000})
        self.assertEqual(m["metrics"]["train_b256_samples_per_s"]["strongest"]["peer"], "TorchSharp best")
        self.assertEqual(m["metrics"]["infer_b1_median_us"]["strongest"], {"peer": "ONNX Runtime", "value": 10})
        self.assertAlmostEqual(b64["ratio_vs_strongest"]["2"], 200_000 / 36_000)
        t = m["targets"]
        self.assertTrue(t["MLP training, batch 64: ≥ 5× the strongest peer"]["2"]["met"])          # 5.56×
        self.assertFalse(t["MLP training, batch 64: ≥ 5× the strongest peer"]["1"]["met"])         # 1.39×
        self.assertTrue(t["MLP training, batch 256: ≥ 4× the strongest peer"]["2"]["met"])         # 320 / 70 = 4.57×
        self.assertFalse(t["MLP training, batch 256: ≥ 4× the strongest peer"]["1"]["met"])        # 100 / 70
        self.assertTrue(t["MLP Predict, batch 1: ≤ 3 µs"]["2"]["met"])
        self.assertFalse(t["MLP Predict, batch 1: ≤ 3 µs"]["1"]["met"])
        self.assertTrue(t["MLP Predict, batch 1: ≥ 3× ONNX Runtime"]["2"]["met"])                  # 10 / 2.5 = 4×
        # 320,000 samples/s × 1 MFLOP = 320 GFLOP/s = 80 % of the 2-thread peak; 100 GFLOP/s = 50 % of 1 thread's.
        self.assertAlmostEqual(m["efficiency"]["2"]["train_b256_peak_fraction"], 0.8)
        self.assertTrue(t["MLP training, batch 256: ≥ 80 % of the FMA peak"]["2"]["met"])
        self.assertFalse(t["MLP training, batch 256: ≥ 80 % of the FMA peak"]["1"]["met"])
        self.assertIn("NOT met", text)

    def test_peers_not_built_are_left_out_of_the_ratios(self):
        torch_variants = {"omp-shared+glibc-tuned": [torch_run(30_000, 60_000, 45, 1500, "omp-shared+glibc-tuned")]}
        missing = {name: "not built" for name, _, _ in compare.NET_PEERS}
        text, m = self.report(run(200_000, 320_000, 2.5, 700), torch_variants, {}, missing)
        self.assertIn("not built", text)
        self.assertEqual(m["metrics"]["infer_b1_median_us"]["strongest"]["peer"], "PyTorch")
        self.assertIsNone(m["targets"]["MLP Predict, batch 1: ≥ 3× ONNX Runtime"]["2"]["met"])


class PyTorchVariantTests(unittest.TestCase):
    def test_no_variant_oversubscribes_and_each_unsets_the_core_override(self):
        os.environ["OPENBLAS_CORETYPE"] = "Haswell"
        dirs = {"openmp": "/x/openblas-openmp", "pthread": "/x/openblas-pthread"}
        for t in compare.THREADINGS:
            for a in compare.ALLOCATORS:
                env, torch_threads = compare.pytorch_env(f"{t}+{a}", 2, dirs)
                self.assertNotIn("OPENBLAS_CORETYPE", env)
                blas = int(env.get("OPENBLAS_NUM_THREADS", "0"))
                if t == "omp-shared":  # one libgomp pool for both
                    self.assertTrue(env["LD_LIBRARY_PATH"].startswith(dirs["openmp"]))
                    self.assertEqual(torch_threads, 2)
                else:  # one of the two pools has a single thread, the calling one
                    self.assertTrue(env["LD_LIBRARY_PATH"].startswith(dirs["pthread"]))
                    self.assertEqual(min(blas, torch_threads), 1)
                    self.assertEqual(max(blas, torch_threads), 2)
                self.assertEqual("LD_PRELOAD" in env, a == "jemalloc")
                self.assertEqual("MALLOC_MMAP_MAX_" in env, a == "glibc-tuned")
                self.assertEqual(env.get("ATEN_CPU_CAPABILITY"), "avx512" if compare.cpu_has_avx512() else None)
                env, _ = compare.pytorch_env(f"{t}+{a}+aten-build", 2, dirs)
                self.assertNotIn("ATEN_CPU_CAPABILITY", env)


def limits_run(l2, l3, dram, trip, stage, work=None):
    """A --limits JSON (bandwidth best/median per thread count, cross-thread medians) with one run's figures."""
    def bw(best):
        return {"threads_1": {"best_gb_per_s": best / 2, "median_gb_per_s": 0.45 * best},
                "threads_2": {"best_gb_per_s": best, "median_gb_per_s": 0.9 * best}}
    return {"bandwidth": {"read_l2_512k": dict(bw(l2), what="read, 512 KiB per thread (L2)", bytes_per_thread=524288),
                          "read_l3_8m": dict(bw(l3), what="read, 8 MiB per thread (L3)", bytes_per_thread=8 << 20),
                          "read_dram_64m": dict(bw(dram), what="read, 64 MiB per thread (DRAM)", bytes_per_thread=64 << 20)},
            "cross_thread": {"cache_line_round_trip_us": {"median": trip, "p90": 2 * trip, "max": 10.0, "samples": 300},
                             "pool_empty_stage_us": {"median": stage, "p90": 2 * stage, "max": 50.0, "samples": 300},
                             "pool_threads": 2},
            "work": work or {}}


# Work of a made-up MLP: 1 MFLOP per training sample, 0.5 MFLOP per inference, 1 MB of weights, 7 MB of Adam traffic.
WORK = {"mlp": {"train_flop_per_sample": 1_000_000, "infer_flop_per_sample": 500_000, "product_weight_bytes": 1_000_000,
                "parameter_floats": 250_000, "adam_bytes_per_step": 7_000_000, "activation_bytes_per_sample": 4_000}}


class LimitsTests(unittest.TestCase):
    def test_merge_keeps_the_best_round_and_the_least_disturbed_probe(self):
        merged = compare.merge_limits([limits_run(400, 100, 30, 0.20, 1.5, WORK), limits_run(300, 120, 20, 0.15, 2.5)])
        l2 = merged["bandwidth"]["read_l2_512k"]
        self.assertEqual(l2["threads_2"]["best_gb_per_s"], 400)
        self.assertAlmostEqual(l2["threads_2"]["median_gb_per_s"], 315)  # median of the runs' medians 360 and 270
        self.assertEqual(merged["bandwidth"]["read_l3_8m"]["threads_2"]["best_gb_per_s"], 120)
        self.assertEqual(merged["cross_thread"]["cache_line_round_trip_us"]["median"], 0.15)
        self.assertEqual(merged["cross_thread"]["pool_empty_stage_us"]["median"], 1.5)
        self.assertEqual(merged["work"], WORK)
        self.assertIsNone(compare.merge_limits([]))

    def test_the_roofline_takes_the_higher_fma_peak(self):
        runs = [dict(limits_run(500, 100, 30, 0.2, 1.0, WORK), fma={"threads_2": {"peak_gflop_per_s": 450.0}}),
                dict(limits_run(500, 100, 30, 0.2, 1.0), fma={"threads_2": {"peak_gflop_per_s": 440.0}})]
        limits = compare.merge_limits(runs)
        self.assertEqual(limits["fma"]["threads_2"]["peak_gflop_per_s"], 450.0)
        # A busy machine's long rounds (the fma side) came out low: the 2-ms rounds' peak is used.
        self.assertEqual(compare.roofline_peak({"threads_2": {"peak_gflop_per_s": 80.0}}, limits, 2), 450.0)
        self.assertEqual(compare.roofline_peak({"threads_2": {"peak_gflop_per_s": 460.0}}, limits, 2), 460.0)
        self.assertEqual(compare.roofline_peak({"threads_1": {"peak_gflop_per_s": 230.0}}, limits, 1), 230.0)
        self.assertIsNone(compare.roofline_peak({}, {"fma": {}}, 2))

    def test_roofline_sets_each_target_against_its_floor(self):
        limits = compare.merge_limits([limits_run(500, 100, 30, 0.2, 1.0, WORK)])
        fma = {"threads_1": {"peak_gflop_per_s": 200.0}, "threads_2": {"peak_gflop_per_s": 400.0}}
        msum = {"metrics": {
            "train_b64_samples_per_s": {"strongest": {"peer": "PyTorch", "value": 40_000},
                                        "kiln": {"2": {"value": 100_000}}},
            "train_b256_samples_per_s": {"strongest": {"peer": "PyTorch", "value": 100_000},
                                         "kiln": {"2": {"value": 200_000}}},
            "infer_b1_median_us": {"peers": {"ONNX Runtime": {"value": 12.0}}, "kiln": {"2": {"value": 6.0}}}}}
        rows = compare.roofline("mlp", msum, limits, fma, 2)
        b64 = rows["MLP training, batch 64: ≥ 5× the strongest peer"]
        # 5 × 40,000 samples/s: 320 µs per 64-sample step; floor 64 MFLOP at 400 GFLOP/s = 160 µs + 7 MB at 100 GB/s = 70 µs.
        self.assertAlmostEqual(b64["allowed_us"], 320)
        self.assertAlmostEqual(b64["floor_us"], 230)
        self.assertTrue(b64["hardware_allows"])
        self.assertAlmostEqual(b64["today_us"], 640)
        b256 = rows["MLP training, batch 256: ≥ 4× the strongest peer"]
        # 4 × 100,000: 640 µs allowed; floor 640 + 70 µs: out of reach.
        self.assertAlmostEqual(b256["floor_us"], 710)
        self.assertFalse(b256["hardware_allows"])
        eff = rows["MLP training, batch 256: ≥ 80 % of the FMA peak"]
        self.assertAlmostEqual(eff["allowed_us"], 800)  # 256 MFLOP at 80 % of 400 GFLOP/s
        self.assertTrue(eff["hardware_allows"])
        b1 = rows["MLP Predict, batch 1: ≤ 3 µs"]
        # max(0.5 MFLOP at 400 GFLOP/s = 1.25 µs, 1 MB at 500 GB/s = 2 µs) + 1 µs empty stage.
        self.assertAlmostEqual(b1["floor_us"], 3.0)
        self.assertTrue(b1["hardware_allows"])
        ort = rows["MLP Predict, batch 1: ≥ 3× ONNX Runtime"]
        self.assertAlmostEqual(ort["allowed_us"], 4.0)
        # One thread: no hand-off, the one-thread peak and bandwidth.
        one = compare.roofline("mlp", msum, limits, fma, 1)["MLP Predict, batch 1: ≤ 3 µs"]
        self.assertAlmostEqual(one["floor_us"], max(0.5e6 / 200e3, 1e6 / 250e3))
        # Products run faster than counted (Winograd): the floor uses the executed FLOPs, the efficiency target not.
        fast = compare.merge_limits([limits_run(500, 100, 30, 0.2, 1.0, {"mlp": dict(
            WORK["mlp"], train_flop_executed_per_sample=500_000, infer_flop_executed_per_sample=100_000)})])
        rows = compare.roofline("mlp", msum, fast, fma, 2)
        self.assertAlmostEqual(rows["MLP training, batch 256: ≥ 4× the strongest peer"]["floor_us"], 320 + 70)
        self.assertAlmostEqual(rows["MLP training, batch 256: ≥ 80 % of the FMA peak"]["allowed_us"], 800)
        self.assertAlmostEqual(rows["MLP Predict, batch 1: ≤ 3 µs"]["compute_us"], 0.25)
        text = "\n".join(compare.roofline_report("mlp", msum, limits, fma, 2))
        self.assertIn("NO: floor > allowed", text)
        self.assertIn("max(1.25, 2.00) + 1.00", text)
        self.assertNotIn("WARNING", text)
        # A busy machine: L3's median round far below its best, or a slow empty stage, and the table says so.
        busy = compare.merge_limits([limits_run(500, 100, 30, 0.2, 1.0, WORK)])
        busy["bandwidth"]["read_l3_8m"]["threads_2"]["median_gb_per_s"] = 30
        self.assertTrue(compare.limits_disturbed(busy, 2))
        slow = compare.merge_limits([limits_run(500, 100, 30, 0.2, 50.0, WORK)])
        self.assertTrue(compare.limits_disturbed(slow, 2))
        self.assertFalse(compare.limits_disturbed(slow, 1))
        self.assertIn("WARNING", "\n".join(compare.roofline_report("mlp", msum, busy, fma, 2)))

    def test_limits_table_lists_every_probe_and_the_work(self):
        limits = compare.merge_limits([limits_run(500, 100, 30, 0.2, 1.0, WORK)])
        fma = {"threads_1": {"peak_gflop_per_s": 200.0}, "threads_2": {"peak_gflop_per_s": 400.0}}
        text = "\n".join(compare.limits_report(limits, fma))
        for what in ("FMA peak, --fma-peak side", "512 KiB per thread (L2) (GB/s)", "500.0 (450.0)", "DRAM", "round trip",
                     "empty stage of the worker pool (2 threads)", "| MLP"):
            self.assertIn(what, text)

    def test_an_earlier_run_is_read_back_with_its_limits(self):
        with tempfile.TemporaryDirectory() as d:
            files = {"fma-1.json": {"threads_1": {"peak_gflop_per_s": 200.0, "rounds_runqueue_wait_fraction": [0]}},
                     "limits-1.json": limits_run(500, 100, 30, 0.2, 1.0, WORK),
                     "mlp-kiln-1t-1.json": run(50_000, 100_000, 4.0, 900),
                     "machine.json": {"cpu_model": "x"}}
            for name, content in files.items():
                with open(os.path.join(d, name), "w") as f:
                    json.dump(content, f)
            machine, runs, fma_runs, limits_runs, models, kiln_threads, *_ = compare.load_results(d, io.StringIO())
            self.assertEqual(len(limits_runs), 1)
            self.assertEqual(len(fma_runs), 1)
            self.assertEqual((models, kiln_threads), (["mlp"], [1]))


if __name__ == "__main__":
    unittest.main()
