using System;
using System.Collections.Generic;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0107 (pitfall 7): fixed-scale initialisation (Init.Normal, default std 0.01, or Init.Uniform, default
/// bound 0.05 = std 0.029) on hidden Dense layers of a deep network (at least <see cref="DeepDenseCount"/>
/// Dense layers). Each hidden layer multiplies the activation variance by g = Din·Var(w)·c, c = ½ before
/// the ReLU family and 1 otherwise; layers with a scaled scheme count as g = 1, and a BatchNorm discards
/// the product so far (it renormalises, docs/techniques.md#normalisation). When the product over the fixed-scale layers after
/// the last BatchNorm leaves [1e-2, 1e2] (activation std shrinks or grows more than 10×), each of them is reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SmallFixedInitAnalyzer : SpecRuleAnalyzer
{
    /// <summary>"Deep": this many Dense layers or more (three hidden ones and the output).</summary>
    public const int DeepDenseCount = 4;

    public override DiagnosticDescriptor Rule => Descriptors.SmallFixedInit;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        int denseCount = SpecQueries.DenseCount(spec);
        if (denseCount < DeepDenseCount) return;
        int[] widths = SpecQueries.InputWidths(spec);
        int lastDense = SpecQueries.LastDense(spec);

        var run = new List<int>();
        double product = 1;
        void Flush()
        {
            if (run.Count > 0 && (product < 1e-2 || product > 1e2))
                foreach (int index in run)
                {
                    LayerSpec layer = spec.Layers[index];
                    context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(index), "Init"),
                        layer.Name, "Init." + layer.Init, SpecQueries.Short(Std(layer)), denseCount,
                        SpecQueries.Short(product), product < 1 ? "collapse towards zero" : "explode or saturate");
                }
            run.Clear();
            product = 1;
        }

        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind == LayerKind.BatchNorm) { run.Clear(); product = 1; continue; } // renormalised: the scale does not carry on
            if (layer.Kind != LayerKind.Dense || i == lastDense) continue;
            if (layer.Init is not (InitKind.Normal or InitKind.Uniform) || widths[i] <= 0) continue;
            double std = Std(layer);
            if (!(std > 0) || double.IsInfinity(std)) continue;
            int next = SpecQueries.NextActivation(spec, i);
            double c = next >= 0 && SpecQueries.IsReLUFamily(spec.Layers[next].Activation) ? 0.5 : 1.0;
            product *= widths[i] * std * std * c;
            run.Add(i);
        }
        Flush();
    }

    /// <summary>Standard deviation of a fixed-scale initialisation (the planner's defaults when InitScale is unset).</summary>
    private static double Std(LayerSpec layer) => layer.Init == InitKind.Normal
        ? (double.IsNaN(layer.InitScale) ? 0.01 : layer.InitScale)
        : (double.IsNaN(layer.InitScale) ? 0.05 : layer.InitScale) / Math.Sqrt(3);
}
