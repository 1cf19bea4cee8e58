using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0108 (pitfall 8): a weighted layer (Dense or Conv2D) with a bias (the default) whose output reaches a normalisation
/// that subtracts a mean per channel (feature): BatchNorm, InstanceNorm, or GroupNorm with one channel per group. A
/// per-channel constant survives Flatten, max pooling, unpadded average pooling and global average pooling, so those may
/// sit between; LayerNorm and GroupNorm with several channels per group subtract a mean shared by channels with
/// different biases, so the bias is not redundant there. Reported on the <c>Bias = true</c> argument when written, else
/// on the layer's attribute.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class BiasBeforeBatchNormAnalyzer : SpecRuleAnalyzer
{
    public override DiagnosticDescriptor Rule => Descriptors.BiasBeforeBatchNorm;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        SpecQueries.Shape[]? shapes = null;
        for (int i = 0; i + 1 < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (!SpecQueries.IsWeighted(layer) || !layer.Bias) continue;
            int norm = i + 1;
            while (norm < spec.Layers.Count && KeepsChannelConstant(spec.Layers[norm])) norm++;
            if (norm >= spec.Layers.Count) continue;
            LayerSpec next = spec.Layers[norm];
            string? mean = next.Kind switch
            {
                LayerKind.BatchNorm => "the batch mean of every channel",
                LayerKind.InstanceNorm => "each sample's mean of every channel",
                LayerKind.GroupNorm when OneChannelPerGroup(next, (shapes ??= SpecQueries.InputShapes(context.Parsed))[norm]) => "each sample's mean of every channel (one channel per group)",
                _ => null,
            };
            if (mean is null) continue;
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(i), "Bias"), layer.Name, next.Kind.ToString(), next.Name, mean);
        }
    }

    /// <summary>Layers that pass a constant added to each channel through unchanged (up to the same per-channel constant).</summary>
    private static bool KeepsChannelConstant(LayerSpec layer) => layer.Kind switch
    {
        LayerKind.Flatten or LayerKind.MaxPool or LayerKind.FractionalMaxPool or LayerKind.GlobalAvgPool => true,
        LayerKind.AvgPool => layer.Padding == 0,
        _ => false,
    };

    private static bool OneChannelPerGroup(LayerSpec groupNorm, SpecQueries.Shape input) =>
        input.Known && groupNorm.Groups == (input.Spatial ? input.Channels : input.Flat);
}
