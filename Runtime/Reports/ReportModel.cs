using System;
using System.Collections.Generic;
using Kiln.Doctor;
using Kiln.Training;

namespace Kiln.Reports;

/// <summary>Statistics of one layer's outputs over the probe batch.</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="Kind">Layer kind (<see cref="LayerInfo.Kind"/>).</param>
/// <param name="Count">Values measured (probe samples × layer width).</param>
/// <param name="Mean">Mean of the values.</param>
/// <param name="Std">Population standard deviation.</param>
/// <param name="Min">Smallest finite value.</param>
/// <param name="Max">Largest finite value.</param>
/// <param name="ZeroFraction">Fraction of values exactly 0 (inactive ReLU units).</param>
/// <param name="NonFinite">Values that were NaN or ±∞ (left out of everything else).</param>
/// <param name="HistogramMin">Left edge of the first histogram bin.</param>
/// <param name="HistogramMax">Right edge of the last bin.</param>
/// <param name="Histogram">Counts in equal-width bins over [HistogramMin, HistogramMax].</param>
public sealed record LayerActivationStats(
    string Layer, string Kind, int Count, double Mean, double Std, double Min, double Max, double ZeroFraction, int NonFinite,
    double HistogramMin, double HistogramMax, int[] Histogram);

/// <summary>Every probed layer's statistics at one moment of the run.</summary>
/// <param name="Label">When: "start" or "end".</param>
/// <param name="Step">The model's optimiser step count at the probe.</param>
/// <param name="Layers">In forward order.</param>
public sealed record ActivationProbe(string Label, long Step, IReadOnlyList<LayerActivationStats> Layers)
{
    /// <summary>Layers left out because a later layer computes in place in their output buffer (their own output is gone).</summary>
    public IReadOnlyList<string> OverwrittenInPlace { get; init; } = [];
}

/// <summary>Update/weight ratios ‖Δw‖/‖w‖ of one trainable tensor over the run.</summary>
/// <param name="Tensor">Tensor name, such as <c>dense0.weight</c>.</param>
/// <param name="Steps">0-based steps at which the ratio was sampled (the update made by that step).</param>
/// <param name="Ratios">The ratio at each of those steps.</param>
public sealed record UpdateRatioSeries(string Tensor, long[] Steps, double[] Ratios);

/// <summary>Everything <see cref="HtmlReport"/> draws.</summary>
public sealed record TrainingReport
{
    /// <summary>The run's summary (history, stop reason, throughput).</summary>
    public required RunSummary Summary { get; init; }
    /// <summary>Every step's loss and learning rate, in order.</summary>
    public IReadOnlyList<StepRecord> Steps { get; init; } = [];
    /// <summary>Layer-output statistics, usually at the start and at the end of the run.</summary>
    public IReadOnlyList<ActivationProbe> Activations { get; init; } = [];
    /// <summary>Sampled update/weight ratios per trainable tensor.</summary>
    public IReadOnlyList<UpdateRatioSeries> UpdateRatios { get; init; } = [];
    /// <summary>Findings to list (the training doctor's, for example).</summary>
    public IReadOnlyList<Finding> Findings { get; init; } = [];
    /// <summary>A note shown under the title (for example the command line); null for none.</summary>
    public string? Note { get; init; }
}
