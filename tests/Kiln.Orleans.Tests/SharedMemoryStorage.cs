using System;
using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Tasks;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;

namespace Kiln.Orleans.Tests;

/// <summary>
/// Grain storage held in this test process, outside every silo: it plays the database that a cluster's storage provider
/// (Redis, ADO.NET) would be, so state survives a silo that is killed and a cluster that is stopped and started again.
/// States are stored serialised, so a reader never shares objects with a writer; ETags are checked as a real store does.
/// </summary>
internal sealed class SharedMemoryStorage(Serializer serializer) : IGrainStorage
{
    private static readonly ConcurrentDictionary<string, (byte[] Data, long Version)> Store = new();

    /// <summary>Forgets every stored state (a fresh database per test).</summary>
    public static void Clear() => Store.Clear();

    private static string Key(string stateName, GrainId grainId) => stateName + "|" + grainId.ToString();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (Store.TryGetValue(Key(stateName, grainId), out var entry))
        {
            grainState.State = serializer.Deserialize<T>(entry.Data);
            grainState.ETag = entry.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string key = Key(stateName, grainId);
        byte[] data = serializer.SerializeToArray(grainState.State);
        lock (Store)
        {
            long version = Store.TryGetValue(key, out var entry) ? entry.Version : 0;
            if (version != 0 && grainState.ETag != version.ToString(CultureInfo.InvariantCulture))
                throw new InconsistentStateException($"ETag mismatch for {key}: stored {version}, writer had {grainState.ETag}.");
            Store[key] = (data, version + 1);
            grainState.ETag = (version + 1).ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        Store.TryRemove(Key(stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
