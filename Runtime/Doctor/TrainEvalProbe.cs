using System;
using Kiln.Data;

namespace Kiln.Doctor;

/// <summary>
/// Compares a model's training-mode and eval-mode outputs on one fixed batch (TheDeepChecker's train/eval
/// consistency check): the mean of the training-mode outputs over several dropout draws against the eval-mode
/// output. With inverted dropout the next linear layer's expected output equals the eval-mode output; without
/// scaling it is off by the keep probability; BatchNorm adds the difference between batch and running statistics.
/// Outputs are compared as logits: eval-mode probabilities are mapped back (softmax: log p centred per sample,
/// sigmoid: log(p/(1−p))), training-mode logits are read from the output layer. Buffers are allocated once.
/// </summary>
internal sealed class TrainEvalProbe
{
    private readonly float[] _inputs;
    private readonly int[] _labels;
    private readonly int _count, _width, _draws;
    private readonly float[] _evalOutput;
    private readonly double[] _evalLogits, _trainMean, _trainSquares;
    private readonly ulong[] _noise = new ulong[4];

    public TrainEvalProbe(IKilnModel model, Dataset data, int samples, int draws, ulong seed)
    {
        Dataset probe = TrainingDoctor.Sample(data, Math.Min(samples, model.MaxBatch), seed);
        _inputs = probe.Features;
        _labels = probe.Labels;
        _count = probe.Count;
        _width = model.OutputSize;
        _draws = Math.Max(2, draws);
        _evalOutput = new float[_count * _width];
        _evalLogits = new double[_count * _width];
        _trainMean = new double[_count * _width];
        _trainSquares = new double[_count * _width];
    }

    /// <summary>
    /// The relative systematic distance √max(0, ‖mean training-mode logits − eval-mode logits‖² − dropout noise of the mean) /
    /// ‖eval-mode logits‖; NaN when the model's outputs cannot be compared.
    /// </summary>
    public double Measure(IKilnModel model)
    {
        string? output = LayerProbe.OutputLayer(model);
        if (output is null || model.Layers[^1].Kind == "dropout" || model.Loss == LossKind.BinaryCrossEntropy && _width != 1) return double.NaN;
        bool softmax = model.Loss == LossKind.SoftmaxCrossEntropy;

        model.Predict(_inputs, _evalOutput, _count);
        for (int i = 0; i < _evalOutput.Length; i++)
        {
            double p = _evalOutput[i];
            _evalLogits[i] = model.Loss switch
            {
                LossKind.SoftmaxCrossEntropy => Math.Log(Math.Max(p, 1e-30)),
                LossKind.BinaryCrossEntropy => Math.Log(Math.Clamp(p, 1e-7, 1 - 1e-7) / (1 - Math.Clamp(p, 1e-7, 1 - 1e-7))),
                _ => p,
            };
        }
        if (softmax) CentreRows(_evalLogits);

        // Training-mode draws must not change the run's dropout stream: save and restore it.
        model.GetNoiseState(_noise);
        Array.Clear(_trainMean);
        Array.Clear(_trainSquares);
        for (int d = 0; d < _draws; d++)
        {
            model.ComputeGradients(_inputs, _labels, _count);
            ReadOnlySpan<float> z = model.LayerOutput(output);
            for (int r = 0; r < _count; r++)
            {
                ReadOnlySpan<float> row = z.Slice(r * _width, _width);
                double centre = 0;
                if (softmax)
                {
                    foreach (float v in row) centre += v;
                    centre /= _width;
                }
                for (int j = 0; j < _width; j++)
                {
                    double v = row[j] - centre;
                    _trainMean[r * _width + j] += v;
                    _trainSquares[r * _width + j] += v * v;
                }
            }
        }
        model.SetNoiseState(_noise);

        // E‖mean − eval‖² = ‖bias‖² + Σ var/draws: the dropout noise of the mean is estimated from the draws and
        // taken out, so only a systematic difference between the modes remains.
        double diff = 0, noise = 0, norm = 0;
        for (int i = 0; i < _trainMean.Length; i++)
        {
            double mean = _trainMean[i] / _draws;
            double variance = Math.Max(0, (_trainSquares[i] - _draws * mean * mean) / (_draws - 1));
            double e = _evalLogits[i];
            diff += (mean - e) * (mean - e);
            noise += variance / _draws;
            norm += e * e;
        }
        return Math.Sqrt(Math.Max(0, diff - noise)) / Math.Max(Math.Sqrt(norm), 1e-6 * Math.Sqrt(_trainMean.Length));
    }

    private void CentreRows(double[] values)
    {
        for (int r = 0; r < _count; r++)
        {
            Span<double> row = values.AsSpan(r * _width, _width);
            double mean = 0;
            foreach (double v in row) mean += v;
            mean /= _width;
            for (int j = 0; j < row.Length; j++) row[j] -= mean;
        }
    }
}
