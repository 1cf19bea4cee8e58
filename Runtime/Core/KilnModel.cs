using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using Kiln.Kernels;

namespace Kiln;

/// <summary>
/// The base class of every generated model: the API that does not depend on the architecture (argument checks,
/// training and evaluation entry points, tensor access, learning-rate scales, the dropout stream, the same-instance
/// guard and the dispatch of parallel stages to the worker pool and the ISA path), written once here. The generated
/// part of a model holds only what its architecture decides: buffers, tensor views and the stage kernels.
/// </summary>
/// <remarks>
/// The protected fields are the state the generated kernels read and write; they keep the names the generated code
/// has always used (see docs/architecture.md). Derive from this class only through <c>[Model]</c>: the generator
/// writes the overrides.
/// </remarks>
public abstract class KilnModel : IKilnModel, IParallelStages
{
    /// <summary>
    /// Below this many floating-point operations a stage runs on the calling thread: handing a part to a spinning
    /// worker costs 1–2 µs, and the cache lines that then change cores as much again.
    /// </summary>
    private const long ParallelWorkThreshold = 1 << 20;

    private readonly KilnModelInfo _info;
    private readonly int _inputSize, _outputSize, _maxBatch;
    private readonly WorkerPool _pool = WorkerPool.Current;
    /// <summary>Runs each stage wide or narrow, whichever this machine does faster now (docs/threads.md).</summary>
    private readonly StageScheduler _scheduler;
    /// <summary>1 while a batch operation runs on this instance (Predict, TrainStep, ComputeGradients, Evaluate, EvaluateTargets).</summary>
    private int _batchOperationActive;

    /// <summary>The parameters; the gradients and optimiser states share its layout (a tensor has the same offset in each).</summary>
    protected readonly Arena _parameters;
    /// <summary>The gradients of the last training step, laid out as <see cref="_parameters"/>.</summary>
    protected readonly Arena _gradients;
    /// <summary>Optimiser state 1 (momentum velocity, Adam's first moment, AdaGrad/RMSProp accumulator); empty when the optimiser keeps none.</summary>
    protected readonly Arena _state1;
    /// <summary>Optimiser state 2 (Adam's second moment); empty when the optimiser keeps fewer than two.</summary>
    protected readonly Arena _state2;
    /// <summary>State buffers that are not trained (running statistics, input statistics).</summary>
    protected readonly Arena _buffers;
    /// <summary>The input batch as the layers read it (MaxBatch rows of InputSize), kept for the backward pass.</summary>
    protected readonly Arena _x;
    /// <summary>The integer labels of the current batch.</summary>
    protected readonly int[] _labels;
    /// <summary>The float targets of the current batch (MaxBatch rows of OutputSize).</summary>
    protected readonly Arena _targets;
    /// <summary>The learning-rate multiplier of each trainable tensor (0 freezes it).</summary>
    protected readonly float[] _learningRateScales;

    /// <summary>The dropout (and other training noise) stream.</summary>
    protected KilnRandom _noise;
    /// <summary>The ISA path the kernels run on.</summary>
    protected IsaPath _isa;
    /// <summary>The current learning rate.</summary>
    protected float _learningRate;
    /// <summary>Optimiser steps taken (Adam's t).</summary>
    protected long _step;
    /// <summary>The global gradient norm of the last step when the model clips by norm; NaN otherwise.</summary>
    protected float _gradientNorm = float.NaN;
    /// <summary>Rows in the current batch; the parallel stages read it.</summary>
    protected int _batch;
    /// <summary>True while a training step updates running statistics (TrainStep; not ComputeGradients).</summary>
    protected bool _updateRunningStatistics;
    /// <summary>True while the backward pass applies the optimiser update as each gradient is complete.</summary>
    protected bool _applyUpdate;
    /// <summary>The optimiser step of the current update (learning rate, hyper-parameters, step count); unused by L-BFGS.</summary>
    protected OptimizerStep _optimizerStep;
    /// <summary>True when weights derived for inference (folded BatchNorm, Winograd transforms) must be recomputed before the next Predict.</summary>
    protected bool _inferenceWeightsStale = true;

    /// <summary>Allocates the arenas and buffers the model describes, on the chosen ISA path.</summary>
    /// <param name="info">The generated model's description.</param>
    /// <param name="isa">The ISA path (validated: the CPU must support it).</param>
    protected KilnModel(KilnModelInfo info, IsaPath isa)
    {
        ArgumentNullException.ThrowIfNull(info);
        _info = info;
        _inputSize = info.InputSize;
        _outputSize = info.OutputSize;
        _maxBatch = info.MaxBatch;
        _scheduler = StageScheduler.FromEnvironment(_pool, info.Name);
        _isa = KilnIsa.Validate(isa);
        _learningRate = info.BaseLearningRate;
        _parameters = new Arena(info.ParameterFloats);
        _gradients = new Arena(info.ParameterFloats);
        _state1 = new Arena(info.OptimizerStateCount >= 1 ? info.ParameterFloats : 0);
        _state2 = new Arena(info.OptimizerStateCount >= 2 ? info.ParameterFloats : 0);
        _buffers = new Arena(info.BufferFloats);
        _x = new Arena(checked(info.MaxBatch * info.InputSize));
        _labels = new int[info.MaxBatch];
        _targets = new Arena(checked(info.MaxBatch * info.OutputSize));
        int trainable = 0;
        foreach (TensorInfo t in info.TensorArray) if (t.Trainable) trainable++;
        _learningRateScales = new float[trainable];
        if (info.LearningRateScales is { } scales)
        {
            if (scales.Length != trainable)
                throw new ArgumentException($"{info.Name} has {trainable} trainable tensors but {scales.Length} learning-rate scales.", nameof(info));
            scales.CopyTo(_learningRateScales, 0);
        }
        else Array.Fill(_learningRateScales, 1f);
    }

    // ------------------------------------------------------------------ what the generated part provides

    /// <summary>Initialises every parameter and running statistic from <paramref name="rng"/> (the model's seed), layer by layer.</summary>
    protected abstract void InitializeParameters(ref KilnRandom rng);

    /// <summary>Training-mode forward, loss and backward over the current batch (and the update when <paramref name="update"/>); returns the mean loss.</summary>
    protected abstract float TrainCore(bool useLabels, bool update);

    /// <summary>Eval-mode forward over the current batch; the raw outputs land in <see cref="OutputBuffer"/>.</summary>
    protected abstract void ForwardInference();

    /// <summary>The mean loss of the last forward; with <paramref name="withGradient"/>, also dL/d(output).</summary>
    protected abstract float ComputeLoss(bool useLabels, bool withGradient);

    /// <summary>The buffer that holds the raw outputs (before softmax or sigmoid), MaxBatch rows of OutputSize.</summary>
    protected abstract Arena OutputBuffer { get; }

    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> of a stage on the AVX-512 path.</summary>
    protected abstract void RunStageAvx512(int stage, int part, int parts);

    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> of a stage on the AVX2 path.</summary>
    protected abstract void RunStageAvx2(int stage, int part, int parts);

    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/> of a stage on the portable path.</summary>
    protected abstract void RunStagePortable(int stage, int part, int parts);

    /// <summary>Copies a batch of inputs into <see cref="_x"/>; models that transpose or normalise their inputs override it.</summary>
    /// <remarks>In a training step this default copy also refuses NaN/∞ as it copies (one pass over the batch, not two).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected virtual void CopyInputs(ReadOnlySpan<float> inputs, int batch)
    {
        if (!_checkWhileCopying)
        {
            inputs.CopyTo(_x.Span);
            return;
        }
        DataGuard.CopyTrainingInputs(inputs, _x.Span, _inputSize, ModelName);
        _inputsChecked = true;
    }

    // Set by Train around BeginBatch: the default CopyInputs then checks the batch as it copies it and says so in
    // _inputsChecked; a model whose own CopyInputs transforms the inputs leaves it false and Train checks separately.
    private bool _checkWhileCopying, _inputsChecked;

    // ------------------------------------------------------------------ IKilnModel

    /// <inheritdoc/>
    public string ModelName => _info.Name;
    int IKilnModel.InputSize => _inputSize;
    int IKilnModel.OutputSize => _outputSize;
    int IKilnModel.MaxBatch => _maxBatch;
    /// <inheritdoc/>
    public LossKind Loss => _info.Loss;
    /// <inheritdoc/>
    public IsaPath Isa { get => _isa; set => _isa = KilnIsa.Validate(value); }

    /// <inheritdoc/>
    public float LearningRate
    {
        get => _learningRate;
        set => _learningRate = value >= 0f && float.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a finite number ≥ 0 (schedules may reach 0).");
    }

    /// <inheritdoc/>
    public long Step => _step;
    /// <inheritdoc/>
    public IReadOnlyList<TensorInfo> Tensors => _info.Tensors;
    /// <inheritdoc/>
    public IReadOnlyList<LayerInfo> Layers => _info.Layers;
    /// <summary>The global L2 norm of the last gradients (before clipping), when the model clips by norm; NaN otherwise.</summary>
    public float GradientNorm => _gradientNorm;
    /// <summary>The learning rate of the optimiser attribute.</summary>
    public float BaseLearningRate => _info.BaseLearningRate;
    /// <summary>Optimiser state tensors per parameter (0 for SGD and L-BFGS, 1 for momentum-like rules and AdaGrad/RMSProp, 2 for Adam/AdamW).</summary>
    public int OptimizerStateCount => _info.OptimizerStateCount;

    /// <summary>A new instance of the declared learning-rate schedule (stateful for ReduceOnPlateau); the trainer sets LearningRate = BaseLearningRate × factor each step.</summary>
    public virtual Schedules.LearningRateSchedule CreateSchedule() => new Schedules.ConstantSchedule();

    /// <summary>Re-initialises every parameter, running statistic and optimiser state from the seed, and restarts the dropout stream.</summary>
    public void InitializeParameters()
    {
        var rng = new KilnRandom(_info.Seed);
        InitializeParameters(ref rng);
        _gradients.Span.Clear();
        _state1.Span.Clear();
        _state2.Span.Clear();
        // Dropout draws from its own stream so that changing the architecture's dropout does not change initialisation.
        _noise = new KilnRandom(_info.Seed ^ 0x9E3779B97F4A7C15UL);
        _step = 0;
        _inferenceWeightsStale = true;
    }

    /// <summary>Restarts the dropout stream, so the next training forward draws the same masks as after any other reset with this seed.</summary>
    public void ResetNoise(ulong seed) => _noise = new KilnRandom(seed);

    /// <summary>The dropout stream's state, for checkpoints.</summary>
    public void GetNoiseState(Span<ulong> state) => _noise.GetState(state);

    /// <summary>Continues the dropout stream from a saved state.</summary>
    public void SetNoiseState(ReadOnlySpan<ulong> state) => _noise = KilnRandom.FromState(state);

    /// <summary>Sets the optimiser step counter (Adam's t), for resuming from a checkpoint.</summary>
    public void RestoreStep(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, "The step counter cannot be negative.");
        _step = step;
    }

    /// <summary>The storage of a tensor from <see cref="Tensors"/> (writing to it invalidates derived inference weights).</summary>
    public Span<float> TensorData(TensorInfo tensor)
    {
        CheckTensor(tensor);
        _inferenceWeightsStale = true;
        return tensor.Trainable ? _parameters.Slice(tensor.Offset, tensor.Length) : _buffers.Slice(tensor.Offset, tensor.Length);
    }

    /// <summary>The gradient of a trainable tensor from the last TrainStep or ComputeGradients.</summary>
    public Span<float> TensorGradient(TensorInfo tensor)
    {
        CheckTensor(tensor);
        if (!tensor.Trainable) throw new ArgumentException($"{tensor.Name} is a state buffer and has no gradient.", nameof(tensor));
        return _gradients.Slice(tensor.Offset, tensor.Length);
    }

    /// <summary>Optimiser state <paramref name="slot"/> (0-based) of a trainable tensor, for checkpoints.</summary>
    public Span<float> TensorState(TensorInfo tensor, int slot)
    {
        CheckTensor(tensor);
        if (!tensor.Trainable) throw new ArgumentException($"{tensor.Name} is a state buffer and has no optimiser state.", nameof(tensor));
        if ((uint)slot >= (uint)_info.OptimizerStateCount)
            throw new ArgumentOutOfRangeException(nameof(slot), slot, $"{ModelName} keeps {_info.OptimizerStateCount} optimiser state tensor(s) per parameter.");
        return (slot == 0 ? _state1 : _state2).Slice(tensor.Offset, tensor.Length);
    }

    /// <summary>Multiplies the learning rate of every tensor of a layer (0 freezes it: used by fine-tuning).</summary>
    public void SetLearningRateScale(string layer, float scale)
    {
        if (!(scale >= 0f) || !float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "A learning-rate scale must be a finite number ≥ 0.");
        bool found = false;
        foreach (TensorInfo t in _info.TensorArray)
        {
            if (!t.Trainable || t.Layer != layer) continue;
            _learningRateScales[TrainableIndex(t)] = scale;
            found = true;
        }
        if (!found) throw new ArgumentException($"{ModelName} has no layer '{layer}' with trainable tensors.", nameof(layer));
    }

    /// <summary>The learning-rate multiplier of a layer's tensors.</summary>
    public float GetLearningRateScale(string layer)
    {
        foreach (TensorInfo t in _info.TensorArray)
        {
            if (t.Trainable && t.Layer == layer) return _learningRateScales[TrainableIndex(t)];
        }
        throw new ArgumentException($"{ModelName} has no layer '{layer}' with trainable tensors.", nameof(layer));
    }

    /// <summary>One fused training step: forward (batch statistics, dropout), loss, backward and the optimiser update. Returns the mean loss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        if (!TakesLabels) throw new NotSupportedException($"{ModelName} uses {Loss}: train it on float targets with TrainStep(inputs, ReadOnlySpan<float> targets, batch).");
        return Train(inputs, labels, default, batch, useLabels: true, update: true);
    }

    /// <summary>One fused training step on float targets (soft labels, binary targets or regression values). Returns the mean loss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch)
    {
        if (!TakesTargets) throw new NotSupportedException($"{ModelName} uses MulticlassHinge, which needs integer class labels: use TrainStep(inputs, ReadOnlySpan<int> labels, batch).");
        return Train(inputs, default, targets, batch, useLabels: false, update: true);
    }

    /// <summary>Training-mode forward and backward without the update (and without touching running statistics); gradients are left in TensorGradient. Returns the mean loss.</summary>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        if (!TakesLabels) throw new NotSupportedException($"{ModelName} uses {Loss}: use float targets.");
        return Train(inputs, labels, default, batch, useLabels: true, update: false);
    }

    /// <summary>Training-mode forward and backward on float targets, without the update. Returns the mean loss.</summary>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch)
    {
        if (!TakesTargets) throw new NotSupportedException($"{ModelName} uses MulticlassHinge, which needs integer class labels.");
        return Train(inputs, default, targets, batch, useLabels: false, update: false);
    }

    /// <summary>Eval-mode forward: running statistics, no dropout. Writes probabilities for softmax and sigmoid losses, raw outputs otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Predict(ReadOnlySpan<float> inputs, Span<float> outputs, int batch)
    {
        EnterBatchOperation();
        try
        {
            BeginBatch(inputs, batch, inference: true);
            CheckLength(outputs.Length, batch * _outputSize, nameof(outputs), batch, "OutputSize", _outputSize);
            ForwardInference();
            _scheduler.EndBatch();
            ReadOnlySpan<float> raw = OutputBuffer.Slice(0, batch * _outputSize);
            switch (_info.Loss)
            {
                case LossKind.SoftmaxCrossEntropy: Losses.Softmax(raw, outputs, batch, _outputSize); break;
                case LossKind.BinaryCrossEntropy: Losses.Sigmoid(raw, outputs.Slice(0, batch * _outputSize)); break;
                default: raw.CopyTo(outputs); break;
            }
        }
        finally { ExitBatchOperation(); }
    }

    /// <summary>Eval-mode mean loss and accuracy (arg-max, or p ≥ 0.5 for one sigmoid output) over <paramref name="count"/> samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public EvaluationResult Evaluate(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int count)
    {
        if (!TakesLabels) throw new NotSupportedException($"{ModelName} uses MeanSquaredError: evaluate it on float targets with EvaluateTargets.");
        EnterBatchOperation();
        try
        {
            CheckCount(inputs.Length, labels.Length, count, nameof(labels));
            double lossSum = 0;
            int correct = 0;
            bool sigmoid = _info.Loss == LossKind.BinaryCrossEntropy;
            for (int start = 0; start < count; start += _maxBatch)
            {
                int batch = Math.Min(_maxBatch, count - start);
                BeginBatch(inputs.Slice(start * _inputSize, batch * _inputSize), batch, inference: true);
                CopyLabels(labels.Slice(start, batch), batch, start);
                ForwardInference();
                _scheduler.EndBatch();
                lossSum += ComputeLoss(useLabels: true, withGradient: false) * batch;
                ReadOnlySpan<float> raw = OutputBuffer.Slice(0, batch * _outputSize);
                for (int r = 0; r < batch; r++)
                {
                    int predicted = sigmoid ? (raw[r] >= 0f ? 1 : 0) : ArgMax(raw.Slice(r * _outputSize, _outputSize));
                    if (predicted == _labels[r]) correct++;
                }
            }
            return new EvaluationResult(lossSum / count, (double)correct / count, count);
        }
        finally { ExitBatchOperation(); }
    }

    /// <summary>Eval-mode mean loss over <paramref name="count"/> samples with float targets (OutputSize per sample); accuracy is NaN.</summary>
    public EvaluationResult EvaluateTargets(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count)
    {
        if (!TakesTargets) throw new NotSupportedException($"{ModelName} uses MulticlassHinge, which needs integer class labels.");
        EnterBatchOperation();
        try
        {
            CheckCount(inputs.Length, targets.Length / _outputSize, count, nameof(targets));
            CheckLength(targets.Length, count * _outputSize, nameof(targets), count, "OutputSize", _outputSize);
            double lossSum = 0;
            for (int start = 0; start < count; start += _maxBatch)
            {
                int batch = Math.Min(_maxBatch, count - start);
                BeginBatch(inputs.Slice(start * _inputSize, batch * _inputSize), batch, inference: true);
                CopyTargets(targets.Slice(start * _outputSize, batch * _outputSize), batch);
                ForwardInference();
                _scheduler.EndBatch();
                lossSum += ComputeLoss(useLabels: false, withGradient: false) * batch;
            }
            return new EvaluationResult(lossSum / count, double.NaN, count);
        }
        finally { ExitBatchOperation(); }
    }

    /// <summary>
    /// A layer's output from the last training forward, batch × width. Layers fused into one pass share
    /// its output: BatchNorm, activation and dropout of a chain all return the chain's final output, except
    /// that a dropout layer returns its mask (0 or the keep scale). Predict and Evaluate reuse these buffers:
    /// read them right after TrainStep or ComputeGradients.
    /// </summary>
    public abstract ReadOnlySpan<float> LayerOutput(string layer);

    // ------------------------------------------------------------------ stages

    /// <summary>Runs a stage on the calling thread when it is too small to share, otherwise on the worker pool.</summary>
    /// <param name="stage">The stage number the generated part dispatches on.</param>
    /// <param name="work">The stage's work in floating-point operations (or their time equivalent).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected void Execute(int stage, long work)
    {
        if (work < ParallelWorkThreshold || _pool.Parallelism == 1) RunStage(stage, 0, 1);
        else _scheduler.Execute(this, stage, work);
    }

    /// <summary>The per-stage thread-count decisions of this model (tests, diagnostics).</summary>
    internal StageScheduler Scheduler => _scheduler;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IParallelStages.RunStage(int stage, int part, int parts) => RunStage(stage, part, parts);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunStage(int stage, int part, int parts)
    {
        switch (_isa)
        {
            case IsaPath.Avx512: RunStageAvx512(stage, part, parts); break;
            case IsaPath.Avx2: RunStageAvx2(stage, part, parts); break;
            default: RunStagePortable(stage, part, parts); break;
        }
    }

    // ------------------------------------------------------------------ argument checks

    /// <summary>Throws when a buffer's length is not batch × width, naming the argument and both factors.</summary>
    /// <param name="actual">The buffer's length.</param>
    /// <param name="expected">batch × width.</param>
    /// <param name="argument">The argument's name.</param>
    /// <param name="batch">The batch (or sample count).</param>
    /// <param name="widthName">The width's name, such as <c>InputSize</c>.</param>
    /// <param name="width">The width.</param>
    protected static void CheckLength(int actual, int expected, string argument, int batch, string widthName, int width)
    {
        if (actual != expected)
            throw new ArgumentException($"{argument} has {actual} floats; expected batch × {widthName} = {batch} × {width} = {expected}.", argument);
    }

    /// <summary>dst += src: adds one block's partial weight gradient (convolutions and DropConnect layers accumulate dW by blocks of rows).</summary>
    /// <param name="src">The partial gradient.</param>
    /// <param name="dst">The gradient it is added to (at most as long as <paramref name="src"/>).</param>
    protected static void Accumulate(ReadOnlySpan<float> src, Span<float> dst)
    {
        int i = 0;
        int width = System.Numerics.Vector<float>.Count;
        for (; i + width <= dst.Length; i += width)
            (new System.Numerics.Vector<float>(dst.Slice(i)) + new System.Numerics.Vector<float>(src.Slice(i))).CopyTo(dst.Slice(i));
        for (; i < dst.Length; i++) dst[i] += src[i];
    }

    private bool TakesLabels => _info.Loss != LossKind.MeanSquaredError;
    private bool TakesTargets => _info.Loss != LossKind.MulticlassHinge;

    /// <summary>A training entry point inside the same-instance guard: begin the batch, refuse NaN/∞ inputs, copy the targets, train.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, ReadOnlySpan<float> targets, int batch, bool useLabels, bool update)
    {
        EnterBatchOperation();
        try
        {
            // Training entry points refuse NaN/∞ inputs before anything changes (docs/reliability.md): the default
            // CopyInputs checks as it copies, a model's own CopyInputs is followed by a separate check.
            _checkWhileCopying = true;
            _inputsChecked = false;
            try { BeginBatch(inputs, batch); }
            finally { _checkWhileCopying = false; }
            if (!_inputsChecked) DataGuard.CheckTrainingInputs(inputs, _inputSize, ModelName);
            if (useLabels) CopyLabels(labels, batch);
            else CopyTargets(targets, batch);
            return TrainCore(useLabels, update);
        }
        finally { ExitBatchOperation(); }
    }

    /// <summary>Checks and copies a batch's inputs and starts the batch; an inference batch's stages then share one thread-count decision (docs/threads.md).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BeginBatch(ReadOnlySpan<float> inputs, int batch, bool inference = false)
    {
        if ((uint)(batch - 1) >= (uint)_maxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be between 1 and MaxBatch ({_maxBatch}) for {ModelName}.");
        CheckLength(inputs.Length, batch * _inputSize, nameof(inputs), batch, "InputSize", _inputSize);
        CopyInputs(inputs, batch);
        _batch = batch;
        if (inference) _scheduler.BeginInferenceBatch(batch);
        else _scheduler.BeginBatch();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyLabels(ReadOnlySpan<int> labels, int batch, int firstRow = 0)
    {
        if (labels.Length != batch)
            throw new ArgumentException($"labels has {labels.Length} entries; expected one per sample of the batch ({batch}).", nameof(labels));
        int classes = _info.Loss == LossKind.BinaryCrossEntropy ? 2 : _outputSize;
        for (int i = 0; i < batch; i++)
        {
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), labels[i], $"labels[{firstRow + i}] = {labels[i]} is not a class of {ModelName}: expected 0 to {classes - 1}.");
        }
        labels.CopyTo(_labels);
    }

    private void CopyTargets(ReadOnlySpan<float> targets, int batch)
    {
        CheckLength(targets.Length, batch * _outputSize, nameof(targets), batch, "OutputSize", _outputSize);
        DataGuard.CheckTargets(targets, batch, _outputSize, Loss, ModelName);
        targets.CopyTo(_targets.Span);
    }

    private void CheckCount(int inputFloats, int labelCount, int count, string labelArgument)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be positive: the loss and accuracy of no samples are undefined.");
        if (inputFloats < (long)count * _inputSize)
            throw new ArgumentException($"inputs has {inputFloats} floats; {count} samples need count × InputSize = {(long)count * _inputSize}.", "inputs");
        if (labelCount < count)
            throw new ArgumentException($"{labelArgument} has {labelCount} rows for {count} samples.", labelArgument);
    }

    private void CheckTensor(TensorInfo tensor)
    {
        if (Array.IndexOf(_info.TensorArray, tensor) < 0)
            throw new ArgumentException($"{tensor?.Name ?? "null"} is not a tensor of this model; use the instances from Tensors.", nameof(tensor));
    }

    private int TrainableIndex(TensorInfo tensor)
    {
        int index = 0;
        foreach (TensorInfo t in _info.TensorArray)
        {
            if (ReferenceEquals(t, tensor)) return index;
            if (t.Trainable) index++;
        }
        throw new ArgumentException($"{tensor.Name} is not a tensor of this model.", nameof(tensor));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++) if (row[j] > row[best]) best = j;
        return best;
    }

    // ------------------------------------------------------------------ same-instance guard

    private void EnterBatchOperation()
    {
        if (Interlocked.Exchange(ref _batchOperationActive, 1) != 0) ThrowInUse();
    }

    private void ExitBatchOperation() => Volatile.Write(ref _batchOperationActive, 0);

    private void ThrowInUse() => throw new InvalidOperationException(
        $"{ModelName} is in use on another thread: an instance runs one Predict, TrainStep, ComputeGradients or Evaluate at a time (they share its buffers). Use one instance per thread, or synchronise the calls.");
}
