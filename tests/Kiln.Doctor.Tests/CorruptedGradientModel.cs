using System;
using Kiln.Tests.Shared;

namespace Kiln.Doctor.Tests;

/// <summary>
/// A generated model behind a wrapper whose TensorGradient of one tensor is wrong (scaled), as a buggy custom layer
/// would report it: the forward pass and loss are the real ones, so finite differences disagree with the gradient.
/// </summary>
internal sealed class CorruptedGradientModel(IKilnModel inner, string corruptTensor, float factor) : DelegatingModel(inner)
{
    private float[] _corrupted = [];

    public override Span<float> TensorGradient(TensorInfo tensor)
    {
        Span<float> g = Inner.TensorGradient(tensor);
        if (tensor.Name != corruptTensor) return g;
        _corrupted = g.ToArray();
        for (int i = 0; i < _corrupted.Length; i++) _corrupted[i] *= factor;
        return _corrupted;
    }
}
