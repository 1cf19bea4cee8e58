using System.Collections.Generic;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [Multiplier] (Fixup, docs/techniques.md#initialisation): y = s·x with one trainable s, initialised to 1; dL/ds = Σ dL/dy·x
/// and dL/dx = s·dL/dy (Kiln.Kernels.Fixup.Dot, Elementwise.Scale), the gradient taken before s is updated.
/// </summary>
internal sealed class Multiplier : ScalarParameter
{
    public override string Attribute => "Multiplier";
    public override LayerKind Kind => LayerKind.Multiplier;
    protected override (string Suffix, string Role) Tensor => ("scale", "Gamma");
    protected override double Initial => 1;
    protected override string Formula => "y = s·x";

    protected override string ForwardRows(ScalarStep s, string scalar) =>
        $"{K}Elementwise.Scale<TIsa>({Rows(s.InputBuffer, s.InFloats)}, {scalar}, {Rows(s.OutputBuffer, s.OutFloats)});";

    protected override IEnumerable<string> BackwardLines(ScalarStep s, string current)
    {
        string all = All(current, s.OutFloats);
        yield return $"{s.Scalar.Identifier}Gradient[0] = {K}Fixup.Dot<TIsa>({all}, {All(s.InputBuffer, s.InFloats)}); // dL/ds = Σ dL/dy·x";
        yield return $"{K}Elementwise.Scale<TIsa>({all}, {s.Scalar.Identifier}[0], {all}); // dL/dx = s·dL/dy";
    }
}
