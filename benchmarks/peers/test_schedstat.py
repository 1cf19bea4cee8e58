#!/usr/bin/python3
"""Checks of the run-queue wait fraction (schedstat.py) on made-up readings and on this process:
    /usr/bin/python3 -m unittest benchmarks/peers/test_schedstat.py
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schedstat  # noqa: E402


class WaitFraction(unittest.TestCase):
    def test_parse_reads_run_and_wait(self):
        self.assertEqual(schedstat.parse("123456 7890 42\n"), (123456, 7890))
        self.assertEqual(schedstat.parse(""), (0, 0))
        self.assertEqual(schedstat.parse("garbage"), (0, 0))

    def test_share_of_runnable_time(self):
        # Three threads always runnable on two cores for 1 s: 2 s run, 1 s wait -> one third, not 1 / 2 threads = 0.5.
        self.assertAlmostEqual(schedstat.wait_fraction((0, 0), (2_000_000_000, 1_000_000_000)), 1 / 3)
        # More runnable threads than a thread count would say can never push it past 1.
        self.assertLessEqual(schedstat.wait_fraction((5, 5), (6, 1_000_000_005)), 1.0)
        self.assertEqual(schedstat.wait_fraction((10, 3), (20, 3)), 0.0)

    def test_nothing_ran_or_a_thread_vanished(self):
        self.assertIsNone(schedstat.wait_fraction((10, 3), (10, 3)))
        self.assertIsNone(schedstat.wait_fraction((10, 30), (20, 3)))

    @unittest.skipUnless(os.path.exists("/proc/self/task"), "needs Linux /proc")
    def test_this_process_reads_sensibly(self):
        before = schedstat.read_totals()
        x = 0
        for i in range(300_000):
            x += i * i
        after = schedstat.read_totals()
        self.assertGreater(after[0], before[0])
        f = schedstat.wait_fraction(before, after)
        self.assertTrue(f is not None and 0.0 <= f <= 1.0, f)


if __name__ == "__main__":
    unittest.main()
