// CONTRACT FILE — signatures and semantics the generated code calls. The kernels helper replaces
// these stubs with real implementations spread over files in Runtime/Kernels/ and deletes this file.
// Conventions: every matrix is row-major and contiguous; "rows" is the batch dimension.
using System;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>An element-wise activation f with its derivative, for every vector width.</summary>
public interface IActivation
{
    float Forward(float u);
    Vector128<float> Forward(Vector128<float> u);
    Vector256<float> Forward(Vector256<float> u);
    Vector512<float> Forward(Vector512<float> u);
    /// <summary>f'(u), given u and a = f(u).</summary>
    float Derivative(float u, float a);
    Vector128<float> Derivative(Vector128<float> u, Vector128<float> a);
    Vector256<float> Derivative(Vector256<float> u, Vector256<float> a);
    Vector512<float> Derivative(Vector512<float> u, Vector512<float> a);
}
// Implementations (readonly structs in Kiln.Kernels): Identity, Relu, LeakyRelu(float alpha), Elu(float alpha),
// Selu, Swish(float beta), Gelu (exact erf form), Sigmoid, Tanh.

/// <summary>Applied to each output tile of <see cref="Gemm.Forward"/> before it is stored.</summary>
public interface IEpilogue
{
    /// <summary><paramref name="col"/> is the output column of the first lane.</summary>
    float Apply(float acc, int col);
    Vector128<float> Apply(Vector128<float> acc, int col);
    Vector256<float> Apply(Vector256<float> acc, int col);
    Vector512<float> Apply(Vector512<float> acc, int col);
}
// Implementations: NoEpilogue; ref struct BiasEpilogue(ReadOnlySpan<float> bias);
// ref struct BiasActivationEpilogue<TAct>(ReadOnlySpan<float> bias /* empty = no bias */, TAct act).

/// <summary>Told when a panel of weight-gradient rows is complete, so the optimiser can update those rows while hot.</summary>
public interface IPanelSink
{
    void PanelDone(int rowStart, int rowCount);
}
// Implementations: NoPanelSink; ref struct UpdatePanelSink<TIsa>(Span<float> w, ReadOnlySpan<float> g,
// Span<float> s1, Span<float> s2, int rowWidth, in OptimizerStep step) → step.Apply<TIsa>(rows of w,g,s1,s2).

public static partial class Gemm
{
    /// <summary>y[r,j] = epi(Σ_i x[r,i]·w[i,j], j); x: rows×k, w: k×n, y: rows×n.</summary>
    public static void Forward<TIsa, TEpi>(ReadOnlySpan<float> x, ReadOnlySpan<float> w, Span<float> y, int rows, int k, int n, in TEpi epi)
        where TIsa : struct, ISimdPath where TEpi : IEpilogue, allows ref struct => throw new NotImplementedException();

    /// <summary>dx[r,i] = Σ_j dy[r,j]·w[i,j]; dy: rows×n, w: k×n, dx: rows×k (overwritten).</summary>
    public static void BackwardInput<TIsa>(ReadOnlySpan<float> dy, ReadOnlySpan<float> w, Span<float> dx, int rows, int k, int n)
        where TIsa : struct, ISimdPath => throw new NotImplementedException();

    /// <summary>
    /// For i in [kStart, kEnd): dw[i,j] = Σ_r x[r,i]·dy[r,j] (dw is the whole k×n gradient; those rows are
    /// overwritten). After each completed panel of rows calls sink.PanelDone(firstRow, rowCount).
    /// </summary>
    public static void BackwardWeights<TIsa, TSink>(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dw, int rows, int k, int n, int kStart, int kEnd, ref TSink sink)
        where TIsa : struct, ISimdPath where TSink : IPanelSink, allows ref struct => throw new NotImplementedException();

    /// <summary>sums[j] = Σ_r m[r,j] for j in [c0, c1) (bias gradients); m: rows×cols.</summary>
    public static void ColumnSums<TIsa>(ReadOnlySpan<float> m, Span<float> sums, int rows, int cols, int c0, int c1)
        where TIsa : struct, ISimdPath => throw new NotImplementedException();
}

public static partial class Elementwise
{
    /// <summary>y[i] = f(u[i])·mask[i] (mask empty = 1).</summary>
    public static void ActivationForward<TIsa, TAct>(ReadOnlySpan<float> u, ReadOnlySpan<float> mask, Span<float> y, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation => throw new NotImplementedException();

    /// <summary>du[i] = dy[i]·mask[i]·f'(u[i], f(u[i])) (mask empty = 1). du may alias dy.</summary>
    public static void ActivationBackward<TIsa, TAct>(ReadOnlySpan<float> u, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> du, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation => throw new NotImplementedException();

    /// <summary>y[i] = x[i]·s. y may alias x.</summary>
    public static void Scale<TIsa>(ReadOnlySpan<float> x, float s, Span<float> y) where TIsa : struct, ISimdPath => throw new NotImplementedException();

    /// <summary>y[i] = x[i]·m[i]. y may alias x.</summary>
    public static void Multiply<TIsa>(ReadOnlySpan<float> x, ReadOnlySpan<float> m, Span<float> y) where TIsa : struct, ISimdPath => throw new NotImplementedException();

    /// <summary>Row-wise softmax (max-subtracted); y may alias u.</summary>
    public static void SoftmaxForward(ReadOnlySpan<float> u, Span<float> y, int rows, int cols) => throw new NotImplementedException();

    /// <summary>du[r,j] = y[r,j]·(dy[r,j] − Σ_c dy[r,c]·y[r,c]); du may alias dy.</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> du, int rows, int cols) => throw new NotImplementedException();
}

public static partial class PRelu
{
    /// <summary>y[r,c] = (u &gt; 0 ? u : alpha[c]·u)·mask[r,c] (mask empty = 1); u, y: rows×cols.</summary>
    public static void Forward<TIsa>(ReadOnlySpan<float> u, ReadOnlySpan<float> alpha, ReadOnlySpan<float> mask, Span<float> y, int rows, int cols)
        where TIsa : struct, ISimdPath => throw new NotImplementedException();

    /// <summary>g = dy·mask; du = g·(u &gt; 0 ? 1 : alpha[c]); dalpha[c] = Σ_r g·min(u, 0) (overwritten). du may alias dy.</summary>
    public static void Backward<TIsa>(ReadOnlySpan<float> u, ReadOnlySpan<float> alpha, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask, Span<float> du, Span<float> dalpha, int rows, int cols)
        where TIsa : struct, ISimdPath => throw new NotImplementedException();
}

public static partial class BatchNorm
{
    /// <summary>
    /// Training forward for columns [c0, c1) of z (rows×cols): batch mean and biased variance per column,
    /// saveMean[c] = mean, saveInvStd[c] = 1/sqrt(var + eps); when updateRunning:
    /// runMean = (1−m)·runMean + m·mean, runVar = (1−m)·runVar + m·var·rows/(rows−1) (unbiased; rows &gt; 1).
    /// y[r,c] = f(gamma[c]·(z − mean)·invStd + beta[c])·mask[r,c] (mask empty = 1).
    /// </summary>
    public static void ForwardTrain<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        Span<float> runMean, Span<float> runVar, Span<float> saveMean, Span<float> saveInvStd, ReadOnlySpan<float> mask, Span<float> y,
        int rows, int cols, int c0, int c1, float eps, float momentum, bool updateRunning, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation => throw new NotImplementedException();

    /// <summary>
    /// Backward for columns [c0, c1), fused with the activation and dropout after BN:
    /// x̂ = (z − mean)·invStd, u = gamma·x̂ + beta, g = dy·mask·f'(u, f(u));
    /// dgamma[c] = Σ_r g·x̂, dbeta[c] = Σ_r g (overwritten);
    /// dz = gamma·invStd/rows·(rows·g − Σ_r g − x̂·Σ_r g·x̂). dz may alias dy.
    /// </summary>
    public static void Backward<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> dy, ReadOnlySpan<float> mask,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> saveMean, ReadOnlySpan<float> saveInvStd,
        Span<float> dz, Span<float> dgamma, Span<float> dbeta, int rows, int cols, int c0, int c1, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation => throw new NotImplementedException();

    /// <summary>Eval: y = f(gamma·(z − runMean)/sqrt(runVar + eps) + beta)·outScale, over all rows×cols.</summary>
    public static void ForwardEval<TIsa, TAct>(ReadOnlySpan<float> z, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runMean, ReadOnlySpan<float> runVar, Span<float> y, int rows, int cols, float eps, float outScale, TAct act)
        where TIsa : struct, ISimdPath where TAct : struct, IActivation => throw new NotImplementedException();

    /// <summary>
    /// Folds eval-mode BN into the preceding Dense: s = gamma/sqrt(runVar + eps); wf[i,j] = w[i,j]·s[j];
    /// bf[j] = (b[j] − runMean[j])·s[j] + beta[j] (b empty = 0). w, wf: k×n.
    /// </summary>
    public static void Fold(ReadOnlySpan<float> w, ReadOnlySpan<float> b, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
        ReadOnlySpan<float> runMean, ReadOnlySpan<float> runVar, float eps, Span<float> wf, Span<float> bf, int k, int n) => throw new NotImplementedException();
}

public static partial class Losses
{
    // Every loss returns the SUM over rows of the per-sample loss (the caller divides by rows) and, when
    // grad is not empty, writes dL/dz multiplied by gradScale (the caller passes 1/rows).

    /// <summary>Per sample −log softmax(z)_y via log-sum-exp; grad = (softmax − onehot)·gradScale.</summary>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> grad, int rows, int classes, float gradScale) => throw new NotImplementedException();
    /// <summary>Soft targets t (rows×classes, each row sums to 1): −Σ t·log softmax(z); grad = (softmax − t)·gradScale.</summary>
    public static float SoftmaxCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> grad, int rows, int classes, float gradScale) => throw new NotImplementedException();
    /// <summary>Σ_{j≠y} max(0, s_j − s_y + margin); subgradient (0 at the hinge point).</summary>
    public static float MulticlassHinge(ReadOnlySpan<float> scores, ReadOnlySpan<int> labels, Span<float> grad, int rows, int classes, float margin, float gradScale) => throw new NotImplementedException();
    /// <summary>Σ_j [max(z,0) − z·t + log(1+e^−|z|)] per sample; grad = (σ(z) − t)·gradScale.</summary>
    public static float BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<float> targets, Span<float> grad, int rows, int outputs, float gradScale) => throw new NotImplementedException();
    /// <summary>Same with integer labels 0/1 (outputs must be 1).</summary>
    public static float BinaryCrossEntropy(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, Span<float> grad, int rows, float gradScale) => throw new NotImplementedException();
    /// <summary>(1/outputs)·Σ_j (y − t)² per sample; grad = 2(y − t)/outputs·gradScale.</summary>
    public static float MeanSquaredError(ReadOnlySpan<float> outputs, ReadOnlySpan<float> targets, Span<float> grad, int rows, int width, float gradScale) => throw new NotImplementedException();
    /// <summary>Row-wise softmax probabilities.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probs, int rows, int classes) => throw new NotImplementedException();
    /// <summary>Element-wise logistic sigmoid.</summary>
    public static void Sigmoid(ReadOnlySpan<float> logits, Span<float> probs) => throw new NotImplementedException();
}

/// <summary>Which update rule an <see cref="OptimizerStep"/> applies.</summary>
public enum OptimizerKind { Sgd, Momentum, Adam }

/// <summary>
/// One step's optimiser constants (learning rate, decay factors, Adam's bias corrections for this t).
/// Apply updates a contiguous range of parameters with their gradient and state (s1, s2 as needed).
/// </summary>
public readonly struct OptimizerStep
{
    public OptimizerStep(OptimizerKind kind, float learningRate, float beta1, float beta2, float epsilon, long t) => throw new NotImplementedException();
    public OptimizerKind Kind { get; }
    /// <summary>SGD: w −= lr·g. Momentum: s1 = beta1·s1 + g; w −= lr·s1. Adam: s1 = b1·s1 + (1−b1)g; s2 = b2·s2 + (1−b2)g²; w −= lr·(s1/(1−b1ᵗ))/(sqrt(s2/(1−b2ᵗ)) + eps).</summary>
    public void Apply<TIsa>(Span<float> w, ReadOnlySpan<float> g, Span<float> s1, Span<float> s2) where TIsa : struct, ISimdPath => throw new NotImplementedException();
}

public static partial class Dropout
{
    /// <summary>mask[i] = (u_i &lt; keep) ? scale : 0 with u_i uniform [0,1) drawn in order from rng (identical on every ISA path).</summary>
    public static void FillMask(Span<float> mask, float keep, float scale, ref KilnRandom rng) => throw new NotImplementedException();
}

public static partial class ParameterInit
{
    public static void Constant(Span<float> w, float value) => throw new NotImplementedException();
    /// <summary>N(0, std²), Box–Muller in double from rng.</summary>
    public static void Normal(Span<float> w, double std, ref KilnRandom rng) => throw new NotImplementedException();
    /// <summary>U(−bound, bound).</summary>
    public static void Uniform(Span<float> w, double bound, ref KilnRandom rng) => throw new NotImplementedException();
}

/// <summary>A float buffer whose first element is 64-byte aligned (pinned array), zero-initialised.</summary>
public sealed class Arena
{
    public Arena(int length) => throw new NotImplementedException();
    public int Length { get; }
    public Span<float> Span => throw new NotImplementedException();
    public Span<float> Slice(int offset, int length) => throw new NotImplementedException();
}

/// <summary>Work split into parts that run on the pool's threads.</summary>
public interface IParallelStages
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> of stage <paramref name="stage"/>.</summary>
    void RunStage(int stage, int part, int parts);
}

/// <summary>
/// A fixed set of worker threads (ProcessorCount − 1, or KILN_THREADS − 1) that spin briefly then sleep.
/// Run executes parts 0..Parallelism−1 of a stage (the caller runs part 0) and returns when all are done;
/// it allocates nothing. When the pool is busy with another caller, Run executes every part inline.
/// Exceptions in a part are rethrown on the caller.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    public static WorkerPool Shared => throw new NotImplementedException();
    public WorkerPool(int parallelism) => throw new NotImplementedException();
    public int Parallelism { get; }
    public void Run(IParallelStages body, int stage) => throw new NotImplementedException();
    public void Dispose() => throw new NotImplementedException();
}

public static class Partition
{
    /// <summary>Splits [0, total) into <paramref name="parts"/> near-equal ranges whose starts are multiples of <paramref name="align"/>.</summary>
    public static (int Start, int End) Range(int total, int part, int parts, int align) => throw new NotImplementedException();
}
