using System;
using System.Buffers;
using System.Numerics.Tensors;
using Kiln.Data;

namespace Kiln.Augmentation;

/// <summary>
/// Test-time augmentation (docs/techniques.md#augmentation: add randomness in training, average it out at test): predicts every sample under
/// several fixed views and averages the model's outputs (probabilities for softmax and sigmoid models).
/// </summary>
/// <remarks>
/// The views are the identity and, when <c>shift</c> &gt; 0, the four corner crops of the image padded by <c>shift</c>
/// pixels of zeros (shifts (±shift, ±shift)), each also mirrored when <c>flip</c> is set: with both, the ten views of the
/// AlexNet/ResNet "10-crop" evaluation. Working buffers come from <see cref="ArrayPool{T}.Shared"/>, so repeated calls do
/// not allocate; batches larger than the model's MaxBatch run in chunks.
/// </remarks>
public static class TestTimeAugmentation
{
    /// <summary>Number of views <see cref="Predict"/> averages for these options.</summary>
    public static int ViewCount(bool flip = true, int shift = 2) => (shift > 0 ? 5 : 1) * (flip ? 2 : 1);

    /// <summary>Writes into <paramref name="outputs"/> (batch × OutputSize) the mean of the model's outputs over the views.</summary>
    /// <param name="model">Any model; <c>Predict</c> runs in eval mode.</param>
    /// <param name="inputs">batch × shape.Size features, samples C×H×W.</param>
    /// <param name="outputs">batch × model.OutputSize.</param>
    /// <param name="batch">Samples.</param>
    /// <param name="shape">Sample shape; its size must be the model's InputSize.</param>
    /// <param name="flip">Add the mirrored view of every view.</param>
    /// <param name="shift">Corner-crop shift in pixels; 0 for the identity only.</param>
    public static void Predict(IKilnModel model, ReadOnlySpan<float> inputs, Span<float> outputs, int batch, ImageShape shape, bool flip = true, int shift = 2)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(shift);
        RandomDraws.CheckShape(shape, nameof(TestTimeAugmentation));
        int f = shape.Size, k = model.OutputSize;
        if (f != model.InputSize) throw new ArgumentException($"Shape {shape} holds {f} features; {model.ModelName} takes {model.InputSize}.", nameof(shape));
        if (shift >= Math.Max(shape.Height, shape.Width))
            throw new ArgumentOutOfRangeException(nameof(shift), shift, $"A shift of {shift} pixels moves a {shape} image entirely out of view.");
        if (inputs.Length != (long)batch * f) throw new ArgumentException($"{batch} samples of {f} features need {(long)batch * f} values; the inputs hold {inputs.Length}.", nameof(inputs));
        if (outputs.Length != (long)batch * k) throw new ArgumentException($"{batch} samples of {k} outputs need {(long)batch * k} values; the outputs hold {outputs.Length}.", nameof(outputs));
        if (batch == 0) return;

        int chunk = Math.Min(batch, model.MaxBatch);
        float[] views = ArrayPool<float>.Shared.Rent(chunk * f);
        float[] predictions = ArrayPool<float>.Shared.Rent(chunk * k);
        try
        {
            ReadOnlySpan<(int Dy, int Dx)> shifts = shift > 0
                ? [(0, 0), (-shift, -shift), (-shift, shift), (shift, -shift), (shift, shift)]
                : [(0, 0)];
            int viewCount = ViewCount(flip, shift);
            for (int r0 = 0; r0 < batch; r0 += chunk)
            {
                int m = Math.Min(chunk, batch - r0);
                Span<float> mean = outputs.Slice(r0 * k, m * k);
                mean.Clear();
                foreach ((int dy, int dx) in shifts)
                    for (int mirrored = 0; mirrored < (flip ? 2 : 1); mirrored++)
                    {
                        for (int i = 0; i < m; i++)
                        {
                            Span<float> view = views.AsSpan(i * f, f);
                            ImageOps.Translate(inputs.Slice((r0 + i) * f, f), view, shape, dy, dx, 0f);
                            if (mirrored == 1) ImageOps.FlipHorizontal(view, shape);
                        }
                        Span<float> p = predictions.AsSpan(0, m * k);
                        model.Predict(views.AsSpan(0, m * f), p, m);
                        TensorPrimitives.Add(mean, p, mean);
                    }
                TensorPrimitives.Multiply(mean, 1f / viewCount, mean);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(predictions);
            ArrayPool<float>.Shared.Return(views);
        }
    }
}
