using System;
using Kiln.Generator.Spec;

namespace Kiln.Generator.Planning;

/// <summary>Weight initialisation: Init.Auto resolved by the activation that follows, scales from fan-in/fan-out (printed as literals).</summary>
public static class Initialization
{
    /// <summary>Resolves Init.Auto by the activation and computes the scale from fan-in/fan-out (docs/techniques.md#initialisation).</summary>
    public static (InitKind Kind, double Scale) Resolve(LayerSpec dense, int fanIn, int fanOut, ActivationKind next)
    {
        InitKind kind = dense.Init;
        bool reluFamily = next is ActivationKind.ReLU or ActivationKind.LeakyReLU or ActivationKind.PReLU or ActivationKind.ELU
            or ActivationKind.GELU or ActivationKind.Swish;
        if (kind == InitKind.Auto)
            kind = reluFamily ? InitKind.HeNormal : next == ActivationKind.SELU ? InitKind.LeCunNormal : InitKind.GlorotUniform;
        double given = dense.InitScale;
        double scale = kind switch
        {
            InitKind.Zeros => 0,
            InitKind.Constant => double.IsNaN(given) ? 0 : given,
            InitKind.Normal => double.IsNaN(given) ? 0.01 : given,
            InitKind.Uniform => double.IsNaN(given) ? 0.05 : given,
            InitKind.XavierNormal => Math.Sqrt(1.0 / fanIn),
            InitKind.XavierUniform => Math.Sqrt(3.0 / fanIn),
            InitKind.GlorotNormal => Math.Sqrt(2.0 / (fanIn + fanOut)),
            InitKind.GlorotUniform => Math.Sqrt(6.0 / (fanIn + fanOut)),
            InitKind.HeNormal => Math.Sqrt(2.0 / fanIn),
            InitKind.HeUniform => Math.Sqrt(6.0 / fanIn),
            InitKind.LeCunNormal => Math.Sqrt(1.0 / fanIn),
            // The gain: √2 makes up for the half of the variance a ReLU-family activation removes (as He's factor 2).
            InitKind.Orthogonal => double.IsNaN(given) ? (reluFamily ? Math.Sqrt(2.0) : 1.0) : given,
            _ => throw new ArgumentOutOfRangeException(nameof(dense), kind, "Unknown initialisation."),
        };
        return (kind, scale);
    }
}
