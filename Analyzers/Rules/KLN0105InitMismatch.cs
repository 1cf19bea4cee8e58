using System.Collections.Immutable;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0105 (pitfall 5): an explicit Init on a weighted layer (Dense or Conv2D, whose fan-in is KH·KW·C_in) that does not
/// match the activation after it (looking past the normalisations, Dropout, Flatten and residual markers, as Init.Auto
/// does; PReLU counts with the ReLU family, Maxout and pooling end the search):
/// Xavier/Glorot/LeCun before the ReLU family → He; He before sigmoid/tanh → Xavier; He or Glorot before
/// SELU → LeCun normal (Xavier's 1/Din variance equals LeCun's, so it is accepted). Init.Auto, the
/// fixed-scale schemes (KLN0107) and constants (KLN0106) are not this rule's business.
/// The replacement is passed to the code fix in the property "Init".
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class InitMismatchAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.InitMismatch;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (!SpecQueries.IsWeighted(layer) || layer.Init == InitKind.Auto) continue;
            int next = SpecQueries.NextActivation(spec, i);
            if (next < 0) continue;
            ActivationKind activation = spec.Layers[next].Activation;
            (InitKind replacement, string why)? fix = Suggest(layer.Init, activation);
            if (fix is not { } f) continue;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Init"),
                ImmutableDictionary<string, string?>.Empty.Add("Init", f.replacement.ToString()),
                layer.Name, "Init." + layer.Init, SpecQueries.Name(activation) + " ('" + spec.Layers[next].Name + "')", f.why, "Init." + f.replacement);
        }
    }

    /// <summary>The initialisation that matches <paramref name="activation"/>, when <paramref name="init"/> does not.</summary>
    public static (InitKind, string)? Suggest(InitKind init, ActivationKind activation)
    {
        bool normal = init is InitKind.XavierNormal or InitKind.GlorotNormal or InitKind.HeNormal or InitKind.LeCunNormal;
        if (SpecQueries.IsReLUFamily(activation) && init is InitKind.XavierNormal or InitKind.XavierUniform or InitKind.GlorotNormal or InitKind.GlorotUniform or InitKind.LeCunNormal)
            return (normal ? InitKind.HeNormal : InitKind.HeUniform,
                "it keeps Var(w) ≈ 1/Din, but the ReLU family zeroes about half of its inputs and halves the variance at every layer, so activations shrink with depth (He uses 2/Din)");
        if (SpecQueries.IsSaturating(activation) && init is InitKind.HeNormal or InitKind.HeUniform)
            return (normal ? InitKind.XavierNormal : InitKind.XavierUniform,
                $"its variance 2/Din doubles what {activation} needs, pushing pre-activations into the saturated range (Xavier uses 1/Din)");
        if (activation == ActivationKind.SELU && init is InitKind.HeNormal or InitKind.HeUniform or InitKind.GlorotNormal or InitKind.GlorotUniform)
            return (InitKind.LeCunNormal, "SELU's self-normalisation to mean 0 and variance 1 assumes LeCun-normal weights (std = sqrt(1/Din))");
        return null;
    }
}
