using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Kiln.Tuning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;

namespace Kiln.Orleans;

/// <summary>
/// Registers Kiln's trial workers on a silo. Call <see cref="AddKilnTrialRunner(ISiloBuilder, string, Func{IServiceProvider, ITrialRunner}, Action{KilnWorkerOptions}?)"/>
/// the same way on every silo, and give the silos a grain storage provider named <see cref="StorageName"/>.
/// </summary>
/// <example>
/// <code>
/// builder.UseOrleans(silo => silo
///     .UseLocalhostClustering()
///     .AddMemoryGrainStorage(KilnOrleans.StorageName)
///     .AddKilnTrialRunner(_ => new ModelTrialRunner(_ => new RecipeNet(), train, validation, options)));
/// </code>
/// </example>
public static class KilnOrleans
{
    /// <summary>The name of the grain storage provider that holds searches, the directory and checkpoints: "kiln".</summary>
    public const string StorageName = "kiln";

    /// <summary>The runner name used when none is given: "default".</summary>
    public const string DefaultRunner = "default";

    /// <summary>
    /// Registers a trial runner under <paramref name="name"/> and starts this silo's trial workers (once, whatever the number
    /// of runners). <paramref name="create"/> runs once per silo, on the first trial that needs it, so data loading happens
    /// once per silo.
    /// </summary>
    /// <param name="silo">The silo being built.</param>
    /// <param name="name">The name the client's <see cref="OrleansTrialScheduler.Runner"/> asks for.</param>
    /// <param name="create">Builds the runner (model factory, data sets) from the silo's services.</param>
    /// <param name="configure">Adjusts the workers (concurrent trials, polling).</param>
    public static ISiloBuilder AddKilnTrialRunner(this ISiloBuilder silo, string name, Func<IServiceProvider, ITrialRunner> create, Action<KilnWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        IServiceCollection services = silo.Services;
        services.AddSingleton(new TrialRunnerRegistration(name, create));
        if (!services.Any(d => d.ServiceType == typeof(TrialRunners)))
        {
            services.AddSingleton<TrialRunners>();
            services.AddOptions<KilnWorkerOptions>();
            services.AddSingleton<IHostedService, TrialWorker>();
        }
        if (configure is not null) services.Configure(configure);
        return silo;
    }

    /// <summary>Registers <paramref name="create"/>'s runner under <see cref="DefaultRunner"/> (see the named overload).</summary>
    /// <param name="silo">The silo being built.</param>
    /// <param name="create">Builds the runner (model factory, data sets) from the silo's services.</param>
    /// <param name="configure">Adjusts the workers (concurrent trials, polling).</param>
    public static ISiloBuilder AddKilnTrialRunner(this ISiloBuilder silo, Func<IServiceProvider, ITrialRunner> create, Action<KilnWorkerOptions>? configure = null) =>
        AddKilnTrialRunner(silo, DefaultRunner, create, configure);

    /// <summary>The key of a trial grain: "search/trial".</summary>
    internal static string TrialKey(string search, int trialId) => search + "/" + trialId.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How a silo runs trials.</summary>
public sealed class KilnWorkerOptions
{
    /// <summary>Trials this silo runs at once, each single-threaded (default: its logical cores).</summary>
    public int Slots { get; set; } = Environment.ProcessorCount;

    /// <summary>How often an idle silo asks for work (default 100 ms). A busy worker asks again as soon as a trial ends.</summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>A runner factory registered on a silo.</summary>
internal sealed record TrialRunnerRegistration(string Name, Func<IServiceProvider, ITrialRunner> Create);

/// <summary>The silo's runners by name, each built once on first use.</summary>
internal sealed class TrialRunners
{
    private readonly Dictionary<string, Lazy<ITrialRunner>> _runners = new(StringComparer.Ordinal);

    public TrialRunners(IEnumerable<TrialRunnerRegistration> registrations, IServiceProvider services)
    {
        foreach (TrialRunnerRegistration r in registrations)
        {
            if (_runners.ContainsKey(r.Name))
                throw new InvalidOperationException($"Two Kiln trial runners are registered under the name '{r.Name}' on this silo.");
            _runners[r.Name] = new Lazy<ITrialRunner>(() => r.Create(services)
                ?? throw new InvalidOperationException($"The factory of the Kiln trial runner '{r.Name}' returned null."));
        }
    }

    /// <summary>Builds every runner that is not built yet.</summary>
    public void CreateAll()
    {
        foreach (Lazy<ITrialRunner> r in _runners.Values) _ = r.Value;
    }

    public ITrialRunner Get(string name, string silo) => _runners.TryGetValue(name, out Lazy<ITrialRunner>? r)
        ? r.Value
        : throw new InvalidOperationException(
            $"No Kiln trial runner named '{name}' is registered on silo {silo} (registered: {string.Join(", ", _runners.Keys.Select(k => $"'{k}'"))}). " +
            "Call AddKilnTrialRunner the same way on every silo.");
}
