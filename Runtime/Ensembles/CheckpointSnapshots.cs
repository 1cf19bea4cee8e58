using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Kiln.Checkpoints;
using Kiln.Training;

namespace Kiln.Ensembles;

/// <summary>A checkpoint saved by <see cref="CheckpointSnapshots"/>.</summary>
/// <param name="Epoch">1-based epoch after which it was saved.</param>
/// <param name="Path">The safetensors file.</param>
/// <param name="ValidationAccuracy">Validation accuracy at that epoch, when evaluated.</param>
/// <param name="ValidationLoss">Validation loss at that epoch, when evaluated.</param>
public sealed record Snapshot(int Epoch, string Path, double? ValidationAccuracy, double? ValidationLoss);

/// <summary>
/// Checkpoint ensembles (docs/techniques.md#regularisation): an <see cref="ITrainingObserver"/> that saves the model after chosen epochs of one
/// run; <see cref="LoadEnsemble"/> turns the snapshots into an <see cref="Ensemble"/>. Pass it in
/// <see cref="TrainerOptions.Observers"/>.
/// </summary>
public sealed class CheckpointSnapshots : ITrainingObserver
{
    private readonly HashSet<int> _epochs;
    private readonly List<Snapshot> _saved = new();

    /// <param name="directory">Where the checkpoints go (created if needed).</param>
    /// <param name="epochs">1-based epochs after which to save.</param>
    /// <param name="prefix">File name prefix: files are <c>{prefix}-epoch{N:000}.safetensors</c>.</param>
    public CheckpointSnapshots(string directory, IEnumerable<int> epochs, string prefix = "snapshot")
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(epochs);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) >= 0)
            throw new ArgumentException($"The prefix '{prefix}' contains characters not allowed in a file name.", nameof(prefix));
        _epochs = new HashSet<int>(epochs);
        if (_epochs.Count == 0) throw new ArgumentException("Name at least one epoch to snapshot.", nameof(epochs));
        foreach (int e in _epochs)
            if (e < 1) throw new ArgumentOutOfRangeException(nameof(epochs), e, "Epochs are 1-based.");
        Directory = directory;
        Prefix = prefix;
    }

    /// <inheritdoc/>
    public string Name => "checkpoint-snapshots";

    /// <summary>Folder the snapshots are written to.</summary>
    public string Directory { get; }
    /// <summary>File name prefix of each snapshot (<c>{Prefix}-epoch007.safetensors</c>).</summary>
    public string Prefix { get; }

    /// <summary>The epochs to snapshot, ascending.</summary>
    public IReadOnlyList<int> Epochs => _epochs.Order().ToArray();

    /// <summary>The snapshots saved so far, in order.</summary>
    public IReadOnlyList<Snapshot> Saved => _saved;

    /// <summary>The file of epoch <paramref name="epoch"/>.</summary>
    public string PathFor(int epoch) =>
        System.IO.Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}-epoch{epoch:000}.safetensors"));

    /// <inheritdoc/>
    public void OnRunStart(IKilnModel model, TrainerOptions options) => _saved.Clear();

    /// <inheritdoc/>
    public ObserverVerdict OnEpochEnd(IKilnModel model, EpochMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(metrics);
        if (!_epochs.Contains(metrics.Epoch)) return ObserverVerdict.Continue;
        System.IO.Directory.CreateDirectory(Directory);
        string path = PathFor(metrics.Epoch);
        var extra = new CheckpointMetadata();
        extra.Entries["epoch"] = metrics.Epoch.ToString(CultureInfo.InvariantCulture);
        Checkpoint.Save(model, path, extra);
        _saved.Add(new Snapshot(metrics.Epoch, path, metrics.ValidationAccuracy, metrics.ValidationLoss));
        return ObserverVerdict.Continue;
    }

    /// <summary>
    /// One model per saved snapshot (from <paramref name="create"/>, which must build the class that was trained), each loaded
    /// from its checkpoint, as an ensemble.
    /// </summary>
    public Ensemble LoadEnsemble(Func<IKilnModel> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (_saved.Count == 0) throw new InvalidOperationException("No snapshot has been saved yet: train first (the epochs were " + string.Join(", ", Epochs) + ").");
        var models = new List<IKilnModel>(_saved.Count);
        foreach (Snapshot s in _saved)
        {
            IKilnModel model = create() ?? throw new InvalidOperationException("The model factory returned null.");
            Checkpoint.Load(model, s.Path);
            models.Add(model);
        }
        return new Ensemble(models);
    }
}
