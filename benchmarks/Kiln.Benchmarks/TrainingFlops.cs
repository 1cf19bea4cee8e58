namespace Kiln.Benchmarks;

/// <summary>
/// Floating-point operations of one training sample of the benchmark models, the numerator of the efficiency
/// figures (benchmarks/README.md, "Efficiency"). Only the products are counted, as dense or direct-convolution
/// multiply-adds (2 FLOP each); BatchNorm, activations, pooling, the loss and Adam are not. Per layer with M
/// multiply-adds per sample in its forward product: forward M, weight gradient M, input gradient M, except for the
/// first layer, whose input gradient neither Kiln nor the peers compute. A convolution counts as the direct
/// convolution would (output positions × output channels × input channels × kernel area), whatever algorithm runs it.
/// </summary>
internal static class TrainingFlops
{
    /// <summary>FLOP per training sample of <c>--model</c> <paramref name="model"/> ("mlp" or "cnn").</summary>
    public static long PerSample(string model) => model == "cnn" ? Training(CnnMacs) : Training(MlpMacs);

    /// <summary>BenchMlp: Dense 784→256, 256→128, 128→10.</summary>
    private static readonly long[] MlpMacs = { 784L * 256, 256L * 128, 128L * 10 };

    /// <summary>
    /// BenchCnn: Conv 1→16 5×5 on 28×28 (pad 2), Conv 16→32 5×5 on 14×14 (pad 2), Dense 1568→128, Dense 128→10.
    /// </summary>
    private static readonly long[] CnnMacs =
    {
        Conv(outChannels: 16, inChannels: 1, kernel: 5, outSize: 28),
        Conv(outChannels: 32, inChannels: 16, kernel: 5, outSize: 14),
        32L * 7 * 7 * 128,
        128L * 10,
    };

    private static long Conv(int outChannels, int inChannels, int kernel, int outSize) =>
        (long)outChannels * outSize * outSize * inChannels * kernel * kernel;

    /// <summary>2 FLOP per multiply-add: forward + weight gradient of every layer, input gradient of all but the first.</summary>
    private static long Training(long[] macs)
    {
        long total = 0;
        for (int i = 0; i < macs.Length; i++)
            total += 2 * macs[i] * (i == 0 ? 2 : 3);
        return total;
    }
}
