using System;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Kiln.Benchmarks;

/// <summary>
/// A short job so the whole suite stays around a minute of measurement: one launch, 3 warm-up and
/// 10 measured iterations of ~250 ms each (BenchmarkDotNet's pilot stage still picks the invocation
/// count). Enough for ±2-3 % on a quiet machine; use <c>--job default</c> on the command line for
/// the full statistics. KILN_THREADS is passed through to the benchmark process.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        Job job = Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithId("Short");
        string? threads = Environment.GetEnvironmentVariable("KILN_THREADS");
        if (!string.IsNullOrEmpty(threads))
            job = job.WithEnvironmentVariable("KILN_THREADS", threads);
        AddJob(job);
        AddColumn(new SamplesPerSecondColumn());
        AddColumn(CategoriesColumn.Default);
        WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared));
    }
}

/// <summary>Batch ÷ mean time: training throughput or prediction throughput in samples per second.</summary>
public sealed class SamplesPerSecondColumn : IColumn
{
    public string Id => nameof(SamplesPerSecondColumn);
    public string ColumnName => "Samples/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Samples processed per second: batch / mean time of one call";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        var stats = report?.ResultStatistics;
        if (stats is null || stats.Mean <= 0) return "NA";
        int batch = 1;
        foreach (var p in benchmarkCase.Parameters.Items)
            if (p.Name == "batch" && p.Value is int b) batch = b;
        double perSecond = batch / (stats.Mean * 1e-9);
        return perSecond.ToString("N0", CultureInfo.InvariantCulture);
    }
}
