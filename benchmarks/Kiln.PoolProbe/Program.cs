using System;
using System.Globalization;
using System.Threading;
using Kiln.Kernels;

// Usage: Kiln.PoolProbe [--repeat N] [--every SECONDS]
// Prints the probes of Kiln.Kernels.PoolProbe on the shared worker pool (KILN_THREADS, KILN_SPIN_US, KILN_PAUSE_US apply),
// N times (default 1), SECONDS apart (default 10): run it while two threads are slower than one, and again after.
int repeat = 1;
double every = 10;
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--repeat": repeat = int.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--every": every = double.Parse(Value(), CultureInfo.InvariantCulture); break;
        default:
            Console.Error.WriteLine($"Kiln.PoolProbe: unknown option '{args[i]}'. Usage: Kiln.PoolProbe [--repeat N] [--every SECONDS]");
            return 2;
    }
}
WorkerPool pool = WorkerPool.Shared;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"pool: {pool.Parallelism} threads, spin {pool.SpinTime.TotalMicroseconds} µs (busy for the first {pool.PauseTime.TotalMicroseconds} µs), {Environment.ProcessorCount} logical CPUs"));
for (int r = 0; r < repeat; r++)
{
    if (r > 0) Thread.Sleep(TimeSpan.FromSeconds(every));
    Console.WriteLine(DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture));
    Console.Write(PoolProbe.Report(pool));
}
return 0;
