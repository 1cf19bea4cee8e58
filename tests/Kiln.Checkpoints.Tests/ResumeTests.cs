using System;
using System.Collections.Generic;
using Xunit;

namespace Kiln.Checkpoints.Tests;

/// <summary>
/// Interrupted + resumed training equals uninterrupted training bit for bit. The checkpoint records the dropout
/// stream's position (noise_state), so a resume anywhere continues the same masks; the older protocols (restarting the
/// stream at every epoch, or an explicit noise seed that overrides the recorded position) still hold.
/// </summary>
public class ResumeTests
{
    private const int StepsPerEpoch = 4;

    private static ulong EpochSeed(int epoch) => 0xD1CE_0000UL + (ulong)epoch;

    private static void TrainEpochs(IKilnModel model, int fromEpoch, int toEpoch)
    {
        for (int e = fromEpoch; e < toEpoch; e++)
        {
            model.ResetNoise(EpochSeed(e));
            Support.Train(model, e * StepsPerEpoch, (e + 1) * StepsPerEpoch);
        }
    }

    [Theory]
    [InlineData(3, 5)]
    [InlineData(6, 2)]
    public void ResumeAnywhereContinuesTheDropoutStream(int n, int m)
    {
        using var dir = new TempDirectory();
        string path = dir.File("anywhere.safetensors");
        // No ResetNoise anywhere: the masks come from one stream that runs through the whole training.
        var a = new Net();
        Support.Train(a, 0, n);
        Checkpoint.Save(a, path);

        var b = new Net();
        Support.Train(b, 100, 107); // a different history and stream position
        Checkpoint.Load(b, path);
        Support.Train(b, n, n + m);

        var c = new Net();
        Support.Train(c, 0, n + m);
        Support.AssertSame(Support.Snapshot(c), Support.Snapshot(b));
        Assert.Equal(Support.PredictBits(c), Support.PredictBits(b));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(3, 2)]
    public void ResumeAtAnEpochBoundaryEqualsTheUninterruptedRun(int n, int m)
    {
        using var dir = new TempDirectory();
        string path = dir.File("epoch.safetensors");

        // A: train N epochs, save, continue M epochs on the same instance.
        var a = new Net();
        TrainEpochs(a, 0, n);
        Checkpoint.Save(a, path);
        TrainEpochs(a, n, n + m);

        // B: a fresh instance loads the checkpoint and continues M epochs.
        var b = new Net();
        Support.Train(b, 500, 503); // give it a different history first: Load must overwrite all of it
        Checkpoint.Load(b, path);
        Assert.Equal(n * StepsPerEpoch, b.Step);
        TrainEpochs(b, n, n + m);

        // C: uninterrupted N + M epochs.
        var c = new Net();
        TrainEpochs(c, 0, n + m);

        Dictionary<string, int[]> expected = Support.Snapshot(c);
        Support.AssertSame(expected, Support.Snapshot(a));
        Support.AssertSame(expected, Support.Snapshot(b));
        Assert.Equal(Support.PredictBits(c), Support.PredictBits(b));
        Assert.Equal((n + m) * StepsPerEpoch, b.Step);
    }

    [Fact]
    public void ResumeMidEpochWithARecordedNoiseSeedAndChangedLearningRates()
    {
        using var dir = new TempDirectory();
        string path = dir.File("mid.safetensors");
        const int n = 7, m = 6;
        const ulong noiseSeed = 0xABCDEF;

        var a = new Net();
        Support.Train(a, 0, n);
        a.LearningRate = 4e-4f;
        a.SetLearningRateScale("dense0", 0.5f);
        Checkpoint.Save(a, path, new CheckpointMetadata { NoiseSeed = noiseSeed });
        a.ResetNoise(noiseSeed); // the saving run continues from the recorded stream
        Support.Train(a, n, n + m);

        var b = new Net();
        Checkpoint.Load(b, path); // restores step, learning rate, scales and ResetNoise(noise_seed)
        Assert.Equal(4e-4f, b.LearningRate);
        Assert.Equal(0.5f, b.GetLearningRateScale("dense0"));
        Support.Train(b, n, n + m);

        var c = new Net();
        Support.Train(c, 0, n);
        c.LearningRate = 4e-4f;
        c.SetLearningRateScale("dense0", 0.5f);
        c.ResetNoise(noiseSeed);
        Support.Train(c, n, n + m);

        Dictionary<string, int[]> expected = Support.Snapshot(c);
        Support.AssertSame(expected, Support.Snapshot(a));
        Support.AssertSame(expected, Support.Snapshot(b));
    }

    [Fact]
    public void ResumeWithoutOptimizerStateDoesNotEqualTheUninterruptedRun()
    {
        // The control: dropping Adam's moments and step changes the trajectory, so the tests above do test them.
        using var dir = new TempDirectory();
        string path = dir.File("control.safetensors");
        var a = new Net();
        TrainEpochs(a, 0, 2);
        Checkpoint.Save(a, path);
        TrainEpochs(a, 2, 3);

        var b = new Net();
        Checkpoint.Load(b, path, new CheckpointLoadOptions { RestoreOptimizerState = false });
        TrainEpochs(b, 2, 3);
        Assert.NotEqual(Support.PredictBits(a), Support.PredictBits(b));
    }

    [Fact]
    public void SgdModelResumesBitForBit()
    {
        using var dir = new TempDirectory();
        string path = dir.File("sgd.safetensors");
        var a = new SgdNet();
        TrainEpochs(a, 0, 2);
        Checkpoint.Save(a, path);
        TrainEpochs(a, 2, 4);
        var b = new SgdNet();
        Checkpoint.Load(b, path);
        TrainEpochs(b, 2, 4);
        Support.AssertSame(Support.Snapshot(a), Support.Snapshot(b));
    }

    [Theory]
    [InlineData(IsaPath.Portable)]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Avx512)]
    public void EveryIsaPathResumesBitForBit(IsaPath isa)
    {
        if (!KilnIsa.IsSupported(isa)) return; // this CPU cannot run the path
        AssertResumes(() => new Net(isa), epochs: 2, more: 2);
    }

    [Fact]
    public void MultiThreadedModelResumesBitForBit() => AssertResumes(() => new WideNet(), epochs: 2, more: 1);

    private static void AssertResumes(Func<IKilnModel> create, int epochs, int more)
    {
        using var dir = new TempDirectory();
        string path = dir.File("resume.safetensors");
        IKilnModel a = create();
        TrainEpochs(a, 0, epochs);
        Checkpoint.Save(a, path);
        TrainEpochs(a, epochs, epochs + more);

        IKilnModel b = create();
        Checkpoint.Load(b, path);
        TrainEpochs(b, epochs, epochs + more);

        IKilnModel c = create();
        TrainEpochs(c, 0, epochs + more);

        Dictionary<string, int[]> expected = Support.Snapshot(c);
        Support.AssertSame(expected, Support.Snapshot(a));
        Support.AssertSame(expected, Support.Snapshot(b));
        Assert.Equal(Support.PredictBits(c), Support.PredictBits(b));
    }
}
