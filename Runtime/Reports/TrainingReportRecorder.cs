using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kiln.Doctor;
using Kiln.Training;

namespace Kiln.Reports;

/// <summary>
/// An observer that collects what <see cref="HtmlReport"/> draws: every step's loss and learning rate, the
/// update/weight ratio of every trainable tensor every K steps, and per-layer output statistics of a fixed probe
/// batch at the start and at the end of the run. Buffers are allocated in the constructor and in
/// <see cref="OnRunStart"/>; the per-step work copies and sums floats and allocates nothing.
/// </summary>
/// <remarks>
/// The ratio sampled at step s is ‖w_s − w_{s−1}‖/‖w_s‖ over one tensor (w_s after step s), for every s that is a
/// positive multiple of K: after step s−1 the trainable tensors are copied (one copy every K steps), after step s
/// the norms are taken. docs/techniques.md#hyper-parameters: about 1e-3 is healthy. The probes run the model's training-mode
/// <see cref="IKilnModel.ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/> (no update, running
/// statistics untouched) and put the dropout stream back, so recording does not change the run.
/// </remarks>
public sealed class TrainingReportRecorder : ITrainingObserver
{
    /// <summary>Histogram bins per layer.</summary>
    public const int HistogramBins = 30;

    private readonly float[] _probeInputs;
    private readonly int[] _probeLabels;
    private readonly int _probeCount;
    private readonly StepRecord[] _steps;
    private readonly int _ratioEvery;
    private long _stepCount;
    private TensorInfo[] _trainable = [];
    private float[][] _previous = [];
    private bool _hasPrevious;
    private long[] _ratioSteps = [];
    private double[] _ratios = [];   // sample-major: [sample × tensor]
    private int _ratioSamples;
    private readonly List<ActivationProbe> _activations = [];

    /// <param name="probeInputs">Probe samples (count × model.InputSize), copied.</param>
    /// <param name="probeLabels">Their labels (count), copied.</param>
    /// <param name="stepCapacity">Most steps recorded (the run's epochs × batches per epoch); later steps are not recorded.</param>
    /// <param name="updateRatioEvery">K, steps between update/weight ratio samples; 0 records none.</param>
    public TrainingReportRecorder(ReadOnlySpan<float> probeInputs, ReadOnlySpan<int> probeLabels, long stepCapacity, int updateRatioEvery)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepCapacity);
        ArgumentOutOfRangeException.ThrowIfNegative(updateRatioEvery);
        if (stepCapacity > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(stepCapacity), stepCapacity, "Too many steps to record.");
        _probeInputs = probeInputs.ToArray();
        _probeLabels = probeLabels.ToArray();
        _probeCount = probeLabels.Length;
        if (_probeCount > 0 && _probeInputs.Length % _probeCount != 0)
            throw new ArgumentException($"{_probeInputs.Length} probe input values do not split into {_probeCount} samples.", nameof(probeInputs));
        _steps = new StepRecord[stepCapacity];
        _ratioEvery = updateRatioEvery;
    }

    /// <inheritdoc/>
    public string Name => "report recorder";

    /// <summary>The recorded steps.</summary>
    public ReadOnlySpan<StepRecord> Steps => _steps.AsSpan(0, (int)Math.Min(_stepCount, _steps.Length));

    /// <summary>The probes taken so far.</summary>
    public IReadOnlyList<ActivationProbe> Activations => _activations;

    /// <summary>The run summary given to <see cref="OnRunEnd"/>; null before.</summary>
    public RunSummary? Summary { get; private set; }

    /// <inheritdoc/>
    public void OnRunStart(IKilnModel model, TrainerOptions options)
    {
        var trainable = new List<TensorInfo>();
        foreach (TensorInfo t in model.Tensors) if (t.Trainable) trainable.Add(t);
        _trainable = trainable.ToArray();
        if (_ratioEvery > 0)
        {
            _previous = new float[_trainable.Length][];
            for (int i = 0; i < _trainable.Length; i++) _previous[i] = new float[model.TensorData(_trainable[i]).Length];
            int samples = (int)Math.Min(_steps.Length / _ratioEvery + 1, Array.MaxLength / Math.Max(1, _trainable.Length));
            _ratioSteps = new long[samples];
            _ratios = new double[(long)samples * _trainable.Length];
        }
        Probe(model, "start");
    }

    /// <inheritdoc/>
    public ObserverVerdict OnStep(IKilnModel model, in StepRecord step)
    {
        if (_stepCount < _steps.Length) _steps[_stepCount] = step;
        _stepCount++;
        if (_ratioEvery > 0)
        {
            if (_hasPrevious && step.Step % _ratioEvery == 0 && _ratioSamples < _ratioSteps.Length) SampleRatios(model, step.Step);
            _hasPrevious = false;
            if ((step.Step + 1) % _ratioEvery == 0)
            {
                for (int i = 0; i < _trainable.Length; i++) model.TensorData(_trainable[i]).CopyTo(_previous[i]);
                _hasPrevious = true;
            }
        }
        return ObserverVerdict.Continue;
    }

    /// <inheritdoc/>
    public void OnRunEnd(IKilnModel model, RunSummary summary)
    {
        Summary = summary;
        // After early stopping or a divergence the model no longer holds the last step's state: say which one is probed.
        Probe(model, summary.RestoredState is { } restored ? "end, " + restored : "end");
    }

    /// <summary>The update/weight ratio series, one per trainable tensor.</summary>
    public IReadOnlyList<UpdateRatioSeries> UpdateRatios()
    {
        var series = new List<UpdateRatioSeries>(_trainable.Length);
        for (int t = 0; t < _trainable.Length; t++)
        {
            var ratios = new double[_ratioSamples];
            for (int s = 0; s < _ratioSamples; s++) ratios[s] = _ratios[(long)s * _trainable.Length + t];
            series.Add(new UpdateRatioSeries(_trainable[t].Name, _ratioSteps.AsSpan(0, _ratioSamples).ToArray(), ratios));
        }
        return series;
    }

    /// <summary>Everything recorded, as a report (call after the run).</summary>
    /// <exception cref="InvalidOperationException">The run has not ended yet.</exception>
    public TrainingReport BuildReport(IReadOnlyList<Finding>? findings = null, string? note = null) => new()
    {
        Summary = Summary ?? throw new InvalidOperationException("The run has not ended: the report needs its summary."),
        Steps = Steps.ToArray(),
        Activations = _activations.ToArray(),
        UpdateRatios = UpdateRatios(),
        Findings = findings ?? [],
        Note = note,
    };

    private void SampleRatios(IKilnModel model, long step)
    {
        int row = _ratioSamples++;
        _ratioSteps[row] = step;
        for (int i = 0; i < _trainable.Length; i++)
        {
            ReadOnlySpan<float> now = model.TensorData(_trainable[i]);
            ReadOnlySpan<float> before = _previous[i];
            double diff = 0, norm = 0;
            for (int k = 0; k < now.Length; k++)
            {
                double d = (double)now[k] - before[k];
                diff += d * d;
                norm += (double)now[k] * now[k];
            }
            _ratios[(long)row * _trainable.Length + i] = norm > 0 ? Math.Sqrt(diff / norm) : double.NaN;
        }
    }

    private void Probe(IKilnModel model, string label)
    {
        if (_probeCount == 0 || model.Layers.Count == 0) return;
        try
        {
            _activations.Add(ActivationProbes.Measure(model, _probeInputs, _probeLabels, _probeCount, label));
        }
        catch (NotSupportedException)
        {
            // A model that lists layers but keeps no outputs (a hand-written one): the report goes without probes.
        }
    }
}

/// <summary>Per-layer output statistics of a batch (docs/techniques.md#gradient-checking: collapse or saturation shows in them).</summary>
public static class ActivationProbes
{
    /// <summary>
    /// Runs <see cref="IKilnModel.ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/> on the batch (training
    /// mode; no update; running statistics untouched; the dropout stream is put back afterwards) and measures
    /// <see cref="IKilnModel.LayerOutput"/> of every layer except dropout masks and flatten copies. A layer whose output
    /// buffer is the same memory as a later layer's (computed in place, such as BatchNorm fused with the following ReLU)
    /// no longer holds its own output; it is listed in <see cref="ActivationProbe.OverwrittenInPlace"/> instead. The probe
    /// overwrites the model's gradients and layer outputs.
    /// </summary>
    public static ActivationProbe Measure(IKilnModel model, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count, string label)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (count < 1 || count > model.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"The probe batch must hold 1..{model.MaxBatch} samples ({model.ModelName}'s MaxBatch).");
        if (inputs.Length < count * model.InputSize || labels.Length < count)
            throw new ArgumentException($"The probe batch needs {count} × {model.InputSize} inputs and {count} labels.", nameof(inputs));
        Span<ulong> noise = stackalloc ulong[4];
        model.GetNoiseState(noise);
        model.ComputeGradients(inputs.Slice(0, count * model.InputSize), labels.Slice(0, count), count);
        model.SetNoiseState(noise);

        var layers = new List<LayerActivationStats>();
        var overwritten = new List<string>();
        IReadOnlyList<LayerInfo> all = model.Layers;
        for (int i = 0; i < all.Count; i++)
        {
            LayerInfo layer = all[i];
            if (!Measured(layer)) continue;
            // A layer computed in place by a later one (BatchNorm fused with its ReLU) no longer holds its own output:
            // its buffer shows the later layer's, so it is listed instead of drawn twice.
            ref readonly float start = ref MemoryMarshal.GetReference(model.LayerOutput(layer.Name));
            bool shared = false;
            for (int j = i + 1; j < all.Count && !shared; j++)
                shared = Measured(all[j]) && Unsafe.AreSame(in start, in MemoryMarshal.GetReference(model.LayerOutput(all[j].Name)));
            if (shared)
            {
                overwritten.Add(layer.Name);
                continue;
            }
            int width = 1;
            foreach (int d in layer.OutputShape) width *= d;
            ReadOnlySpan<float> output = model.LayerOutput(layer.Name);
            layers.Add(Describe(layer.Name, layer.Kind, output.Slice(0, Math.Min(output.Length, count * width))));
        }
        return new ActivationProbe(label, model.Step, layers) { OverwrittenInPlace = overwritten };

        static bool Measured(LayerInfo layer) => layer.Kind is not ("dropout" or "flatten");
    }

    /// <summary>Mean, standard deviation, range, zero fraction and a <see cref="TrainingReportRecorder.HistogramBins"/>-bin histogram of <paramref name="values"/>.</summary>
    public static LayerActivationStats Describe(string layer, string kind, ReadOnlySpan<float> values)
    {
        double sum = 0, sumSq = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        int n = 0, zeros = 0, nonFinite = 0;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) { nonFinite++; continue; }
            n++;
            sum += v;
            sumSq += (double)v * v;
            if (v < min) min = v;
            if (v > max) max = v;
            if (v == 0f) zeros++;
        }
        var bins = new int[TrainingReportRecorder.HistogramBins];
        if (n == 0) return new LayerActivationStats(layer, kind, 0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, nonFinite, 0, 1, bins);
        double mean = sum / n;
        double std = Math.Sqrt(Math.Max(0, sumSq / n - mean * mean));
        double lo = min, hi = max;
        if (hi - lo < 1e-12 * Math.Max(1, Math.Abs(lo))) { lo -= 0.5; hi += 0.5; }
        double scale = bins.Length / (hi - lo);
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            int b = (int)((v - lo) * scale);
            bins[Math.Clamp(b, 0, bins.Length - 1)]++;
        }
        return new LayerActivationStats(layer, kind, n, mean, std, min, max, (double)zeros / n, nonFinite, lo, hi, bins);
    }
}
