using System;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using Kiln.Data;
using Kiln.Kernels;

namespace Kiln.Runtime.Tests;

/// <summary>
/// The runtime methods every training step runs, outside the generated code, are compiled optimised on their first
/// call (MethodImplOptions.AggressiveOptimization) instead of tier 0, an instrumented tier and tier 1 during the first
/// epoch (docs/perf/first-epoch.md). The generated side is checked by Kiln.Generator.Tests' HotMethodTests.
/// </summary>
public class HotRuntimeMethodTests
{
    public static TheoryData<Type, string> PerStepMethods => new()
    {
        // The step's entry points, input copy and stage dispatch.
        { typeof(KilnModel), "TrainStep" },
        { typeof(KilnModel), "Train" },
        { typeof(KilnModel), "BeginBatch" },
        { typeof(KilnModel), "CopyInputs" },
        { typeof(KilnModel), "CopyLabels" },
        { typeof(KilnModel), "Execute" },
        { typeof(KilnModel), "RunStage" },
        { typeof(KilnModel), "Kiln.Kernels.IParallelStages.RunStage" },
        { typeof(KilnModel), "Predict" },
        { typeof(KilnModel), "Evaluate" },
        { typeof(DataGuard), "CopyTrainingInputs" },
        { typeof(Batcher), "CopyRows" },
        // GEMM's span entry points and the tile dispatch under them.
        { typeof(Gemm), "Forward" },
        { typeof(Gemm), "BackwardInput" },
        { typeof(Gemm), "BackwardWeights" },
        { typeof(GemmKernel<Ops512, System.Runtime.Intrinsics.Vector512<float>>), "TileCols" },
        { typeof(GemmKernel<Ops512, System.Runtime.Intrinsics.Vector512<float>>), "TallCols" },
        // The shallow convolutions' training weight gradient and its per-sample sum.
        { typeof(ShallowConvTraining), "BackwardWeights" },
        { typeof(ShallowConvTraining), "SumSamples" },
        // BatchNorm's training passes (statistics, normalisation, backward) and their serial combines.
        { typeof(BatchNorm), "SumColumns" },
        { typeof(BatchNorm), "SquaredDeviations" },
        { typeof(BatchNorm), "SquaredDeviationColumns" },
        { typeof(BatchNorm), "CombineMean" },
        { typeof(BatchNorm), "CombineVariance" },
        { typeof(BatchNorm), "Normalize" },
        { typeof(BatchNorm), "NormalizeColumns" },
        { typeof(BatchNorm), "BackwardSums" },
        { typeof(BatchNorm), "BlockBackwardColumns" },
        { typeof(BatchNorm), "CombineBackwardSums" },
        { typeof(BatchNorm), "BackwardRowRange" },
        { typeof(BatchNorm), "BackwardRowColumns" },
        // The optimiser update, applied per weight panel as the gradient is complete.
        { typeof(OptimizerStep), "Apply" },
        { typeof(OptimizerStep), "Run" },
        { typeof(UpdatePanelSink<Avx512Path>), "PanelDone" },
    };

    [Theory]
    [MemberData(nameof(PerStepMethods))]
    public void Per_step_runtime_methods_are_compiled_optimised_from_the_first_call(Type type, string name)
    {
        MethodInfo[] overloads = type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => m.Name == name).ToArray();
        Assert.NotEmpty(overloads);
        foreach (MethodInfo m in overloads)
            Assert.True((m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0,
                $"{type.Name}.{m}: runs every training step but is not marked AggressiveOptimization.");
    }

    [Fact]
    public void Construction_and_checkpoint_access_keep_normal_tiering()
    {
        foreach (string name in new[] { "InitializeParameters", "SetLearningRateScale", "TensorData" })
            foreach (MethodInfo m in typeof(KilnModel).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance).Where(m => m.Name == name))
                Assert.True((m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) == 0, $"KilnModel.{m} runs rarely and should tier normally.");
    }
}
