using System;
using System.Collections.Generic;
using Kiln.Data;
using Kiln.Preprocessing;

namespace Kiln.Checkpoints;

/// <summary>What a caller adds to a checkpoint beyond the model's own state.</summary>
public sealed class CheckpointMetadata
{
    /// <summary>
    /// The fitted preprocessing (any <see cref="Preprocessor"/>: standardizer, channel normaliser, whitener or a chain),
    /// stored as JSON under <c>preprocessing</c>; <see cref="CheckpointFile.Preprocessing"/> restores it exactly. Its output
    /// feature count must be the model's input size.
    /// </summary>
    public Preprocessor? Preprocessing { get; set; }

    /// <summary>The older way to store a standardizer, under <c>standardizer</c>; prefer <see cref="Preprocessing"/> (set only one).</summary>
    public Standardizer? Standardizer { get; set; }

    /// <summary>The run's seed (shuffling, splits), stored under <c>seed</c> for the record.</summary>
    public ulong? Seed { get; set; }

    /// <summary>
    /// The seed the dropout stream restarts from when this checkpoint is resumed, stored under <c>noise_seed</c>.
    /// <see cref="Checkpoint.Load"/> calls <see cref="IKilnModel.ResetNoise"/> with it. To resume bit for bit, the
    /// training loop that saves must call <c>model.ResetNoise(NoiseSeed)</c> right after saving (or the uninterrupted
    /// run must reset the stream at the same point, such as every epoch start).
    /// </summary>
    public ulong? NoiseSeed { get; set; }

    /// <summary>Free-form string entries (epoch, data set, git commit...). Keys must not collide with Kiln's own keys.</summary>
    public IDictionary<string, string> Entries { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>How strictly <see cref="Checkpoint.Load"/> matches a file to a model.</summary>
public sealed class CheckpointLoadOptions
{
    /// <summary>Accept a file saved from a different model class (or with no <c>kiln_model</c> entry); names and shapes must still match.</summary>
    public bool AllowDifferentModel { get; set; }
    /// <summary>Accept tensors in the file that the model does not have (they are ignored).</summary>
    public bool AllowUnexpectedTensors { get; set; }
    /// <summary>Restore optimiser state, the step counter, the learning rate and per-layer scales (default true). When false, optimiser state in the file is ignored and not required.</summary>
    public bool RestoreOptimizerState { get; set; } = true;
    /// <summary>
    /// Load tensors (and optimiser state) holding NaN or ±∞. By default such a file fails the load with the tensor's name
    /// before the model changes: a model with one NaN parameter predicts NaN (or silently wrong values through ReLU).
    /// </summary>
    public bool AllowNonFinite { get; set; }
}

/// <summary>Save options.</summary>
public sealed class CheckpointSaveOptions
{
    /// <summary>
    /// Called after the header and after each chunk of tensor data with (bytes written, total bytes). Throwing from it
    /// abandons the save: the temporary file is deleted and any existing checkpoint at the path stays as it was.
    /// </summary>
    public Action<long, long>? Progress { get; set; }

    /// <summary>
    /// Save tensors holding NaN or ±∞ (for post-mortems of a diverged run). By default the save refuses them with the
    /// tensor's name before any file is created, so a diverged state never overwrites a good checkpoint.
    /// </summary>
    public bool AllowNonFinite { get; set; }
}

/// <summary>What <see cref="Checkpoint.LoadMatching"/> did.</summary>
/// <param name="Loaded">Model tensors overwritten from the file.</param>
/// <param name="Skipped">File tensors not loaded, with the reason (no such tensor in the model, other shape or dtype, optimiser state).</param>
/// <param name="NotInFile">Model tensors the file lacks; they keep their current values.</param>
public sealed record TransferReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<SkippedTensor> Skipped,
    IReadOnlyList<string> NotInFile);

/// <summary>A file tensor that <see cref="Checkpoint.LoadMatching"/> did not load.</summary>
public readonly record struct SkippedTensor(string Name, string Reason);
