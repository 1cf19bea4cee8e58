using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Reflection;
using System.Threading;

namespace Kiln.Samples.DistributedSearch;

/// <summary>A silo started as a child process of this sample (the same executable, <c>silo</c> command).</summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly ManualResetEventSlim _ready = new();

    private SiloProcess(string name, Process process)
    {
        Name = name;
        Process = process;
    }

    public string Name { get; }

    public Process Process { get; }

    public static SiloProcess Start(int index, int slots, int coarseEpochs, int fineEpochs, ClusterSettings cluster)
    {
        var args = new List<string>();
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this executable is unknown.");
        // Under `dotnet run` or `dotnet X.dll` the host is dotnet itself: pass it the assembly.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") args.Add(Assembly.GetEntryAssembly()!.Location);
        args.AddRange(["silo", "--index", Str(index), "--slots", Str(slots), "--coarse-epochs", Str(coarseEpochs), "--fine-epochs", Str(fineEpochs), "--cluster", cluster.ClusterId]);
        if (cluster.Redis is { } redis) args.AddRange(["--redis", redis]);
        var start = new ProcessStartInfo(host, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start silo {index}.");
        var silo = new SiloProcess($"silo-{index}", process);
        process.OutputDataReceived += (_, e) => { if (e.Data?.StartsWith("ready", StringComparison.Ordinal) == true) silo._ready.Set(); };
        process.ErrorDataReceived += (_, e) => { if (!string.IsNullOrWhiteSpace(e.Data)) Console.Error.WriteLine($"[{silo.Name}] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    public void WaitReady(TimeSpan timeout)
    {
        if (!_ready.Wait(timeout))
            throw new TimeoutException($"{Name} did not start within {timeout.TotalSeconds:F0} s{(Process.HasExited ? $" (it exited with code {Process.ExitCode})" : "")}.");
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.WaitForExit(5000);
        Process.Dispose();
        _ready.Dispose();
    }

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The Redis the cluster uses: one that already answers at the endpoint, or one this sample starts (when redis-server is
/// installed) with its data in a fixed folder under the temporary directory, append-only, so searches survive a restart.
/// </summary>
internal sealed class RedisServer : IDisposable
{
    private readonly Process? _process;

    private RedisServer(string endpoint, Process? process, string? directory)
    {
        Endpoint = endpoint;
        _process = process;
        Directory = directory;
    }

    public string Endpoint { get; }

    /// <summary>Whether this sample started the server (and stops it at the end).</summary>
    public bool Started => _process is not null;

    /// <summary>The data folder of a server this sample started.</summary>
    public string? Directory { get; }

    /// <summary>A Redis at <paramref name="endpoint"/>, started when none answers and <paramref name="start"/> allows it; null when there is none.</summary>
    public static RedisServer? Find(string endpoint, bool start)
    {
        (string host, int port) = Parse(endpoint);
        if (Answers(host, port)) return new RedisServer(endpoint, null, null);
        if (!start || FindOnPath("redis-server") is not { } server) return null;
        string dir = Path.Combine(Path.GetTempPath(), "kiln-distributed-search-redis");
        System.IO.Directory.CreateDirectory(dir);
        var info = new ProcessStartInfo(server, ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", host, "--dir", dir, "--appendonly", "yes", "--save", ""])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        Process process = Process.Start(info) ?? throw new InvalidOperationException("Could not start redis-server.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        for (int i = 0; i < 100 && !Answers(host, port); i++) Thread.Sleep(50);
        if (!Answers(host, port))
        {
            process.Kill();
            throw new InvalidOperationException($"redis-server started but does not answer at {endpoint}.");
        }
        return new RedisServer(endpoint, process, dir);
    }

    public void Dispose()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }

    private static (string Host, int Port) Parse(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        return colon < 0 ? (endpoint, 6379) : (endpoint[..colon], int.Parse(endpoint[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    private static bool Answers(string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            return client.ConnectAsync(host, port).Wait(TimeSpan.FromMilliseconds(300)) && client.Connected;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
