using System;
using Kiln.Checkpoints;
using Kiln.Training;

namespace Kiln.Doctor;

/// <summary>
/// Stops the run at the first NaN or ±∞ loss (every step) or parameter/gradient (every <see cref="DoctorMonitor.Every"/>
/// steps) and keeps the last good state (docs/techniques.md#hyper-parameters step 2, docs/techniques.md#pitfalls): at the run's start and after every epoch whose parameters are
/// all finite it takes an in-memory <see cref="ModelSnapshot"/> and, when <see cref="CheckpointPath"/> is set, saves a
/// checkpoint there (atomically, so a good checkpoint is never overwritten by a broken one). After a stop,
/// <see cref="RestoreLastGood"/> puts the model back to that state.
/// </summary>
public sealed class NonFiniteMonitor : DoctorMonitor
{
    private ModelSnapshot? _lastGood;

    /// <param name="every">Steps between parameter and gradient scans (the loss is checked every step).</param>
    /// <param name="checkpointPath">Where to save the last good checkpoint after each epoch; null keeps it in memory only.</param>
    /// <param name="thresholds">Thresholds; null for the defaults.</param>
    public NonFiniteMonitor(int every = 10, string? checkpointPath = null, DoctorThresholds? thresholds = null) : base(every, thresholds)
    {
        CheckpointPath = checkpointPath;
    }

    /// <inheritdoc/>
    public override string Name => "doctor/non-finite";

    /// <summary>Where the last good checkpoint is saved (null: memory only).</summary>
    public string? CheckpointPath { get; }

    /// <summary>The epoch of the last good state (0: the run's start); -1 before the run starts.</summary>
    public int LastGoodEpoch { get; private set; } = -1;

    /// <summary>True once a non-finite value stopped the run.</summary>
    public bool Diverged { get; private set; }

    /// <summary>Puts the model back to the last good state; false when there is none.</summary>
    public bool RestoreLastGood()
    {
        if (_lastGood is not { HasValue: true }) return false;
        _lastGood.Restore();
        return true;
    }

    /// <inheritdoc/>
    protected override void Start(IKilnModel model)
    {
        Diverged = false;
        _lastGood = new ModelSnapshot(model, includeOptimizerState: true, includeRunState: true);
        KeepGood(model, 0);
    }

    /// <inheritdoc/>
    protected override ObserverVerdict Watch(IKilnModel model, in StepRecord step, long index)
    {
        if (float.IsFinite(step.Loss)) return ObserverVerdict.Continue;
        Diverged = true;
        Report(Diagnoses.NonFiniteLoss(step.Loss, index, LayerProbe.OutputLayer(model)) with { Message = Detail($"The training loss is {step.Loss} at step {index}.") });
        return ObserverVerdict.Stop;
    }

    /// <inheritdoc/>
    protected override ObserverVerdict Sample(IKilnModel model, in StepRecord step, long index)
    {
        TensorInfo? bad = LayerProbe.FirstNonFinite(model, gradients: true);
        bool gradient = bad is not null;
        bad ??= LayerProbe.FirstNonFinite(model, gradients: false);
        if (bad is null) return ObserverVerdict.Continue;
        Diverged = true;
        Finding f = Diagnoses.NonFiniteTensor(bad, gradient, index);
        Report(f with { Message = Detail(f.Message) });
        return ObserverVerdict.Stop;
    }

    /// <inheritdoc/>
    public override ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        if (Diverged || !double.IsFinite(metrics.TrainLoss) || LayerProbe.FirstNonFinite(model, gradients: false) is not null) return ObserverVerdict.Continue;
        KeepGood(model, metrics.Epoch);
        return ObserverVerdict.Continue;
    }

    private void KeepGood(IKilnModel model, int epoch)
    {
        if (LayerProbe.FirstNonFinite(model, gradients: false) is not null) return;
        _lastGood!.Capture();
        if (CheckpointPath is not null) Checkpoint.Save(model, CheckpointPath);
        LastGoodEpoch = epoch;
    }

    private string Detail(string message) =>
        LastGoodEpoch < 0 ? message
        : message + $" The last good state is from {(LastGoodEpoch == 0 ? "the start of the run" : $"the end of epoch {LastGoodEpoch}")}" +
          (CheckpointPath is null ? " (in memory: RestoreLastGood())." : $", saved at {CheckpointPath}.");
}
