using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Kiln.Data;
using Kiln.Reports;
using Kiln.Runtime.Tests;

namespace Kiln.Training.Tests;

/// <summary>
/// Renders a real run's report.html in headless Chromium (Debian package <c>chromium</c>) and checks the DOM after
/// rendering and the screenshot. Without Chromium the test fails with the install command: CI installs it.
/// </summary>
public class ReportRenderTests
{
    /// <summary>The browser: <c>KILN_CHROMIUM</c>, else <c>chromium</c>, <c>chromium-browser</c> or <c>google-chrome</c> on PATH.</summary>
    private static string FindChromium()
    {
        if (Environment.GetEnvironmentVariable("KILN_CHROMIUM") is { Length: > 0 } configured) return configured;
        string[] dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in new[] { "chromium", "chromium-browser", "google-chrome" })
            foreach (string dir in dirs)
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        Assert.Fail("Headless Chromium is needed to render the training report but was not found on PATH. " +
                    "Install the Debian package: apt-get install -y chromium (or set KILN_CHROMIUM to a Chrome/Chromium binary).");
        return "";
    }

    private static (int Exit, string Stdout, string Stderr) RunChromium(string chromium, string profile, params string[] args)
    {
        var psi = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", $"--user-data-dir={profile}" }.Concat(args))
            psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{chromium} did not finish within 120 s.");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Report_renders_in_headless_chromium_with_its_charts()
    {
        string chromium = FindChromium();
        DataSplit s = EmbeddedData.DigitsSplit();
        var st = new Standardizer().Fit(s.Train);
        Dataset train = st.Transform(s.Train), test = st.Transform(s.Test);
        using var tmp = new TempDirectory();
        string dir = Path.Combine(tmp.Path, "run");
        RunSummary run = Trainer.Fit(new DigitsReportMlp(), train, test, new TrainerOptions
        {
            Epochs = 4, BatchSize = 32, TrainAccuracySamples = 500, RunDirectory = dir, UpdateRatioEverySteps = 5,
            EarlyStopping = new EarlyStopping { Metric = TrainingMetric.ValidationAccuracy, Patience = 3 },
            ReportFindings = () => [new Kiln.Doctor.Finding("KLN-D009", Kiln.Doctor.Severity.Warning, "relu0", "72% of relu0's units never fire.", "Lower the learning rate.", 0.72, 0.7)],
        });
        string report = Path.Combine(dir, "report.html");
        string url = new Uri(report).AbsoluteUri;

        (int exit, string dom, string err) = RunChromium(chromium, Path.Combine(tmp.Path, "profile"), "--dump-dom", url);
        Assert.True(exit == 0, $"chromium --dump-dom exited with {exit}: {err}");

        // Seven line charts (step loss, epoch loss, accuracy, learning rate, update ratios, layer mean/std) plus two histograms per probed layer.
        int histograms = Regex.Matches(dom, "<svg[^>]*class=\"histogram\"").Count;
        int charts = Regex.Matches(dom, "<svg[^>]*class=\"chart\"").Count;
        Assert.Equal(6, charts);
        Assert.True(histograms >= 4 && histograms % 2 == 0, $"{histograms} histograms");
        foreach (string title in new[] { "Training loss per step", "Loss per epoch", "Accuracy per epoch", "Learning rate", "Update/weight ratio per tensor", "Layer output mean and standard deviation" })
            Assert.Contains($">{title}</text>", dom);
        Assert.Contains("KLN-D009", dom);
        Assert.Contains($"(end, best epoch {run.BestEpoch})", dom);   // the end probe says the best epoch was restored
        int steps = run.History.Sum(h => h.Batches);
        int longest = Regex.Matches(dom, "<polyline[^>]*points=\"([^\"]*)\"").Max(m => m.Groups[1].Value.Split(' ').Length);
        Assert.Equal(steps, longest);                              // the raw loss curve: a point per step
        Assert.DoesNotContain("<script", dom);

        string png = Path.Combine(tmp.Path, "report.png");
        (exit, _, err) = RunChromium(chromium, Path.Combine(tmp.Path, "profile"), $"--screenshot={png}", "--window-size=1200,3000", url);
        Assert.True(exit == 0 && File.Exists(png), $"chromium --screenshot exited with {exit}: {err}");
        byte[] bytes = File.ReadAllBytes(png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes.Take(4).ToArray());
        // IHDR: width and height, big-endian, at bytes 16..23.
        Assert.Equal(1200, (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19]);
        Assert.Equal(3000, (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23]);
        Assert.True(bytes.Length > 50_000, $"a {bytes.Length}-byte screenshot is too small to hold the charts");
    }
}
