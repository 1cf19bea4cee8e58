using System;
using System.Diagnostics;
using System.IO;
using System.Reflection;
using System.Threading;

namespace Kiln.Training;

/// <summary>
/// Warns once per process, on standard error, when a model is trained from an assembly compiled without
/// optimisations (a Debug build), or with a Debug build of Kiln.Runtime itself (docs/training.md, "Debug builds"). The C# compiler marks such an assembly with <see cref="DebuggableAttribute"/> and
/// <see cref="DebuggableAttribute.IsJITOptimizerDisabled"/>; that is what is read here, so the check matches the
/// build's <c>Optimize</c> setting whatever the configuration is called. <c>KILN_NO_DEBUG_WARNING=1</c> silences it.
/// </summary>
internal static class DebugBuildNotice
{
    /// <summary>Environment variable that turns the warning off when set to 1 or true.</summary>
    public const string EnvironmentVariable = "KILN_NO_DEBUG_WARNING";

    private static int s_warned;

    /// <summary>True when <paramref name="assembly"/> was compiled with JIT optimisations disabled.</summary>
    public static bool IsUnoptimized(Assembly assembly) =>
        assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true;

    /// <summary>
    /// The warning for <paramref name="model"/>, or null when its assembly and Kiln.Runtime are both optimised or the
    /// variable silences it. An unoptimised Kiln.Runtime (Kiln built from source in Debug) costs far more than an
    /// unoptimised model assembly (only the generated code), and the message says which it is.
    /// </summary>
    public static string? Message(IKilnModel model, string? environmentValue) =>
        Message(model, environmentValue, IsUnoptimized(typeof(DebugBuildNotice).Assembly));

    /// <summary><see cref="Message(IKilnModel, string?)"/> with the runtime's own optimisation state given (tests).</summary>
    internal static string? Message(IKilnModel model, string? environmentValue, bool runtimeUnoptimized)
    {
        if (environmentValue is "1" or "true" or "True" or "TRUE") return null;
        Assembly assembly = model.GetType().Assembly;
        bool modelUnoptimized = IsUnoptimized(assembly);
        if (!modelUnoptimized && !runtimeUnoptimized) return null;
        string what = (modelUnoptimized, runtimeUnoptimized) switch
        {
            (true, true) => $"{assembly.GetName().Name} and Kiln.Runtime were compiled without optimisations (a Debug build): training runs many times slower",
            (false, true) => "Kiln.Runtime was compiled without optimisations (a Debug build): training runs many times slower",
            _ => $"{assembly.GetName().Name} was compiled without optimisations (a Debug build): its generated model code runs unoptimised and training can be slower",
        };
        return $"warning: Kiln is training {model.ModelName}; {what}. Build with -c Release (dotnet run -c Release) for real " +
               $"training runs; set {EnvironmentVariable}=1 to hide this message.";
    }

    /// <summary>Writes <see cref="Message(IKilnModel, string?)"/> to <paramref name="error"/> (default: standard error) the first time it applies in this process.</summary>
    public static void WarnOnce(IKilnModel model, TextWriter? error = null)
    {
        if (Volatile.Read(ref s_warned) != 0) return;
        string? message = Message(model, Environment.GetEnvironmentVariable(EnvironmentVariable));
        if (message is null || Interlocked.Exchange(ref s_warned, 1) != 0) return;
        (error ?? Console.Error).WriteLine(message);
    }
}
