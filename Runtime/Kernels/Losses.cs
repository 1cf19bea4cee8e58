using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels;

/// <summary>
/// Output losses. Every loss returns the SUM over rows of the per-sample loss (accumulated in double;
/// the caller divides by rows) and, when grad is not empty, writes dL/dz multiplied by gradScale (the
/// caller passes 1/rows). grad may alias the logits/outputs: each row's inputs are read before any of
/// its gradients are written.
/// </summary>
public static partial class Losses
{
    /// <summary>Per sample −log softmax(z)_y via log-sum-exp; grad = (softmax − onehot)·gradScale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> grad, int rows, int classes, float gradScale)
    {
        CheckShape(logits.Length, grad.Length, rows, classes, nameof(logits), nameof(classes));
        Checks.Length(labels.Length, rows, nameof(labels));
        bool wantGrad = !grad.IsEmpty;
        Span<float> scratch = wantGrad || classes > ScratchLength ? default : stackalloc float[classes];
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes) ThrowLabel(r, label, classes);
            int o = r * classes;
            ReadOnlySpan<float> z = logits.Slice(o, classes);
            float zy = z[label];
            float max = Elementwise.RowMax(z);
            double sum;
            if (wantGrad)
            {
                Span<float> g = grad.Slice(o, classes);
                sum = Elementwise.ExpShifted(z, max, g);
                float k = (float)(gradScale / sum);
                for (int j = 0; j < classes; j++) g[j] *= k;
                g[label] -= gradScale;
            }
            else
            {
                sum = ExpSum(z, max, scratch);
            }
            total += Math.Log(sum) + ((double)max - zy);
        }
        return (float)total;
    }

    /// <summary>Soft targets t (rows×classes, each row sums to 1): −Σ t·log softmax(z); grad = (softmax − t)·gradScale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> grad, int rows, int classes, float gradScale)
    {
        CheckShape(logits.Length, grad.Length, rows, classes, nameof(logits), nameof(classes));
        Checks.Length(targets.Length, (long)rows * classes, nameof(targets));
        bool wantGrad = !grad.IsEmpty;
        Span<float> scratch = wantGrad || classes > ScratchLength ? default : stackalloc float[classes];
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int o = r * classes;
            ReadOnlySpan<float> z = logits.Slice(o, classes);
            ReadOnlySpan<float> t = targets.Slice(o, classes);
            float max = Elementwise.RowMax(z);
            // −Σ t_j (z_j − lse) = Σt·lse − Σ t_j z_j, with z_j − max kept small.
            double st = 0, stz = 0, sum;
            for (int j = 0; j < classes; j++)
            {
                st += t[j];
                stz += (double)t[j] * ((double)z[j] - max);
            }
            if (wantGrad)
            {
                Span<float> g = grad.Slice(o, classes);
                sum = Elementwise.ExpShifted(z, max, g);
                float inv = (float)(1.0 / sum);
                for (int j = 0; j < classes; j++) g[j] = (g[j] * inv - t[j]) * gradScale;
            }
            else
            {
                sum = ExpSum(z, max, scratch);
            }
            total += st * Math.Log(sum) - stz;
        }
        return (float)total;
    }

    /// <summary>Σ_{j≠y} max(0, s_j − s_y + margin); subgradient (0 at the hinge point).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float MulticlassHinge(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, Span<float> grad, int rows, int classes, float margin, float gradScale)
    {
        CheckShape(scores.Length, grad.Length, rows, classes, nameof(scores), nameof(classes));
        Checks.Length(labels.Length, rows, nameof(labels));
        bool wantGrad = !grad.IsEmpty;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes) ThrowLabel(r, label, classes);
            int o = r * classes;
            ReadOnlySpan<float> s = scores.Slice(o, classes);
            double sy = s[label];
            int active = 0;
            for (int j = 0; j < classes; j++)
            {
                if (j == label) continue;
                double d = s[j] - sy + margin;
                bool on = d > 0;
                if (on)
                {
                    total += d;
                    active++;
                }
                if (wantGrad) grad[o + j] = on ? gradScale : 0f;
            }
            if (wantGrad) grad[o + label] = -active * gradScale;
        }
        return (float)total;
    }

    /// <summary>Σ_j [max(z,0) − z·t + log(1+e^−|z|)] per sample; grad = (σ(z) − t)·gradScale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> grad, int rows, int outputs, float gradScale)
    {
        CheckShape(logits.Length, grad.Length, rows, outputs, nameof(logits), nameof(outputs));
        long size = (long)rows * outputs;
        Checks.Length(targets.Length, size, nameof(targets));
        bool wantGrad = !grad.IsEmpty;
        double total = 0;
        for (int i = 0; i < size; i++)
        {
            float z = logits[i], t = targets[i];
            total += BceTerm(z, t);
            if (wantGrad) grad[i] = (VectorMath.Sigmoid(z) - t) * gradScale;
        }
        return (float)total;
    }

    /// <summary>Same with integer labels 0/1 (outputs must be 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> grad, int rows, float gradScale)
    {
        CheckShape(logits.Length, grad.Length, rows, 1, nameof(logits), "outputs");
        Checks.Length(labels.Length, rows, nameof(labels));
        bool wantGrad = !grad.IsEmpty;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label > 1u) ThrowLabel(r, label, 2);
            float z = logits[r], t = label;
            total += BceTerm(z, t);
            if (wantGrad) grad[r] = (VectorMath.Sigmoid(z) - t) * gradScale;
        }
        return (float)total;
    }

    /// <summary>(1/outputs)·Σ_j (y − t)² per sample; grad = 2(y − t)/outputs·gradScale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float MeanSquaredError(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, Span<float> grad, int rows, int width, float gradScale)
    {
        CheckShape(outputs.Length, grad.Length, rows, width, nameof(outputs), nameof(width));
        Checks.Length(targets.Length, (long)rows * width, nameof(targets));
        bool wantGrad = !grad.IsEmpty;
        double total = 0;
        float gk = 2f / width * gradScale;
        for (int r = 0; r < rows; r++)
        {
            int o = r * width;
            double row = 0;
            for (int j = 0; j < width; j++)
            {
                float d = outputs[o + j] - targets[o + j];
                row += (double)d * d;
                if (wantGrad) grad[o + j] = d * gk;
            }
            total += row / width;
        }
        return (float)total;
    }

    /// <summary>Row-wise softmax probabilities.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probs, int rows, int classes) =>
        Elementwise.SoftmaxForward(logits, probs, rows, classes);

    /// <summary>Element-wise logistic sigmoid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sigmoid(ReadOnlySpan<float> logits, Span<float> probs)
    {
        Checks.Length(probs.Length, logits.Length, nameof(probs));
        for (int i = 0; i < logits.Length; i++) probs[i] = VectorMath.Sigmoid(logits[i]);
    }

    /// <summary>max(z,0) − z·t + log(1 + e^−|z|), in double (log1p form for small e^−|z|).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double BceTerm(float z, float t)
    {
        double zd = z;
        double e = Math.Exp(-Math.Abs(zd));
        double log1p = e < 1e-5 ? e * (1 - 0.5 * e) : Math.Log(1 + e);
        return Math.Max(zd, 0) - zd * t + log1p;
    }

    private const int ScratchLength = 512;

    /// <summary>Σ exp(z − shift) in double, through a stack scratch row when it fits (the exps are not kept).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double ExpSum(ReadOnlySpan<float> z, float shift, Span<float> scratch)
    {
        if (!scratch.IsEmpty) return Elementwise.ExpShifted(z, shift, scratch);
        double sum = 0;
        for (int j = 0; j < z.Length; j++) sum += MathF.Exp(z[j] - shift);
        return sum;
    }

    private static void CheckShape(int inputLength, int gradLength, int rows, int width, string inputName, string widthName)
    {
        Checks.NonNegative(rows, nameof(rows));
        if (width < 1) throw new ArgumentOutOfRangeException(widthName, width, "A loss needs at least one output per sample.");
        long size = (long)rows * width;
        Checks.Length(inputLength, size, inputName);
        Checks.Optional(gradLength, size, "grad");
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLabel(int row, int label, int classes) =>
        throw new ArgumentOutOfRangeException("labels", label, $"Label {label} at row {row} is outside [0, {classes}).");
}
