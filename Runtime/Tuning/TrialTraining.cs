using System;
using System.Collections.Generic;
using System.Globalization;
using System.Numerics.Tensors;
using Kiln.Training;

namespace Kiln.Tuning;

/// <summary>
/// Early abort of hopeless trials (docs/techniques.md#hyper-parameters): a trial whose loss exceeds <see cref="Factor"/> × its initial loss, or
/// becomes NaN or infinite, will not recover in a short search run; stopping it frees the core for the next trial.
/// Feed it one loss per step, in order, with <see cref="Observe"/>; the first one is the initial loss. As an
/// <see cref="ITrainingObserver"/> it stops a run from a trainer that calls observers (on each step's own loss).
/// </summary>
public sealed class HopelessTrialGuard : ITrainingObserver
{
    /// <param name="factor">Abort when a loss exceeds factor × the initial loss (&gt; 1; default 3). +∞ checks only for NaN/∞.</param>
    public HopelessTrialGuard(double factor = 3)
    {
        if (!(factor > 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "The abort factor must exceed 1.");
        Factor = factor;
    }

    /// <summary>The trial is abandoned when the loss exceeds this many times the first loss.</summary>
    public double Factor { get; }

    /// <summary>The first loss observed (NaN before any).</summary>
    public double InitialLoss { get; private set; } = double.NaN;

    /// <summary>Losses observed so far.</summary>
    public long Observed { get; private set; }

    /// <summary>Why the trial is hopeless, or null while it is not.</summary>
    public string? Reason { get; private set; }

    /// <inheritdoc/>
    public string Name => "hopeless-trial";

    /// <summary>Starts over: the run's first step gives the new initial loss.</summary>
    public void OnRunStart(IKilnModel model, TrainerOptions options)
    {
        InitialLoss = double.NaN;
        Observed = 0;
        Reason = null;
    }

    /// <inheritdoc/>
    public ObserverVerdict OnStep(IKilnModel model, in StepRecord step) => Observe(step.Loss) ? ObserverVerdict.Stop : ObserverVerdict.Continue;

    /// <summary>Records a loss; returns true (and sets <see cref="Reason"/>) once the trial is hopeless.</summary>
    public bool Observe(double loss)
    {
        if (Reason is not null) return true;
        long index = Observed++;
        if (!double.IsFinite(loss))
        {
            Reason = string.Create(CultureInfo.InvariantCulture, $"loss became {loss} at step {index}");
            return true;
        }
        if (index == 0)
        {
            InitialLoss = loss;
            return false;
        }
        if (loss > Factor * InitialLoss && InitialLoss > 0)
        {
            Reason = string.Create(CultureInfo.InvariantCulture, $"loss {loss:G4} exceeded {Factor:G3} × the initial {InitialLoss:G4} at step {index}");
            return true;
        }
        return false;
    }
}

/// <summary>
/// Decoupled weight decay (AdamW style) applied from outside the model after each step: every weight matrix (not biases,
/// BatchNorm scales or shifts) is multiplied by 1 − η·s·λ, with η the step's learning rate and s the layer's learning-rate
/// scale (so a frozen layer does not decay). Generated models take their penalties from attributes, fixed at compile time;
/// this lets a search vary λ per trial. With plain SGD it equals an L2 penalty of λ/2·ΣW² up to a term of order η²λ.
/// Allocates nothing per call. It is also an <see cref="IProgress{T}"/>: pass it as the trainer's progress argument and it
/// decays after every step with that step's learning rate.
/// </summary>
public sealed class DecoupledWeightDecay : IProgress<TrainingProgress>
{
    private readonly IKilnModel _model;
    private readonly TensorInfo[] _weights;

    /// <summary>Decays <paramref name="model"/>'s weight matrices with coefficient λ = <paramref name="coefficient"/>.</summary>
    public DecoupledWeightDecay(IKilnModel model, double coefficient)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        if (!(coefficient >= 0) || !double.IsFinite(coefficient))
            throw new ArgumentOutOfRangeException(nameof(coefficient), coefficient, "The weight-decay coefficient must be a finite number ≥ 0.");
        Coefficient = coefficient;
        var weights = new List<TensorInfo>();
        foreach (TensorInfo t in model.Tensors)
            if (t.Trainable && t.Role == TensorRole.Weight) weights.Add(t);
        _weights = weights.ToArray();
    }

    /// <summary>λ.</summary>
    public double Coefficient { get; }

    /// <summary>The tensors decayed.</summary>
    public IReadOnlyList<TensorInfo> Weights => _weights;

    /// <summary>After a training step (batch report): decays with the step's learning rate. Epoch-end reports are ignored.</summary>
    public void Report(TrainingProgress value)
    {
        if (value.Kind == ProgressKind.Batch) Apply(value.LearningRate);
    }

    /// <summary>Decays the weights for a step taken with <paramref name="learningRate"/>.</summary>
    public void Apply(float learningRate)
    {
        if (Coefficient == 0 || learningRate == 0) return;
        foreach (TensorInfo t in _weights)
        {
            double shrink = 1 - learningRate * (double)_model.GetLearningRateScale(t.Layer) * Coefficient;
            if (shrink == 1) continue;
            Span<float> w = _model.TensorData(t);
            TensorPrimitives.Multiply(w, (float)shrink, w);
        }
    }
}

/// <summary>What a <see cref="ModelTrialRunner"/> scores a trial by (both are minimised).</summary>
public enum TrialObjective
{
    /// <summary>Eval-mode validation loss after the last epoch.</summary>
    ValidationLoss,
    /// <summary>1 − validation accuracy after the last epoch.</summary>
    ValidationError,
}

/// <summary>
/// The ready-made runner for Kiln models: builds a model per trial, trains it with <see cref="Trainer.Fit(IKilnModel, Kiln.Data.Dataset, Kiln.Data.Dataset?, TrainerOptions?, IProgress{TrainingProgress}?)"/>
/// on the trial's seed, with the trial's learning rate (<see cref="LearningRateKey"/>) and decoupled weight decay
/// (<see cref="WeightDecayKey"/>), aborts it when hopeless, and scores it on the validation set. Thread-safe: each call
/// builds its own model and reads the shared data sets only.
/// </summary>
public sealed class ModelTrialRunner : ITrialRunner
{
    private readonly Func<Trial, IKilnModel> _createModel;
    private readonly Kiln.Data.Dataset _train;
    private readonly Kiln.Data.Dataset _validation;
    private readonly TrainerOptions _options;

    /// <param name="createModel">A new model for a trial (a model class per architecture; use the trial's parameters to pick one).</param>
    /// <param name="train">Training data (shared read-only by concurrent trials).</param>
    /// <param name="validation">Held-out data the score is measured on.</param>
    /// <param name="options">Epochs, batch size and the rest; Seed, LearningRate and CancellationToken are set per trial.</param>
    public ModelTrialRunner(Func<Trial, IKilnModel> createModel, Kiln.Data.Dataset train, Kiln.Data.Dataset validation, TrainerOptions options)
    {
        _createModel = createModel ?? throw new ArgumentNullException(nameof(createModel));
        _train = train ?? throw new ArgumentNullException(nameof(train));
        _validation = validation ?? throw new ArgumentNullException(nameof(validation));
        _options = options ?? throw new ArgumentNullException(nameof(options));
    }

    /// <summary>The parameter holding the base learning rate (default "lr"); a trial without it uses the options' or the model's rate.</summary>
    public string LearningRateKey { get; init; } = "lr";

    /// <summary>The parameter holding the decoupled weight-decay coefficient (default "weight_decay"); absent: no decay.</summary>
    public string WeightDecayKey { get; init; } = "weight_decay";

    /// <summary>Abort when the epoch's running training loss exceeds this × the first step's loss (default 3); +∞ aborts only on NaN/∞.</summary>
    public double AbortFactor { get; init; } = 3;

    /// <summary>The score (default: validation loss).</summary>
    public TrialObjective Objective { get; init; } = TrialObjective.ValidationLoss;

    /// <summary>Adjusts the options per trial (a batch size from the parameters, a schedule...).</summary>
    public Func<Trial, TrainerOptions, TrainerOptions>? Configure { get; init; }

    /// <summary>Called with the trained model of every completed trial (to keep or save it); may run on several threads at once.</summary>
    public Action<Trial, IKilnModel, RunSummary>? Trained { get; init; }

    /// <inheritdoc/>
    public TrialResult Run(Trial trial, System.Threading.CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(trial);
        IKilnModel model = _createModel(trial) ?? throw new InvalidOperationException($"The model factory returned null for {trial}.");
        model.ResetNoise(trial.Seed);
        HyperParameters hp = trial.Parameters;
        double decay = hp.ContainsKey(WeightDecayKey) ? hp.GetDouble(WeightDecayKey) : 0;
        using var abort = System.Threading.CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        TrainerOptions options = _options with
        {
            Seed = trial.Seed,
            LearningRate = hp.ContainsKey(LearningRateKey) ? (float)hp.GetDouble(LearningRateKey) : _options.LearningRate,
            CancellationToken = abort.Token,
        };
        options = Configure?.Invoke(trial, options) ?? options;
        var monitor = new TrialMonitor(new DecoupledWeightDecay(model, decay), new HopelessTrialGuard(AbortFactor), abort);

        RunSummary summary;
        try
        {
            summary = Trainer.Fit(model, _train, _validation, options, monitor);
        }
        catch (TrainingCancelledException e) when (monitor.Guard.Reason is not null && !cancellation.IsCancellationRequested)
        {
            return TrialResult.Aborted(trial, monitor.Guard.Reason, double.NaN, Metrics(e.Partial, null));
        }
        // The guard may trip on the very last step, after which the trainer no longer checks the token.
        if (monitor.Guard.Reason is { } reason)
            return TrialResult.Aborted(trial, reason, double.NaN, Metrics(summary, null));
        if (summary.StopReason == StopReason.Diverged)
            return TrialResult.Aborted(trial, $"the loss became NaN or infinite in epoch {summary.History.Count}", double.NaN, Metrics(summary, null));

        EvaluationResult val = Trainer.Evaluate(model, _validation);
        double score = Objective == TrialObjective.ValidationLoss ? val.Loss : 1 - val.Accuracy;
        Trained?.Invoke(trial, model, summary);
        if (!double.IsFinite(score))
            return TrialResult.Aborted(trial, "the validation loss is NaN or infinite", double.NaN, Metrics(summary, val));
        return TrialResult.Completed(trial, score, Metrics(summary, val));
    }

    private static KeyValuePair<string, double>[] Metrics(RunSummary summary, EvaluationResult? validation) =>
    [
        new("val_loss", validation?.Loss ?? summary.FinalValidationLoss ?? double.NaN),
        new("val_acc", validation?.Accuracy ?? summary.FinalValidationAccuracy ?? double.NaN),
        new("train_loss", summary.FinalTrainLoss),
        new("epochs", summary.History.Count),
    ];

    /// <summary>The per-step hook: weight decay after each step, then the hopeless check on the epoch's running loss.</summary>
    private sealed class TrialMonitor(DecoupledWeightDecay decay, HopelessTrialGuard guard, System.Threading.CancellationTokenSource abort) : IProgress<TrainingProgress>
    {
        public HopelessTrialGuard Guard => guard;

        public void Report(TrainingProgress value)
        {
            if (value.Kind != ProgressKind.Batch) return;
            decay.Report(value);
            if (guard.Observe(value.RunningLoss) && !abort.IsCancellationRequested) abort.Cancel();
        }
    }
}
