using System.Collections.Generic;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;
using static Kiln.Generator.Emitting.ModelEmitter;

namespace Kiln.Generator.Layers;

/// <summary>
/// [ScalarBias] (Fixup, docs/techniques.md#initialisation): y = x + b with one trainable b, initialised to 0; dL/db = Σ dL/dy
/// and dL/dx = dL/dy (Kiln.Kernels.Fixup.AddScalar and Sum).
/// </summary>
internal sealed class ScalarBias : ScalarParameter
{
    public override string Attribute => "ScalarBias";
    public override LayerKind Kind => LayerKind.ScalarBias;
    protected override (string Suffix, string Role) Tensor => ("bias", "Bias");
    protected override double Initial => 0;
    protected override string Formula => "y = x + b";

    protected override string ForwardRows(ScalarStep s, string scalar) =>
        $"{K}Fixup.AddScalar<TIsa>({Rows(s.InputBuffer, s.InFloats)}, {scalar}, {Rows(s.OutputBuffer, s.OutFloats)});";

    protected override IEnumerable<string> BackwardLines(ScalarStep s, string current)
    {
        yield return $"{s.Scalar.Identifier}Gradient[0] = {K}Fixup.Sum<TIsa>({All(current, s.OutFloats)}); // dL/db = Σ dL/dy; dL/dx = dL/dy";
    }
}
