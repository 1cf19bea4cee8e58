using System;
using System.Collections.Generic;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// The update/weight ratio (docs/techniques.md#hyper-parameters, docs/techniques.md#pitfalls): ‖W_after − W_before‖ / ‖W_before‖ of one step for every Dense weight tensor,
/// measured exactly (the weights are copied, into buffers allocated at the run's start, the step before each sample),
/// so it holds for any optimiser. Healthy is about 1e-3; the geometric mean over the samples so far (at least
/// <see cref="MinimumSamples"/>, or all at the run's end) outside [1e-4, 1e-2] is reported per layer (KLN-D011 too
/// large, KLN-D012 too small). Frozen layers (learning-rate scale 0) are skipped.
/// </summary>
public sealed class UpdateRatioMonitor : DoctorMonitor
{
    private TensorInfo[] _weights = [];
    private float[][] _before = [];
    private double[] _logSum = [];
    private int[] _samples = [];
    private bool _haveBefore;

    /// <param name="every">Steps between samples (≥ 2 leaves the step in between unmeasured).</param>
    /// <param name="minimumSamples">Samples averaged before a layer is judged during the run.</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public UpdateRatioMonitor(int every = 10, int minimumSamples = 3, DoctorThresholds? thresholds = null) : base(every, thresholds)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumSamples);
        MinimumSamples = minimumSamples;
    }

    /// <inheritdoc/>
    public override string Name => "doctor/update-ratio";

    /// <summary>Samples averaged before a layer is judged during the run.</summary>
    public int MinimumSamples { get; }

    /// <summary>The geometric-mean update ratio of a weight tensor so far (NaN before its first sample).</summary>
    public double Ratio(string tensorName)
    {
        for (int i = 0; i < _weights.Length; i++)
            if (_weights[i].Name == tensorName) return _samples[i] == 0 ? double.NaN : Math.Exp(_logSum[i] / _samples[i]);
        throw new ArgumentException($"No Dense weight tensor named '{tensorName}' is monitored.", nameof(tensorName));
    }

    /// <inheritdoc/>
    protected override void Start(IKilnModel model)
    {
        var weights = new List<TensorInfo>();
        foreach (TensorInfo t in model.Tensors)
            if (t.Trainable && t.Role == TensorRole.Weight) weights.Add(t);
        _weights = [.. weights];
        _before = new float[_weights.Length][];
        for (int i = 0; i < _weights.Length; i++) _before[i] = new float[_weights[i].Length];
        _logSum = new double[_weights.Length];
        _samples = new int[_weights.Length];
        _haveBefore = false;
    }

    /// <inheritdoc/>
    protected override void BeforeSample(IKilnModel model, long index)
    {
        for (int i = 0; i < _weights.Length; i++) model.TensorData(_weights[i]).CopyTo(_before[i]);
        _haveBefore = true;
    }

    /// <inheritdoc/>
    protected override ObserverVerdict Sample(IKilnModel model, in StepRecord step, long index)
    {
        if (!_haveBefore) return ObserverVerdict.Continue;
        _haveBefore = false;
        for (int i = 0; i < _weights.Length; i++)
        {
            if (model.GetLearningRateScale(_weights[i].Layer) == 0) continue;
            ReadOnlySpan<float> after = model.TensorData(_weights[i]);
            float[] before = _before[i];
            double change = 0, size = 0;
            for (int j = 0; j < before.Length; j++)
            {
                double d = (double)after[j] - before[j];
                change += d * d;
                size += (double)before[j] * before[j];
            }
            if (size == 0 || !double.IsFinite(change) || !double.IsFinite(size)) continue;
            // A step that left the weights unchanged counts as a ratio of 1e-12 rather than breaking the log mean.
            double ratio = Math.Max(Math.Sqrt(change / size), 1e-12);
            _logSum[i] += Math.Log(ratio);
            if (++_samples[i] >= MinimumSamples) Judge(i, index);
        }
        return ObserverVerdict.Continue;
    }

    /// <inheritdoc/>
    public override void OnRunEnd(IKilnModel model, RunSummary summary)
    {
        for (int i = 0; i < _weights.Length; i++)
            if (_samples[i] > 0 && _samples[i] < MinimumSamples) Judge(i, StepsSeen - 1);
    }

    private void Judge(int i, long index)
    {
        double ratio = Math.Exp(_logSum[i] / _samples[i]);
        string code = ratio > Thresholds.MaximumUpdateRatio ? FindingCodes.UpdateRatioHigh : FindingCodes.UpdateRatioLow;
        if (!Reported(code, _weights[i].Layer)) Report(Diagnoses.UpdateRatio(_weights[i], ratio, Thresholds, index));
    }
}
