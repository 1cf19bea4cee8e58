using System;
using System.Collections.Generic;
using Kiln;
using Kiln.Tests.Shared;

namespace Kiln.Tuning.Tests;

/// <summary>A real model whose TrainStep reports scripted losses (step i reports <c>loss(i)</c>), for the early-abort paths.</summary>
internal sealed class ScriptedLossModel(IKilnModel inner, Func<long, float> loss) : DelegatingModel(inner)
{
    private long _steps;

    public override float TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batch)
    {
        Inner.TrainStep(inputs, labels, batch);
        return loss(_steps++);
    }

    public override string ModelName => "Scripted" + Inner.ModelName;
}
