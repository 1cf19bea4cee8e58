using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using Kiln.Data;

namespace Kiln.Training;

/// <summary>Settings of <see cref="Lbfgs.Minimize"/>.</summary>
public sealed record LbfgsOptions
{
    /// <summary>Correction pairs (s, y) kept, m (&gt; 0; default 10, like <c>[Lbfgs(History = 10)]</c>).</summary>
    public int History { get; init; } = 10;

    /// <summary>Most iterations (line searches) to run (&gt; 0; default 200).</summary>
    public int MaxIterations { get; init; } = 200;

    /// <summary>Stop when the 2-norm of the full-batch gradient is at most this (≥ 0; default 1e-5).</summary>
    public double GradientTolerance { get; init; } = 1e-5;

    /// <summary>
    /// Stop when an iteration lowers the loss by at most this relative amount,
    /// (f_old − f_new)/max(|f_old|, |f_new|, 1) ≤ tolerance (≥ 0; default 1e-9). The loss is a float sum, so
    /// changes much below 1e-8 relative are rounding noise.
    /// </summary>
    public double LossTolerance { get; init; } = 1e-9;

    /// <summary>Most loss-and-gradient evaluations in one line search (&gt; 0; default 20).</summary>
    public int MaxLineSearchEvaluations { get; init; } = 20;

    /// <summary>Sufficient-decrease constant c₁ of the Wolfe conditions (0 &lt; c₁ &lt; c₂; default 1e-4).</summary>
    public double C1 { get; init; } = 1e-4;

    /// <summary>Curvature constant c₂ of the strong Wolfe conditions (c₁ &lt; c₂ &lt; 1; default 0.9).</summary>
    public double C2 { get; init; } = 0.9;

    /// <summary>
    /// Seed passed to <see cref="IKilnModel.ResetNoise"/> before every evaluation, so a model with dropout at least
    /// sees the same masks at every point (a deterministic, if different, objective). Models without noise ignore it.
    /// </summary>
    public ulong NoiseSeed { get; init; }

    /// <summary>Called after every iteration (on this thread).</summary>
    public Action<LbfgsIteration>? OnIteration { get; init; }

    /// <summary>Checked before every iteration; cancellation throws <see cref="OperationCanceledException"/> (the model keeps the last accepted parameters).</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>Why <see cref="Lbfgs.Minimize"/> stopped.</summary>
public enum LbfgsStopReason
{
    /// <summary>The gradient norm reached <see cref="LbfgsOptions.GradientTolerance"/> (converged).</summary>
    GradientTolerance,
    /// <summary>The relative loss change fell to <see cref="LbfgsOptions.LossTolerance"/> (converged).</summary>
    LossTolerance,
    /// <summary><see cref="LbfgsOptions.MaxIterations"/> iterations ran.</summary>
    MaxIterations,
    /// <summary>
    /// Converged to float precision: no step lowered the loss, and the decrease the quasi-Newton model predicts,
    /// −gᵀd, is below the resolution of the float loss (1e-6 × max(|f|, 1)), so no further progress can be measured.
    /// </summary>
    Resolution,
    /// <summary>No step along the search direction, nor along the steepest descent, lowered the loss, although a decrease was predicted.</summary>
    LineSearchFailed,
    /// <summary>The loss or gradient at the starting point is NaN or infinite.</summary>
    NonFinite,
}

/// <summary>One finished L-BFGS iteration.</summary>
/// <param name="Iteration">1-based iteration.</param>
/// <param name="Loss">Full-batch loss after the iteration.</param>
/// <param name="GradientNorm">2-norm of the full-batch gradient after the iteration.</param>
/// <param name="StepLength">The accepted step α along the search direction.</param>
/// <param name="Evaluations">Loss-and-gradient evaluations so far (each is one pass over the data).</param>
public readonly record struct LbfgsIteration(int Iteration, double Loss, double GradientNorm, double StepLength, int Evaluations);

/// <summary>The outcome of <see cref="Lbfgs.Minimize"/>; the model holds the final parameters.</summary>
/// <param name="Iterations">Iterations run (accepted steps).</param>
/// <param name="FinalLoss">Full-batch loss at the final parameters.</param>
/// <param name="GradientNorm">2-norm of the full-batch gradient at the final parameters.</param>
/// <param name="Converged">True when a tolerance was met: <see cref="LbfgsStopReason.GradientTolerance"/>, <see cref="LbfgsStopReason.LossTolerance"/> or <see cref="LbfgsStopReason.Resolution"/>.</param>
/// <param name="StopReason">Why it stopped.</param>
/// <param name="LossHistory">Full-batch loss at the start (index 0) and after every iteration.</param>
/// <param name="Evaluations">Loss-and-gradient evaluations (passes over the data).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record LbfgsResult(
    int Iterations,
    double FinalLoss,
    double GradientNorm,
    bool Converged,
    LbfgsStopReason StopReason,
    IReadOnlyList<double> LossHistory,
    int Evaluations,
    double Seconds);

/// <summary>
/// Full-batch L-BFGS (docs/techniques.md#optimisers) for any <see cref="IKilnModel"/>, including models declared with
/// <c>[Lbfgs]</c> (whose TrainStep throws).
/// </summary>
/// <remarks>
/// <para>
/// The objective is the full-batch loss f(θ) = Σ_c (n_c/N)·loss_c(θ) over the data set split into near-equal chunks
/// of at most <see cref="IKilnModel.MaxBatch"/> samples, where loss_c and its gradient come from
/// <see cref="IKilnModel.ComputeGradients(ReadOnlySpan{float}, ReadOnlySpan{int}, int)"/> (so a declared L2/L1 penalty
/// is part of it); θ is every trainable tensor of <see cref="IKilnModel.Tensors"/>, flattened in that order and kept
/// in double (always a float value, the one the model holds).
/// </para>
/// <para>
/// Each iteration takes the direction d = −H·g from the two-loop recursion over the last m pairs
/// s = θ_{k+1} − θ_k, y = g_{k+1} − g_k with initial scaling H₀ = γI, γ = sᵀy/yᵀy of the newest pair (the first
/// iteration uses d = −g with a trial step of min(1, 1/‖g‖)), then a line search for a step satisfying the strong
/// Wolfe conditions f(θ + αd) ≤ f(θ) + c₁α·gᵀd and |∇f(θ + αd)ᵀd| ≤ c₂|gᵀd| (bracketing by doubling, then zoom with
/// safeguarded cubic interpolation; if no such step is found, the lowest point meeting the first condition is
/// taken). A pair with sᵀy ≤ 1e-10 is not stored, which keeps H positive definite. If the search fails the memory
/// is cleared and steepest descent is tried once before giving up.
/// </para>
/// <para>
/// L-BFGS needs a deterministic objective (docs/techniques.md#optimisers: "turn off all sources of noise"). Dropout makes the
/// training-mode loss random (each evaluation resets the noise stream to <see cref="LbfgsOptions.NoiseSeed"/>, so it
/// is at least the same random function at every point), and BatchNorm normalises with the statistics of each chunk,
/// so the objective depends on how the data is chunked. Declare such models without dropout and preferably without
/// BatchNorm when training them with L-BFGS. An L1 penalty makes the objective non-smooth at zero, which L-BFGS
/// handles poorly. Each evaluation is one forward and backward pass over the whole data set.
/// </para>
/// </remarks>
public static class Lbfgs
{
    /// <summary>Relative resolution of the float loss below which a predicted decrease counts as unmeasurable (see <see cref="LbfgsStopReason.Resolution"/>).</summary>
    public const double ResolutionTolerance = 1e-6;

    /// <summary>Minimises the full-batch loss of <paramref name="model"/> on <paramref name="data"/>, starting from its current parameters.</summary>
    /// <exception cref="ArgumentException">Bad options, or data that does not fit the model.</exception>
    public static LbfgsResult Minimize(IKilnModel model, Dataset data, LbfgsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new LbfgsOptions();
        Validate(model, data, options);
        return new Solver(model, data, options).Run();
    }

    private static void Validate(IKilnModel model, Dataset data, LbfgsOptions o)
    {
        if (o.History <= 0) throw new ArgumentException($"History must be positive (got {o.History}).", nameof(o.History));
        if (o.MaxIterations <= 0) throw new ArgumentException($"MaxIterations must be positive (got {o.MaxIterations}).", nameof(o.MaxIterations));
        if (!(o.GradientTolerance >= 0)) throw new ArgumentException($"GradientTolerance must not be negative (got {o.GradientTolerance}).", nameof(o.GradientTolerance));
        if (!(o.LossTolerance >= 0)) throw new ArgumentException($"LossTolerance must not be negative (got {o.LossTolerance}).", nameof(o.LossTolerance));
        if (o.MaxLineSearchEvaluations <= 0)
            throw new ArgumentException($"MaxLineSearchEvaluations must be positive (got {o.MaxLineSearchEvaluations}).", nameof(o.MaxLineSearchEvaluations));
        if (!(o.C1 > 0 && o.C1 < o.C2 && o.C2 < 1))
            throw new ArgumentException($"The Wolfe constants need 0 < C1 < C2 < 1 (got C1 = {o.C1}, C2 = {o.C2}).", nameof(o.C1));
        if (data.Count == 0) throw new ArgumentException($"Data set '{data.Name}' is empty.", nameof(data));
        if (data.FeatureCount != model.InputSize)
            throw new ArgumentException(
                $"Data set '{data.Name}' has {data.FeatureCount} features per sample, but {model.ModelName} expects {model.InputSize}.", nameof(data));
        int classes = model.Loss switch
        {
            LossKind.SoftmaxCrossEntropy or LossKind.MulticlassHinge => model.OutputSize,
            LossKind.BinaryCrossEntropy => 2,
            _ => int.MaxValue,
        };
        if (model.Loss == LossKind.MeanSquaredError)
            throw new ArgumentException($"{model.ModelName} regresses float targets; Lbfgs.Minimize trains on a labelled Dataset (classification losses).", nameof(model));
        if (data.ClassCount > classes)
            throw new ArgumentException($"Data set '{data.Name}' has {data.ClassCount} classes, but {model.ModelName} can only learn {classes}.", nameof(data));
    }

    /// <summary>The state of one minimisation: flat vectors, the (s, y) ring and the evaluation counters.</summary>
    private sealed class Solver
    {
        private readonly IKilnModel _model;
        private readonly Dataset _data;
        private readonly LbfgsOptions _o;
        private readonly TensorInfo[] _trainable;
        private readonly int[] _offsets;
        private readonly int _n;
        private readonly int _chunks;

        // Current point, its gradient, the direction, a trial point and its gradient, the best sufficient-decrease point.
        private readonly double[] _x, _g, _d, _xt, _gt, _xa, _ga;
        private readonly double[][] _s, _y;
        private readonly double[] _rho, _alpha;
        private int _pairs, _newest = -1;
        private double _gamma = 1;
        private int _evaluations;

        public Solver(IKilnModel model, Dataset data, LbfgsOptions o)
        {
            _model = model;
            _data = data;
            _o = o;
            var trainable = new List<TensorInfo>();
            foreach (TensorInfo t in model.Tensors) if (t.Trainable) trainable.Add(t);
            if (trainable.Count == 0) throw new ArgumentException($"{model.ModelName} has no trainable tensors.", nameof(model));
            _trainable = trainable.ToArray();
            _offsets = new int[_trainable.Length];
            long n = 0;
            for (int i = 0; i < _trainable.Length; i++)
            {
                _offsets[i] = (int)n;
                n += _trainable[i].Length;
            }
            if (n > Array.MaxLength / 2) throw new ArgumentException($"{model.ModelName} has too many parameters for L-BFGS ({n}).", nameof(model));
            _n = (int)n;
            _chunks = (data.Count + model.MaxBatch - 1) / model.MaxBatch;
            _x = new double[_n]; _g = new double[_n]; _d = new double[_n];
            _xt = new double[_n]; _gt = new double[_n]; _xa = new double[_n]; _ga = new double[_n];
            int m = o.History;
            _s = new double[m][];
            _y = new double[m][];
            for (int i = 0; i < m; i++) { _s[i] = new double[_n]; _y[i] = new double[_n]; }
            _rho = new double[m];
            _alpha = new double[m];
        }

        public LbfgsResult Run()
        {
            long start = Stopwatch.GetTimestamp();
            ReadParameters(_x);
            double f = Evaluate(_x, _g);
            var losses = new List<double> { f };
            double gnorm = Norm(_g);
            int iterations = 0;
            LbfgsStopReason reason;

            if (!double.IsFinite(f) || !double.IsFinite(gnorm)) reason = LbfgsStopReason.NonFinite;
            else if (gnorm <= _o.GradientTolerance) reason = LbfgsStopReason.GradientTolerance;
            else
            {
                while (true)
                {
                    _o.CancellationToken.ThrowIfCancellationRequested();
                    bool steepest = _pairs == 0;
                    double dg = Direction();
                    if (!(dg < 0))
                    {
                        // Not a descent direction (rounding in a badly scaled memory): start over from steepest descent.
                        ClearMemory();
                        steepest = true;
                        dg = Direction();
                    }
                    double alpha0 = steepest ? Math.Min(1.0, 1.0 / gnorm) : 1.0;
                    double predicted = -dg;   // first-order decrease of a unit step along d: ≈ twice what the quadratic model expects
                    double resolution = ResolutionTolerance * Math.Max(Math.Abs(f), 1.0);
                    (bool ok, double alpha, double fNew) = LineSearch(f, dg, alpha0);
                    if (!ok && !steepest && predicted > resolution)
                    {
                        // A measurable decrease was predicted but not found: the memory may be stale, so try steepest descent.
                        ClearMemory();
                        dg = Direction();
                        (ok, alpha, fNew) = LineSearch(f, dg, Math.Min(1.0, 1.0 / gnorm));
                    }
                    if (!ok)
                    {
                        // The loss is a sum of floats: a decrease below its resolution cannot be seen by any line search.
                        reason = predicted <= resolution
                            ? LbfgsStopReason.Resolution
                            : LbfgsStopReason.LineSearchFailed;
                        break;
                    }

                    // _xt/_gt hold the accepted point. Store the pair when it has positive curvature.
                    double sy = 0, yy = 0;
                    for (int i = 0; i < _n; i++)
                    {
                        double si = _xt[i] - _x[i], yi = _gt[i] - _g[i];
                        sy += si * yi;
                        yy += yi * yi;
                    }
                    if (sy > 1e-10 && yy > 0)
                    {
                        // The slot after the newest is free, or holds the oldest pair, which the new one replaces.
                        _newest = (_newest + 1) % _o.History;
                        double[] s = _s[_newest], y = _y[_newest];
                        for (int i = 0; i < _n; i++)
                        {
                            s[i] = _xt[i] - _x[i];
                            y[i] = _gt[i] - _g[i];
                        }
                        _rho[_newest] = 1 / sy;
                        _pairs = Math.Min(_pairs + 1, _o.History);
                        _gamma = sy / yy;
                    }

                    double change = (f - fNew) / Math.Max(Math.Max(Math.Abs(f), Math.Abs(fNew)), 1.0);
                    Array.Copy(_xt, _x, _n);
                    Array.Copy(_gt, _g, _n);
                    f = fNew;
                    gnorm = Norm(_g);
                    iterations++;
                    losses.Add(f);
                    _o.OnIteration?.Invoke(new LbfgsIteration(iterations, f, gnorm, alpha, _evaluations));

                    if (gnorm <= _o.GradientTolerance) { reason = LbfgsStopReason.GradientTolerance; break; }
                    if (change <= _o.LossTolerance) { reason = LbfgsStopReason.LossTolerance; break; }
                    if (iterations >= _o.MaxIterations) { reason = LbfgsStopReason.MaxIterations; break; }
                }
            }

            // The model may hold a rejected trial point: leave it at the accepted one.
            WriteParameters(_x);
            bool converged = reason is LbfgsStopReason.GradientTolerance or LbfgsStopReason.LossTolerance or LbfgsStopReason.Resolution;
            return new LbfgsResult(iterations, f, gnorm, converged, reason, losses.ToArray(), _evaluations,
                (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency);
        }

        private void ClearMemory()
        {
            _pairs = 0;
            _newest = -1;
            _gamma = 1;
        }

        /// <summary>d = −H·g by the two-loop recursion (d = −g with no pairs); returns gᵀd.</summary>
        private double Direction()
        {
            double[] q = _d;
            for (int i = 0; i < _n; i++) q[i] = _g[i];
            int m = _o.History;
            for (int k = 0; k < _pairs; k++)
            {
                int j = ((_newest - k) % m + m) % m;   // newest first
                double a = _rho[j] * Dot(_s[j], q);
                _alpha[j] = a;
                double[] y = _y[j];
                for (int i = 0; i < _n; i++) q[i] -= a * y[i];
            }
            double gamma = _pairs > 0 ? _gamma : 1.0;
            for (int i = 0; i < _n; i++) q[i] *= gamma;
            for (int k = _pairs - 1; k >= 0; k--)
            {
                int j = ((_newest - k) % m + m) % m;   // oldest first
                double b = _rho[j] * Dot(_y[j], q);
                double c = _alpha[j] - b;
                double[] s = _s[j];
                for (int i = 0; i < _n; i++) q[i] += c * s[i];
            }
            for (int i = 0; i < _n; i++) q[i] = -q[i];
            return Dot(_g, q);
        }

        /// <summary>
        /// Strong Wolfe line search from the current point along _d (Nocedal &amp; Wright, algorithms 3.5 and 3.6).
        /// On success _xt/_gt hold the accepted point.
        /// </summary>
        private (bool Ok, double Alpha, double Loss) LineSearch(double f0, double dg0, double alpha)
        {
            double c1 = _o.C1, c2 = _o.C2;
            double bestLoss = double.PositiveInfinity, bestAlpha = 0;
            int budget = _o.MaxLineSearchEvaluations;
            double stepScale = 0, paramScale = 1e-6;
            for (int i = 0; i < _n; i++)
            {
                stepScale = Math.Max(stepScale, Math.Abs(_d[i]));
                paramScale = Math.Max(paramScale, Math.Abs(_x[i]));
            }

            double prevAlpha = 0, prevLoss = f0, prevSlope = dg0;
            for (int i = 0; ; i++)
            {
                if (budget-- <= 0) return Fallback();
                (double fa, double da) = Trial(alpha);
                if (!double.IsFinite(fa) || fa > f0 + c1 * alpha * dg0 || (i > 0 && fa >= prevLoss))
                    return Zoom(prevAlpha, prevLoss, prevSlope, alpha, fa, da);
                Remember(alpha, fa);
                if (Math.Abs(da) <= -c2 * dg0) return (true, alpha, fa);
                if (da >= 0) return Zoom(alpha, fa, da, prevAlpha, prevLoss, prevSlope);
                prevAlpha = alpha; prevLoss = fa; prevSlope = da;
                alpha *= 2;
            }

            (bool, double, double) Zoom(double lo, double fLo, double dLo, double hi, double fHi, double dHi)
            {
                while (true)
                {
                    if (budget-- <= 0) return Fallback();
                    double a = Interpolate(lo, fLo, dLo, hi, fHi, dHi);
                    (double fa, double da) = Trial(a);
                    if (!double.IsFinite(fa) || fa > f0 + c1 * a * dg0 || fa >= fLo)
                    {
                        hi = a; fHi = fa; dHi = da;
                    }
                    else
                    {
                        Remember(a, fa);
                        if (Math.Abs(da) <= -c2 * dg0) return (true, a, fa);
                        if (da * (hi - lo) >= 0)
                        {
                            hi = lo; fHi = fLo; dHi = dLo;
                        }
                        lo = a; fLo = fa; dLo = da;
                    }
                    // A bracket this narrow moves no parameter by more than float rounding: nothing left to find.
                    if (Math.Abs(hi - lo) * stepScale <= 1e-7 * paramScale) return Fallback();
                }
            }

            // Keep the lowest point that satisfies sufficient decrease, in case no strong Wolfe point turns up.
            void Remember(double a, double fa)
            {
                if (fa < bestLoss && fa < f0)
                {
                    bestLoss = fa;
                    bestAlpha = a;
                    Array.Copy(_xt, _xa, _n);
                    Array.Copy(_gt, _ga, _n);
                }
            }

            (bool, double, double) Fallback()
            {
                if (bestAlpha == 0) return (false, 0, f0);
                Array.Copy(_xa, _xt, _n);
                Array.Copy(_ga, _gt, _n);
                return (true, bestAlpha, bestLoss);
            }
        }

        /// <summary>Minimiser of the cubic through both end points (value and slope), kept away from the ends; bisection otherwise.</summary>
        private static double Interpolate(double a, double fa, double da, double b, double fb, double db)
        {
            double lo = Math.Min(a, b), hi = Math.Max(a, b), width = hi - lo;
            double mid = 0.5 * (a + b);
            if (!double.IsFinite(fb) || !double.IsFinite(db) || !double.IsFinite(fa) || !double.IsFinite(da)) return mid;
            double d1 = da + db - 3 * (fa - fb) / (a - b);
            double disc = d1 * d1 - da * db;
            if (disc < 0) return mid;
            double d2 = Math.Sign(b - a) * Math.Sqrt(disc);
            double denom = db - da + 2 * d2;
            if (denom == 0) return mid;
            double x = b - (b - a) * ((db + d2 - d1) / denom);
            if (!double.IsFinite(x) || x < lo + 0.1 * width || x > hi - 0.1 * width) return mid;
            return x;
        }

        /// <summary>Loss and directional derivative at x + α·d (rounded to float, as the model holds it), into _xt/_gt.</summary>
        private (double Loss, double Slope) Trial(double alpha)
        {
            for (int i = 0; i < _n; i++) _xt[i] = (float)(_x[i] + alpha * _d[i]);
            double f = Evaluate(_xt, _gt);
            return (f, Dot(_gt, _d));
        }

        /// <summary>Writes <paramref name="x"/> into the model and returns the full-batch loss, the gradient into <paramref name="g"/>.</summary>
        private double Evaluate(double[] x, double[] g)
        {
            WriteParameters(x);
            Array.Clear(g);
            _model.ResetNoise(_o.NoiseSeed);
            int count = _data.Count, features = _data.FeatureCount;
            double loss = 0;
            int start = 0;
            for (int c = 0; c < _chunks; c++)
            {
                // Near-equal chunks (sizes differ by at most one), so no chunk is tiny.
                int end = (int)((long)count * (c + 1) / _chunks);
                int rows = end - start;
                float chunkLoss = _model.ComputeGradients(
                    _data.Features.AsSpan(start * features, rows * features), _data.Labels.AsSpan(start, rows), rows);
                double w = (double)rows / count;
                loss += w * chunkLoss;
                for (int t = 0; t < _trainable.Length; t++)
                {
                    ReadOnlySpan<float> grad = _model.TensorGradient(_trainable[t]);
                    int off = _offsets[t];
                    for (int i = 0; i < grad.Length; i++) g[off + i] += w * grad[i];
                }
                start = end;
            }
            _evaluations++;
            return loss;
        }

        private void ReadParameters(double[] x)
        {
            for (int t = 0; t < _trainable.Length; t++)
            {
                ReadOnlySpan<float> p = _model.TensorData(_trainable[t]);
                int off = _offsets[t];
                for (int i = 0; i < p.Length; i++) x[off + i] = p[i];
            }
        }

        private void WriteParameters(double[] x)
        {
            for (int t = 0; t < _trainable.Length; t++)
            {
                Span<float> p = _model.TensorData(_trainable[t]);
                int off = _offsets[t];
                for (int i = 0; i < p.Length; i++) p[i] = (float)x[off + i];
            }
        }

        private static double Dot(double[] a, double[] b)
        {
            double s = 0;
            for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
            return s;
        }

        private static double Norm(double[] a) => Math.Sqrt(Dot(a, a));
    }
}
