using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0123 (pitfall 23): a model with a SELU activation that also has BatchNorm or plain Dropout layers. Reported on
/// each BatchNorm/Dropout; AlphaDropout, which keeps SELU's mean and variance, is what the message points to and is
/// never reported (docs/techniques.md#regularisation).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SeluCombinationAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.SeluCombination;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        LayerSpec? selu = null;
        foreach (LayerSpec layer in spec.Layers)
            if (layer.Kind == LayerKind.Activation && layer.Activation == ActivationKind.SELU) { selu = layer; break; }
        if (selu is null) return;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            string? why = layer.Kind switch
            {
                LayerKind.BatchNorm => "SELU already drives activations to mean 0 and variance 1, so BatchNorm is redundant and its batch statistics disturb the self-normalising fixed point; remove the BatchNorm",
                LayerKind.Dropout when layer.Rate > 0 => $"plain dropout changes the mean and variance that SELU keeps at 0 and 1; use [AlphaDropout({Rate(layer.Rate)})], which drops units to SELU's saturation value −λα and rescales so that both are kept",
                _ => null,
            };
            if (why is not null) context.Report(Rule, context.Layer(i)?.GetLocation(), layer.Name, selu.Name, why);
        }
    }

    private static string Rate(double rate) => rate.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
