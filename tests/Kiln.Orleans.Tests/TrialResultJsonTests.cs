using System;
using System.Collections.Generic;
using Kiln.Tuning;

namespace Kiln.Orleans.Tests;

public sealed class TrialResultJsonTests
{
    private static readonly Trial Trial = new(4, "coarse", new HyperParameters([new("lr", 0.1 + 0.2), new("units", 64)]), 0xFFFF_FFFF_FFFF_FFF1UL);

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.0)]
    [InlineData(5e-324)]
    [InlineData(0.30000000000000004)]
    public void A_result_comes_back_bit_for_bit(double score)
    {
        var result = new TrialResult
        {
            Trial = Trial, Status = TrialStatus.Aborted, Score = score, Note = "loss \"exploded\"", Seconds = 1.0 / 3,
            Metrics = [new("val_loss", score), new("epochs", 3), new("x", double.NegativeInfinity)],
        };
        TrialResult back = TrialResultJson.Read(TrialResultJson.Write(result), Trial);
        Assert.True(result.SameOutcome(back));
        Assert.Equal(BitConverter.DoubleToInt64Bits(score), BitConverter.DoubleToInt64Bits(back.Score));
        Assert.Equal(BitConverter.DoubleToInt64Bits(1.0 / 3), BitConverter.DoubleToInt64Bits(back.Seconds));
    }

    [Fact]
    public void A_result_read_for_another_trial_is_refused()
    {
        string json = TrialResultJson.Write(TrialResult.Completed(Trial, 1));
        var other = Trial with { Id = 5 };
        var error = Assert.Throws<System.IO.InvalidDataException>(() => TrialResultJson.Read(json, other));
        Assert.Contains("trial 4", error.Message);
    }

    [Fact]
    public void The_scheduler_refuses_a_trial_list_with_a_repeated_id_before_calling_the_cluster()
    {
        var scheduler = new OrleansTrialScheduler(NoCluster(), "s");
        var error = Assert.Throws<ArgumentException>(() => scheduler.Run([Trial, Trial with { Stage = "fine" }], new DelegateTrialRunner((t, _) => TrialResult.Completed(t, 0))));
        Assert.Contains("Trial id 4 appears twice", error.Message);
        Assert.Throws<ArgumentException>(() => new OrleansTrialScheduler(NoCluster(), "a/b"));
    }

    /// <summary>A grain factory that must not be used.</summary>
    public class NoClusterProxy : System.Reflection.DispatchProxy
    {
        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args) =>
            throw new InvalidOperationException($"The cluster was called ({targetMethod?.Name}).");
    }

    private static global::Orleans.IGrainFactory NoCluster() => System.Reflection.DispatchProxy.Create<global::Orleans.IGrainFactory, NoClusterProxy>();
}
