using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Xunit;

namespace Kiln.Models.Tests;

/// <summary>
/// Issue 14 item 8: one instance used from two threads at once. The generated batch entry points (Predict, TrainStep,
/// ComputeGradients, Evaluate, EvaluateTargets) share the instance's buffers; a second concurrent call must throw an
/// InvalidOperationException that says so, and no call may ever return a wrong output. Before the guard, about 1% of
/// concurrent Predict calls returned another thread's outputs and TrainStep ∥ Predict threw a misleading BatchNorm error.
/// </summary>
public sealed class ConcurrencyTests
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(20);

    /// <summary>The shared worker pool is created by its first user: make that the test thread, not a short-lived one.</summary>
    public ConcurrencyTests() => _ = Kiln.Kernels.WorkerPool.Shared.Parallelism;

    /// <summary>Runs <paramref name="a"/> and <paramref name="b"/> in loops on two threads until both have overlapped often enough.</summary>
    private static (int InUse, long Calls) Hammer(Action a, Action b, int wantInUse = 20)
    {
        int inUse = 0;
        long calls = 0;
        Exception? unexpected = null;
        var stopwatch = Stopwatch.StartNew();
        using var start = new Barrier(2);
        void Loop(Action action)
        {
            start.SignalAndWait();
            while (Volatile.Read(ref inUse) < wantInUse && stopwatch.Elapsed < Budget && Volatile.Read(ref unexpected) is null)
            {
                try
                {
                    action();
                    Interlocked.Increment(ref calls);
                }
                catch (InvalidOperationException ex) when (ex.Message.Contains("is in use on another thread", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref inUse);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref unexpected, ex, null);
                }
            }
        }
        var first = new Thread(() => Loop(a));
        var second = new Thread(() => Loop(b));
        first.Start();
        second.Start();
        first.Join();
        second.Join();
        // The threads and the exceptions leave finalizable objects: finish them here, not during a later test
        // that counts the process's allocations (AllocationTests).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (unexpected is not null) throw new Xunit.Sdk.XunitException("A concurrent call failed with something other than the in-use error: " + unexpected);
        return (inUse, calls);
    }

    [Fact]
    public void Concurrent_Predict_on_one_instance_throws_and_never_returns_a_wrong_output()
    {
        var model = new BnReluDropoutNet(IsaPath.Portable);
        var random = new Random(5);
        float[] x1 = Enumerable.Range(0, 19).Select(_ => (float)random.NextDouble()).ToArray();
        float[] x2 = Enumerable.Range(0, 19).Select(_ => (float)random.NextDouble() - 1f).ToArray();
        float[] expected1 = new float[5], expected2 = new float[5];
        model.Predict(x1, expected1, 1);
        model.Predict(x2, expected2, 1);
        Assert.NotEqual(expected1, expected2);

        int wrong = 0;
        Action Caller(float[] x, float[] expected) => () =>
        {
            float[] y = new float[5];
            model.Predict(x, y, 1);
            if (!y.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref wrong);
        };
        (int inUse, long calls) = Hammer(Caller(x1, expected1), Caller(x2, expected2));

        Assert.Equal(0, wrong);
        Assert.True(inUse > 0, $"the two threads never overlapped in {calls} calls");
        Assert.True(calls > 0);
        // The instance is usable afterwards: the flag was released by every call, also the ones that threw.
        float[] after = new float[5];
        model.Predict(x1, after, 1);
        Assert.Equal(expected1, after);
    }

    [Fact]
    public void TrainStep_concurrent_with_Predict_or_Evaluate_throws_the_in_use_error()
    {
        var model = new BnReluDropoutNet(IsaPath.Portable);
        var random = new Random(6);
        float[] x = Enumerable.Range(0, 19 * 8).Select(_ => (float)random.NextDouble()).ToArray();
        int[] labels = Enumerable.Range(0, 8).Select(i => i % 5).ToArray();
        float[] y = new float[5 * 8];
        (int inUse, long calls) = Hammer(() => model.TrainStep(x, labels, 8), () =>
        {
            model.Predict(x, y, 8);
            model.Evaluate(x, labels, 8);
        });
        Assert.True(inUse > 0, $"the two threads never overlapped in {calls} calls");
        Assert.True(float.IsFinite(model.TrainStep(x, labels, 8)));
    }

    [Fact]
    public void Sequential_calls_from_different_threads_are_fine()
    {
        var model = new ReluNet(IsaPath.Portable);
        float[] x = new float[19], y = new float[5];
        for (int i = 0; i < 4; i++)
        {
            var thread = new Thread(() => model.Predict(x, y, 1));
            thread.Start();
            thread.Join();
        }
        model.TrainStep(x, new[] { 1 }, 1);
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
}
