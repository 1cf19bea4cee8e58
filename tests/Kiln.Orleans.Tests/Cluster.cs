using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Kiln.Orleans.Tests;

/// <summary>How every test silo is built: the shared storage, both test runners, one trial slot, fast failure detection.</summary>
public sealed class SiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder silo)
    {
        silo.Services.AddGrainStorage(KilnOrleans.StorageName, (services, _) => new SharedMemoryStorage(services.GetRequiredService<Serializer>()));
        silo.AddKilnTrialRunner(Runners.Model, _ => Runners.CreateModelRunner(), o => { o.Slots = 1; o.IdlePoll = TimeSpan.FromMilliseconds(20); });
        silo.AddKilnTrialRunner(Runners.Stepping, _ => Runners.SharedStepping);
        // Declare a killed silo dead within a few seconds (the defaults take tens of seconds).
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromMilliseconds(500);
            o.NumMissedProbesLimit = 2;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
        });
    }
}

/// <summary>Starting and stopping test clusters.</summary>
internal static class Clusters
{
    public static async Task<TestCluster> StartAsync(int silos)
    {
        TestCluster cluster = new TestClusterBuilder((short)silos).AddSiloBuilderConfigurator<SiloConfigurator>().Build();
        await cluster.DeployAsync();
        return cluster;
    }
}
