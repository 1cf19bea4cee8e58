using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text.Json;
using Kiln.Benchmarks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Kiln.Peers;

/// <summary>
/// TorchSharp (libtorch 2.10 CPU, MKL and oneDNN) on the benchmark models, in two configurations:
/// <list type="bullet">
/// <item><c>eager</c>: what the TorchSharp documentation shows: an <c>nn.Sequential</c>, <c>torch.optim.Adam</c>,
/// a dispose scope per step; inference in eval mode under <c>no_grad</c> (as benchmarks/peers/torch_mlp.py does);
/// libtorch's intra-op threads set to <c>--threads</c>, everything else default.</item>
/// <item><c>best</c>: what an expert adds: one inter-op thread, glibc's malloc tunables raised (set by Program
/// before the process starts its allocator), inference under <c>inference_mode</c>, and alternatives measured
/// side by side with the faster reported per figure: for the CNN's training, channels-last weights and inputs
/// (oneDNN's preferred layout) against the default layout; for inference, the eager module against a TorchScript
/// function of the eval-mode graph with BatchNorm folded into the preceding layer (what <c>torch.jit.freeze</c>
/// does; TorchSharp exposes neither tracing nor freezing), channels-last for the CNN.</item>
/// </list>
/// </summary>
internal static class TorchPeer
{
    private const int Seed = 42;

    /// <summary>
    /// TorchScript of the eval-mode forward passes (BatchNorm folded, Dense weights pre-transposed [in, out]) and of
    /// the channels-last conversion TorchSharp has no API for (2 is c10::MemoryFormat::ChannelsLast: the script is
    /// compiled without Python, where <c>torch.channels_last</c> has no name).
    /// </summary>
    private const string Script = """
        def mlp(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, w3: Tensor, b3: Tensor) -> Tensor:
            h = torch.relu(torch.addmm(b1, x, w1))
            h = torch.relu(torch.addmm(b2, h, w2))
            return torch.softmax(torch.addmm(b3, h, w3), 1)

        def cnn(x: Tensor, c1w: Tensor, c1b: Tensor, c2w: Tensor, c2b: Tensor, d1w: Tensor, d1b: Tensor, d2w: Tensor, d2b: Tensor) -> Tensor:
            h = torch.max_pool2d(torch.relu(torch.conv2d(x, c1w, c1b, [1, 1], [2, 2])), [2, 2])
            h = torch.max_pool2d(torch.relu(torch.conv2d(h, c2w, c2b, [1, 1], [2, 2])), [2, 2])
            h = torch.relu(torch.addmm(d1b, torch.flatten(h, 1), d1w))
            return torch.softmax(torch.addmm(d2b, h, d2w), 1)

        def to_channels_last(x: Tensor) -> Tensor:
            return x.contiguous(memory_format=2)
        """;

    public static PeerResult Run(AlignedFloats x, int[] y, PeerOptions o)
    {
        bool best = o.Config == "best";
        if (best) torch.set_num_interop_threads(1); // before any inter-op work starts the pool
        torch.set_num_threads(o.Threads);
        using var script = torch.jit.compile(Script + "\n"); // the TorchScript parser wants the last line ended

        // The data as one tensor each (copied once, as torch_mlp.py holds them); batches are views of it.
        var xs = torch.tensor(x.Span.ToArray(), [y.Length, BenchData.InputSize]);
        if (o.Cnn) xs = xs.view(y.Length, 1, 28, 28);
        var ys = torch.tensor(Array.ConvertAll(y, v => (long)v), [y.Length]);

        // Training: one variant in eager and for the MLP; the CNN's best configuration also tries channels-last.
        var trainVariants = best && o.Cnn ? new[] { false, true } : new[] { false };
        var train = new Dictionary<int, List<(string Variant, TrainResult Result)>>();
        foreach (int batch in (int[])[64, 256])
        {
            train[batch] = [];
            foreach (bool channelsLast in trainVariants)
            {
                Func<bool, float> step = TrainingStep(xs, ys, batch, o.Cnn, channelsLast ? script : null);
                train[batch].Add((channelsLast ? "channels_last" : "module", Measure.Training(step, batch, PeerOptions.LearningRate(batch), o)));
            }
        }

        // Inference: eval mode, BatchNorm statistics from four train-mode forward passes at batch 256.
        Sequential net = Build(o.Cnn);
        net.train();
        using (torch.no_grad())
            for (int i = 0; i < 4; i++)
                using (var scope = torch.NewDisposeScope()) net.forward(xs.narrow(0, i * 256, 256));
        net.eval();
        Tensor[] folded = Fold(net, o.Cnn);
        if (best && o.Cnn)
            for (int i = 0; i < 4; i += 2) folded[i] = ChannelsLast(script, folded[i]);

        var infer = new Dictionary<int, List<(string Variant, InferResult Result)>>();
        var scriptDiffs = new Dictionary<int, double>();
        foreach (int batch in (int[])[1, 256])
        {
            infer[batch] = [];
            Tensor xb = xs.narrow(0, 0, batch).contiguous();
            int runs = batch == 1 ? o.InferRuns : o.InferRuns256;
            int warmup = batch == 1 ? Math.Max(50, o.InferRuns / 10) : Math.Max(10, o.InferRuns256 / 10);
            using (best ? torch.inference_mode() : torch.no_grad())
            {
                infer[batch].Add(("module", Measure.Inference(() =>
                {
                    using var scope = torch.NewDisposeScope();
                    net.forward(xb).softmax(1);
                }, runs, warmup, o)));
                if (!best) continue;

                Tensor input = o.Cnn ? ChannelsLast(script, xb) : xb;
                var args = new object[folded.Length + 1];
                args[0] = input;
                for (int i = 0; i < folded.Length; i++) args[i + 1] = folded[i];
                string function = o.Cnn ? "cnn" : "mlp";
                infer[batch].Add(("torchscript", Measure.Inference(() =>
                {
                    using var scope = torch.NewDisposeScope();
                    script.invoke<Tensor>(function, args);
                }, runs, warmup, o)));

                // The TorchScript function must compute what the module computes.
                using var check = torch.NewDisposeScope();
                Tensor a = script.invoke<Tensor>(function, args), e = net.forward(xb).softmax(1);
                scriptDiffs[batch] = (a - e).abs().max().item<float>();
                if (!(scriptDiffs[batch] <= 1e-4))
                    throw new InvalidOperationException($"TorchScript output differs from the module's by {scriptDiffs[batch]:G3} at batch {batch}.");
            }
        }

        var t64 = Fastest(train[64], r => -r.SamplesPerSecond);
        var t256 = Fastest(train[256], r => -r.SamplesPerSecond);
        var i1 = Fastest(infer[1], r => r.MedianUs);
        var i256 = Fastest(infer[256], r => r.MedianUs);
        string version = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "?";
        string config = best
            ? $"TorchSharp {version} (libtorch 2.10 CPU) best: set_num_threads({o.Threads}), set_num_interop_threads(1), " +
              "MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ raised, inference_mode; " +
              (o.Cnn ? "training default vs channels-last, " : "") +
              "inference eager module vs TorchScript (BatchNorm folded" + (o.Cnn ? ", channels-last" : "") + "); faster per figure " +
              $"(train b64: {t64.Variant}, b256: {t256.Variant}; infer b1: {i1.Variant}, b256: {i256.Variant})"
            : $"TorchSharp {version} (libtorch 2.10 CPU) eager: nn.Sequential + optim.Adam, dispose scope per step, set_num_threads({o.Threads}), " +
              "inference eval() + no_grad, malloc and everything else default";

        return new PeerResult
        {
            Framework = "torchsharp",
            Config = config,
            Train64 = t64.Result.SamplesPerSecond,
            Train256 = t256.Result.SamplesPerSecond,
            Infer1Us = i1.Result.MedianUs,
            Infer256Us = i256.Result.MedianUs,
            Details = w =>
            {
                t64.Result.Write(w, "train_b64", t64.Variant);
                t256.Result.Write(w, "train_b256", t256.Variant);
                i1.Result.Write(w, "infer_b1", i1.Variant);
                i256.Result.Write(w, "infer_b256", i256.Variant);
                w.WriteStartObject("variants");
                foreach ((int batch, var list) in train)
                    foreach ((string v, TrainResult r) in list) w.WriteNumber($"train_b{batch}_{v}_samples_per_s", Math.Round(r.SamplesPerSecond, 1));
                foreach ((int batch, var list) in infer)
                    foreach ((string v, InferResult r) in list) w.WriteNumber($"infer_b{batch}_{v}_median_us", Math.Round(r.MedianUs, 3));
                w.WriteEndObject();
                w.WriteStartObject("torchscript_max_abs_diff_vs_module");
                foreach ((int batch, double d) in scriptDiffs) w.WriteNumber($"b{batch}", d);
                w.WriteEndObject();
                w.WriteString("torchsharp_version", version);
                w.WriteNumber("torch_num_threads", torch.get_num_threads());
                w.WriteNumber("torch_num_interop_threads", torch.get_num_interop_threads());
                LibTorch.Write(w);
            },
        };
    }

    private static (string Variant, T Result) Fastest<T>(List<(string Variant, T Result)> list, Func<T, double> cost)
    {
        var best = list[0];
        foreach (var item in list)
            if (cost(item.Result) < cost(best.Result)) best = item;
        return best;
    }

    /// <summary>A fresh model (seeded) with its optimiser and a closure doing one Adam step on the next batch.</summary>
    private static Func<bool, float> TrainingStep(Tensor xs, Tensor ys, int batch, bool cnn, torch.jit.CompilationUnit? channelsLast)
    {
        Sequential net = Build(cnn);
        if (channelsLast is not null)
            foreach (var (name, conv) in net.named_modules())
                if (conv is Conv2d c)
                    using (torch.no_grad()) c.weight!.set_(ChannelsLast(channelsLast, c.weight!));
        net.train();
        var adam = torch.optim.Adam(net.parameters(), lr: PeerOptions.LearningRate(batch), beta1: 0.9, beta2: 0.999, eps: 1e-8);
        long count = ys.shape[0] / batch;
        var batches = new (Tensor X, Tensor Y)[count];
        for (int b = 0; b < count; b++)
        {
            Tensor xb = xs.narrow(0, b * batch, batch);
            batches[b] = (channelsLast is null ? xb : ChannelsLast(channelsLast, xb), ys.narrow(0, b * batch, batch));
        }
        int next = 0;
        return read =>
        {
            using var scope = torch.NewDisposeScope();
            (Tensor xb, Tensor yb) = batches[next++ % count];
            adam.zero_grad();
            Tensor loss = F.cross_entropy(net.forward(xb), yb);
            loss.backward();
            adam.step();
            return read ? loss.item<float>() : float.NaN;
        };
    }

    private static Tensor ChannelsLast(torch.jit.CompilationUnit script, Tensor t) => script.invoke<Tensor>("to_channels_last", t);

    /// <summary>
    /// The benchmark model as torch_mlp.py / torch_cnn.py build it: He (Kaiming) normal, fan-in, on the layers
    /// followed by ReLU, Glorot uniform on the output layer, zero biases; BatchNorm ε 1e-5, momentum 0.1.
    /// </summary>
    private static Sequential Build(bool cnn)
    {
        torch.manual_seed(Seed);
        Sequential net = cnn
            ? nn.Sequential(
                nn.Conv2d(1, 16, 5, padding: 2), nn.BatchNorm2d(16, eps: 1e-5, momentum: 0.1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 5, padding: 2), nn.BatchNorm2d(32, eps: 1e-5, momentum: 0.1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
            : nn.Sequential(
                nn.Linear(784, 256), nn.BatchNorm1d(256, eps: 1e-5, momentum: 0.1), nn.ReLU(), nn.Dropout(0.2),
                nn.Linear(256, 128), nn.BatchNorm1d(128, eps: 1e-5, momentum: 0.1), nn.ReLU(), nn.Linear(128, 10));
        var weighted = new List<(Tensor Weight, Tensor Bias)>();
        foreach (var (_, m) in net.named_children())
        {
            if (m is Linear l) weighted.Add((l.weight!, l.bias!));
            else if (m is Conv2d c) weighted.Add((c.weight!, c.bias!));
        }
        using (torch.no_grad())
            for (int i = 0; i < weighted.Count; i++)
            {
                if (i < weighted.Count - 1) nn.init.kaiming_normal_(weighted[i].Weight, mode: nn.init.FanInOut.FanIn, nonlinearity: nn.init.NonlinearityType.ReLU);
                else nn.init.xavier_uniform_(weighted[i].Weight);
                nn.init.zeros_(weighted[i].Bias);
            }
        return net;
    }

    /// <summary>
    /// The eval-mode parameters with each BatchNorm folded into the layer before it (w·γ/√(σ²+ε), (b − μ)·γ/√(σ²+ε) + β),
    /// Dense weights transposed to [in, out] for addmm: the TorchScript function's arguments after the input.
    /// </summary>
    private static Tensor[] Fold(Sequential net, bool cnn)
    {
        var children = new List<nn.Module>();
        foreach (var (_, m) in net.named_children()) children.Add(m);
        var result = new List<Tensor>();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < children.Count; i++)
        {
            (Tensor w, Tensor b) = children[i] switch
            {
                Linear l => (l.weight!.detach().clone(), l.bias!.detach().clone()),
                Conv2d c => (c.weight!.detach().clone(), c.bias!.detach().clone()),
                _ => (null!, null!),
            };
            if (w is null) continue;
            if (i + 1 < children.Count && children[i + 1] is BatchNorm1d or BatchNorm2d)
            {
                var bn = (BatchNorm)children[i + 1];
                Tensor scale = bn.weight! / (bn.running_var! + 1e-5).sqrt();
                w = w * (cnn && w.dim() == 4 ? scale.view(-1, 1, 1, 1) : scale.view(-1, 1));
                b = (b - bn.running_mean!) * scale + bn.bias!;
            }
            result.Add(w.dim() == 2 ? w.t().contiguous() : w.contiguous());
            result.Add(b.contiguous());
        }
        return [.. result];
    }

    /// <summary>What libtorch itself says about its CPU backends (read through its exported C++ entry points).</summary>
    private static class LibTorch
    {
        [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at13globalContextEv")]
        private static extern IntPtr GlobalContext();

        [DllImport("libtorch_cpu.so", EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
        [return: MarshalAs(UnmanagedType.U1)]
        private static extern bool UserEnabledMkldnn(IntPtr context);

        [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context9hasMKLDNNEv")]
        [return: MarshalAs(UnmanagedType.U1)]
        private static extern bool HasMkldnn();

        [DllImport("libtorch_cpu.so", EntryPoint = "_ZN2at7Context6hasMKLEv")]
        [return: MarshalAs(UnmanagedType.U1)]
        private static extern bool HasMkl();

        public static void Write(Utf8JsonWriter w)
        {
            try
            {
                w.WriteBoolean("libtorch_has_mkl", HasMkl());
                w.WriteBoolean("libtorch_has_mkldnn", HasMkldnn());
                w.WriteBoolean("libtorch_mkldnn_enabled", UserEnabledMkldnn(GlobalContext()));
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                w.WriteString("libtorch_backends", $"unknown ({e.GetType().Name})");
            }
        }
    }
}
