namespace Kiln.Training;

/// <summary>What an observer tells the trainer after a step or an epoch.</summary>
public enum ObserverVerdict
{
    /// <summary>Keep training.</summary>
    Continue,
    /// <summary>Stop the run after this step or epoch (the summary's stop reason names the observer).</summary>
    Stop,
}

/// <summary>
/// Watches a training run from inside the loop: the training doctor's monitors, early stopping, metric writers
/// and checkpoint ensembles are observers. Called synchronously on the training thread; an observer that
/// allocates or does heavy work per step slows training, so do per-step work only when needed.
/// </summary>
public interface ITrainingObserver
{
    /// <summary>A short name used in stop reasons and reports.</summary>
    string Name { get; }

    /// <summary>Before the first step.</summary>
    void OnRunStart(IKilnModel model, TrainerOptions options) { }

    /// <summary>After every training step; the model still holds that step's forward pass (LayerOutput) and gradients (TensorGradient).</summary>
    ObserverVerdict OnStep(IKilnModel model, in StepRecord step) => ObserverVerdict.Continue;

    /// <summary>After each epoch, including its evaluations and early stopping's judgement (before any restore).</summary>
    ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics) => ObserverVerdict.Continue;

    /// <summary>
    /// After the run ended for any reason (completed, stopped, diverged, and cancelled: then before
    /// <see cref="TrainingCancelledException"/> is thrown), with the summary <c>Fit</c> returns and the model as it is
    /// returned (after any restore of the best epoch or the last good state).
    /// </summary>
    void OnRunEnd(IKilnModel model, RunSummary summary) { }
}
