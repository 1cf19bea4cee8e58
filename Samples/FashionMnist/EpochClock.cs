using System;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using Kiln;
using Kiln.Data;
using Kiln.Training;

namespace Kiln.Samples.FashionMnist;

/// <summary>
/// Per-epoch CPU time of the training loop (everything from the end of the previous epoch's evaluation to the
/// epoch's last step): the training thread's own CPU seconds and the whole process's. The clocks are read only at
/// those two points (the last step is known from the batches per epoch): reading CPU clocks every step costs a
/// system call per step, which on a loaded machine visibly slowed the loop it measures. On a machine shared with
/// other work, wall time counts the time this process waited for a CPU; CPU seconds do not, so the ratio of the
/// first epoch to the later ones stays readable there. The JIT's compilation time and method count over the same
/// interval (<see cref="JitInfo"/>) show how much of a first epoch is compilation. Enabled by <c>KILN_EPOCH_CPU=1</c>;
/// prints one line per epoch to standard error (Samples/measure-epochs.sh reads them).
/// </summary>
internal sealed class EpochClock : ITrainingObserver
{
    /// <summary>The environment variable that turns the lines on.</summary>
    public const string EnvironmentVariable = "KILN_EPOCH_CPU";

    private const int ClockProcessCpu = 2, ClockThreadCpu = 3;
    private long _wall0, _wallLast;
    private double _thread0, _threadLast, _process0, _processLast;
    private TimeSpan _jit0, _jitThread0, _jitLast, _jitThreadLast;
    private long _methods0, _methodsLast;
    private readonly int _batchesPerEpoch;
    private int _stepInEpoch;

    private EpochClock(int batchesPerEpoch) => _batchesPerEpoch = batchesPerEpoch;

    public string Name => "epoch clock";

    /// <summary>The observer when <see cref="EnvironmentVariable"/> is 1, else null.</summary>
    /// <param name="train">The training set.</param>
    /// <param name="batch">The batch size; with the trainer's default last-batch rule they give the batches per epoch, after the last of which the clocks are read.</param>
    public static EpochClock? FromEnvironment(Dataset train, int batch) =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) == "1" && OperatingSystem.IsLinux()
            ? new EpochClock(new Batcher(train, batch, minLastBatch: new TrainerOptions().MinLastBatch).BatchesPerEpoch)
            : null;

    public void OnRunStart(IKilnModel model, TrainerOptions options) => Mark();

    public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
    {
        // Every step until the epoch's last (cheap, no system call), so a run stopped mid-epoch still has an end.
        _wallLast = Stopwatch.GetTimestamp();
        if (++_stepInEpoch < _batchesPerEpoch) return ObserverVerdict.Continue;
        _threadLast = Cpu(ClockThreadCpu);
        _processLast = Cpu(ClockProcessCpu);
        _jitLast = JitInfo.GetCompilationTime();
        _jitThreadLast = JitInfo.GetCompilationTime(currentThread: true);
        _methodsLast = JitInfo.GetCompiledMethodCount();
        return ObserverVerdict.Continue;
    }

    public ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
    {
        double wall = (_wallLast - _wall0) / (double)Stopwatch.Frequency;
        double thread = _threadLast - _thread0, process = _processLast - _process0;
        TimeSpan jit = _jitLast - _jit0, jitThread = _jitThreadLast - _jitThread0;
        long methods = _methodsLast - _methods0;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch-cpu epoch={metrics.Epoch} samples={metrics.Samples} loop_wall_s={wall:F4} thread_cpu_s={thread:F4} process_cpu_s={process:F4} " +
            $"steps_s={metrics.TrainSeconds:F4} samples_per_thread_cpu_s={metrics.Samples / thread:F0} samples_per_loop_wall_s={metrics.Samples / wall:F0} " +
            $"jit_s={jit.TotalSeconds:F4} jit_thread_s={jitThread.TotalSeconds:F4} jit_methods={methods}"));
        Mark();
        return ObserverVerdict.Continue;
    }

    private void Mark()
    {
        _stepInEpoch = 0;
        _wall0 = _wallLast = Stopwatch.GetTimestamp();
        _thread0 = _threadLast = Cpu(ClockThreadCpu);
        _process0 = _processLast = Cpu(ClockProcessCpu);
        _jit0 = _jitLast = JitInfo.GetCompilationTime();
        _jitThread0 = _jitThreadLast = JitInfo.GetCompilationTime(currentThread: true);
        _methods0 = _methodsLast = JitInfo.GetCompiledMethodCount();
    }

    private static double Cpu(int clock) => ClockGetTime(clock, out TimeSpec t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
