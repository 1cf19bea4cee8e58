using System;
using System.Collections.Generic;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0107 (pitfall 7): fixed-scale initialisation (Init.Normal, default std 0.01, or Init.Uniform, default bound 0.05 =
/// std 0.029, or Init.Orthogonal with a gain other than the right one — √2 before the ReLU family, 1 otherwise, within 10%)
/// on hidden weighted layers of a deep network (at least <see cref="DeepWeightedCount"/> Dense and Conv2D
/// layers). Each hidden layer multiplies the activation variance by g = Din·Var(w)·c, with Din its fan-in (KH·KW·C_in for
/// a convolution) and c = ½ before the ReLU family, 1 otherwise; layers with a scaled scheme count as g = 1. A
/// normalisation (BatchNorm, LayerNorm, InstanceNorm, GroupNorm) discards the product so far (it renormalises,
/// docs/techniques.md#normalisation). A residual block adds its branch to the shortcut: after it the product is
/// p·(1 + g_branch) (p + g_branch when the branch renormalises), so a collapsing branch leaves the signal alone while an
/// exploding one does not. When the product over the fixed-scale layers leaves [1e-2, 1e2] (activation std shrinks or
/// grows more than 10×), each of them is reported — unless the model is LSUV-initialised (<see cref="LsuvUses"/>: LSUV rescales
/// every layer to unit output variance, so the initial scale does not carry into training). An orthogonal layer multiplies
/// the variance by g²·min(1, Din/Dout)·c.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SmallFixedInitAnalyzer : SpecRuleAnalyzer
{
    /// <summary>"Deep": this many weighted layers or more (three hidden ones and the output).</summary>
    public const int DeepWeightedCount = 4;

    public override DiagnosticDescriptor Rule => Descriptors.SmallFixedInit;

    protected override void Analyze(SpecRuleContext context)
    {
        ModelSpec spec = context.Spec;
        int weighted = SpecQueries.WeightedCount(spec);
        if (weighted < DeepWeightedCount) return;
        SpecQueries.Shape[] shapes = SpecQueries.InputShapes(context.Parsed);
        int output = SpecQueries.LastWeighted(spec);

        var run = new List<(int Index, double Std)>();
        double product = 1;
        // The open residual block: the product on the shortcut, where the branch's layers start in the run, and whether
        // the branch renormalised.
        double shortcut = 1;
        int branchStart = -1;
        bool branchNormalised = false;

        for (int i = 0; i < spec.Layers.Count; i++)
        {
            LayerSpec layer = spec.Layers[i];
            if (layer.Kind == LayerKind.Residual)
            {
                shortcut = product;
                product = 1;
                branchStart = run.Count;
                branchNormalised = false;
                continue;
            }
            if (layer.Kind == LayerKind.EndResidual)
            {
                product = branchNormalised ? shortcut + product : shortcut * (1 + product);
                branchStart = -1;
                continue;
            }
            if (SpecQueries.IsNormalization(layer))
            {
                // Renormalised: the scale does not carry on (inside a branch, only the branch's part is discarded).
                if (branchStart >= 0)
                {
                    run.RemoveRange(branchStart, run.Count - branchStart);
                    branchNormalised = true;
                }
                else run.Clear();
                product = 1;
                continue;
            }
            if (!SpecQueries.IsWeighted(layer) || i == output) continue;
            if (layer.Init is not (InitKind.Normal or InitKind.Uniform or InitKind.Orthogonal)) continue;
            int fanIn = SpecQueries.FanIn(layer, shapes[i]);
            int next = SpecQueries.NextActivation(spec, i);
            bool relu = next >= 0 && SpecQueries.IsReLUFamily(spec.Layers[next].Activation);
            if (layer.Init == InitKind.Orthogonal && SpecQueries.HasRightOrthogonalGain(layer, relu)) continue; // g·c = 1: scaled
            double std = Std(layer, fanIn, relu);
            if (fanIn <= 0 || !(std > 0) || double.IsInfinity(std)) continue;
            product *= fanIn * std * std * (relu ? 0.5 : 1.0);
            run.Add((i, std));
        }

        if (run.Count == 0 || (product >= 1e-2 && product <= 1e2)) return;
        // LSUV rescales every weighted layer to unit output variance before training: the initial scale does not matter.
        if (context.UsesLsuv()) return;
        foreach ((int index, double std) in run)
        {
            LayerSpec layer = spec.Layers[index];
            context.Report(Rule, ModelSyntax.ArgumentOrAttribute(context.Layer(index), "Init"),
                layer.Name, "Init." + layer.Init, SpecQueries.Short(std), weighted,
                SpecQueries.Short(product), product < 1 ? "collapse towards zero" : "explode or saturate");
        }
    }

    /// <summary>
    /// Standard deviation of a weight: a fixed-scale initialisation's (the planner's defaults when InitScale is unset), or an
    /// orthogonal one's, g·sqrt(min(1, Din/Dout)/Din) — orthonormal columns of length Din (rows when Din &lt; Dout) scaled by the gain.
    /// </summary>
    private static double Std(LayerSpec layer, int fanIn, bool relu) => layer.Init switch
    {
        InitKind.Normal => double.IsNaN(layer.InitScale) ? 0.01 : layer.InitScale,
        InitKind.Orthogonal => fanIn <= 0 ? 0 : SpecQueries.OrthogonalGain(layer, relu) * Math.Sqrt(Math.Min(1.0, fanIn / (double)Math.Max(1, SpecQueries.Outputs(layer))) / fanIn),
        _ => (double.IsNaN(layer.InitScale) ? 0.05 : layer.InitScale) / Math.Sqrt(3),
    };
}
