using System;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using Kiln.Data;
using Kiln.Orleans;
using Kiln.Samples.Recipe;
using Kiln.Training;
using Kiln.Tuning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;
using StackExchange.Redis;

namespace Kiln.Samples.DistributedSearch;

/// <summary>Where the cluster keeps its membership and the search state.</summary>
/// <param name="Redis">A Redis endpoint (host:port) for clustering and storage, or null for localhost clustering and memory storage.</param>
/// <param name="ClusterId">This run's cluster (a fresh one per run keeps old silos out of the membership view).</param>
internal sealed record ClusterSettings(string? Redis, string ClusterId)
{
    /// <summary>Fixed: grain storage is keyed by the service, so a later cluster of the same service finds the stored searches.</summary>
    public const string ServiceId = "kiln-distributed-search";

    public const int SiloPort = 11111, GatewayPort = 30000;

    public void ConfigureSilo(ISiloBuilder silo, int index)
    {
        silo.Configure<ClusterOptions>(o => { o.ClusterId = ClusterId; o.ServiceId = ServiceId; });
        silo.Configure<SiloOptions>(o => o.SiloName = $"silo-{index}");
        if (Redis is { } redis)
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            silo.AddRedisGrainStorage(KilnOrleans.StorageName, (global::Orleans.Persistence.RedisStorageOptions o) => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
            silo.ConfigureEndpoints(IPAddress.Loopback, SiloPort + index, GatewayPort + index);
        }
        else
        {
            // Development clustering: silo-0 keeps the membership table, so it is the one silo that must stay up.
            silo.UseLocalhostClustering(SiloPort + index, GatewayPort + index, new IPEndPoint(IPAddress.Loopback, SiloPort), ServiceId, ClusterId);
            silo.AddMemoryGrainStorage(KilnOrleans.StorageName);
        }
        // Declare a dead silo dead within a few seconds (the defaults wait longer, which suits a busy production network).
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.MinProbeTimeout = TimeSpan.FromMilliseconds(500);
            o.ExtendProbeTimeoutDuringDegradation = false;
            o.NumMissedProbesLimit = 2;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        });
    }

    public void ConfigureClient(IClientBuilder client, int silos)
    {
        client.Configure<ClusterOptions>(o => { o.ClusterId = ClusterId; o.ServiceId = ServiceId; });
        // A call sent through a silo that dies waits this long before it is retried (the default is 30 s); every call
        // the scheduler makes is cheap and safe to repeat.
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(5));
        if (Redis is { } redis) client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(redis));
        else
        {
            var gateways = new int[Math.Max(1, silos)];
            for (int i = 0; i < gateways.Length; i++) gateways[i] = GatewayPort + i;
            client.UseLocalhostClustering(gateways, ServiceId, ClusterId);
        }
    }
}

/// <summary>What a silo process needs to build the recipe's runner: the epochs of each stage and its trial slots.</summary>
internal sealed record SiloSettings(int Index, int Slots, int CoarseEpochs, int FineEpochs, ClusterSettings Cluster);

/// <summary>A silo process: the recipe's trial runner on the embedded digits, registered the same way on every silo.</summary>
internal static class Silo
{
    /// <summary>The runner name of trials that do nothing (to measure the scheduling cost alone).</summary>
    public const string NoopRunner = "noop";

    public static async Task<int> RunAsync(SiloSettings settings, CancellationToken stop)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo =>
        {
            settings.Cluster.ConfigureSilo(silo, settings.Index);
            silo.AddKilnTrialRunner(_ => CreateRunner(settings), o => o.Slots = settings.Slots);
            silo.AddKilnTrialRunner(NoopRunner, _ => new DelegateTrialRunner((trial, _) => TrialResult.Completed(trial, trial.Id)));
        });
        using IHost host = builder.Build();
        await host.StartAsync(stop);
        Console.WriteLine($"ready silo-{settings.Index} pid {Environment.ProcessId} slots {settings.Slots}");
        try { await Task.Delay(Timeout.Infinite, stop); }
        catch (OperationCanceledException) { }
        await host.StopAsync(CancellationToken.None);
        return 0;
    }

    /// <summary>The recipe's runner (Samples/Recipe): data split and standardised as there, coarse and fine trials trained for their stage's epochs.</summary>
    public static ITrialRunner CreateRunner(SiloSettings settings)
    {
        DataSplit raw = EmbeddedData.DigitsSplit(0.8, seed: 0);
        DataSplit fit = raw.Train.Split(0.8, seed: 1);
        var standardizer = new Standardizer().Fit(fit.Train);
        return new ModelTrialRunner(_ => new RecipeNet(), standardizer.Transform(fit.Train), standardizer.Transform(fit.Test),
            new TrainerOptions { BatchSize = 32, ValidateEveryEpoch = false })
        {
            Configure = (trial, options) => options with { Epochs = trial.Stage == "coarse" ? settings.CoarseEpochs : settings.FineEpochs },
        };
    }
}
