using System;
using System.Threading;
using Kiln.Tuning;

namespace Kiln.Orleans;

/// <summary>
/// A trial runner that saves its progress as it goes, so that a trial whose silo dies resumes from its last checkpoint on
/// another silo instead of starting over. Resuming must not change the result: a run resumed from any checkpoint must
/// return what the uninterrupted run returns (save everything the rest of the run depends on, such as the model, the
/// optimiser state and the position in the data order; see docs/checkpoints.md for Kiln models).
/// <see cref="ITrialRunner.Run"/> (used by the local schedulers) is a run with no checkpoint to resume from.
/// </summary>
public interface ICheckpointingTrialRunner : ITrialRunner
{
    /// <summary>Runs <paramref name="trial"/>, resuming from <see cref="TrialCheckpoints.Latest"/> when there is one.</summary>
    /// <param name="trial">The trial.</param>
    /// <param name="checkpoints">The last checkpoint of an earlier attempt, and where to save new ones.</param>
    /// <param name="cancellation">Fires when the search is cancelled or the silo stops.</param>
    TrialResult Run(Trial trial, TrialCheckpoints checkpoints, CancellationToken cancellation);
}

/// <summary>A trial's checkpoints: the one an earlier attempt left, and a way to save new ones.</summary>
public sealed class TrialCheckpoints
{
    private readonly Action<byte[]> _save;

    /// <param name="latest">The last saved state, or null to start from the beginning.</param>
    /// <param name="saves">How many saves had been made (0 when <paramref name="latest"/> is null).</param>
    /// <param name="save">Stores a new state.</param>
    public TrialCheckpoints(byte[]? latest, int saves, Action<byte[]> save)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(saves);
        _save = save ?? throw new ArgumentNullException(nameof(save));
        Latest = latest;
        Saves = saves;
    }

    /// <summary>Checkpoints that keep nothing: every run starts from the beginning (what the local schedulers use).</summary>
    public static TrialCheckpoints None { get; } = new(null, 0, _ => { });

    /// <summary>The state the last attempt saved, or null.</summary>
    public byte[]? Latest { get; }

    /// <summary>How many saves earlier attempts made (0 when starting from the beginning).</summary>
    public int Saves { get; }

    /// <summary>Saves <paramref name="state"/> as the trial's checkpoint (it replaces the previous one; the bytes are copied).</summary>
    public void Save(ReadOnlySpan<byte> state) => _save(state.ToArray());
}
