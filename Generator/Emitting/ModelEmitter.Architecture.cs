using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Emitting;

// IKilnModel.Architecture: the declared layers with their arguments, as a static description, so exporters
// (Kiln.Interop.OnnxExport, TorchWeights) can rebuild the inference graph without the attributes. Only arguments
// that differ from Kiln.Interop.ArchitectureLayer's defaults are written, so the text stays short and stable.
internal sealed partial class ModelEmitter
{
    private const string Interop = "global::Kiln.Interop.";

    private void EmitArchitecture()
    {
        string shape = _spec.InputShape.Count == 0 ? "global::System.Array.Empty<int>()" : $"new[] {{ {string.Join(", ", _spec.InputShape)} }}";
        _w.Line($"public {Interop}ModelArchitecture Architecture => s_architecture;");
        _w.Line($"private static readonly {Interop}ModelArchitecture s_architecture = new(\"{_spec.ClassName}\", {Int(_plan.InputSize)}, {shape},");
        _w.Line($"    global::Kiln.InputNormalization.{_spec.Normalization}, global::Kiln.LossKind.{_spec.Loss!.Kind}, new {Interop}ArchitectureLayer[]");
        _w.Line("{");
        foreach (LayerSpec layer in _spec.Layers) _w.Line("    " + ArchitectureLayer(layer) + ",");
        _w.Line("});");
        _w.Line();
    }

    private static string ArchitectureLayer(LayerSpec l)
    {
        var args = new List<string>();
        if (l.Kind == LayerKind.Activation) args.Add($"Activation = {Interop}ActivationFunction.{l.Activation}");
        // Kiln.Interop.ArchitectureLayer keeps one Units field (units, filters, pieces or test draws) and one Rate (dropout rate or pool ratio).
        int units = l.Units + l.Filters + l.Pieces + l.TestDraws;
        if (units != 0) args.Add($"Units = {Int(units)}");
        if (!l.Bias && l.Kind is LayerKind.Dense or LayerKind.Conv2D) args.Add("Bias = false");
        if (l.Alpha != 0) args.Add($"Alpha = {Double(l.Alpha)}");
        bool normalizes = l.Kind is LayerKind.BatchNorm || l.IsSampleNorm;
        if (normalizes && l.Epsilon != 1e-5) args.Add($"Epsilon = {Double(l.Epsilon)}");
        if (l.Rate + l.PoolRatio != 0) args.Add($"Rate = {Double(l.Rate + l.PoolRatio)}");
        if (l.Kind == LayerKind.Dropout && l.Scaling != DropoutScalingKind.Inverted) args.Add($"Scaling = global::Kiln.DropoutScaling.{l.Scaling}");
        if (l.KernelH != 0) args.Add($"KernelHeight = {Int(l.KernelH)}");
        if (l.KernelW != 0) args.Add($"KernelWidth = {Int(l.KernelW)}");
        if (l.Stride != 1) args.Add($"Stride = {Int(l.Stride)}");
        if (l.Padding != 0) args.Add($"Padding = {Int(l.Padding)}");
        if (l.Dilation != 1) args.Add($"Dilation = {Int(l.Dilation)}");
        if (l.Groups != 0) args.Add($"Groups = {Int(l.Groups)}");
        if (l.DropConnect != 0) args.Add($"DropConnect = {Double(l.DropConnect)}");
        if (l.Kind == LayerKind.Residual && l.Survival != 1) args.Add($"Survival = {Double(l.Survival)}");
        if (l.Projection) args.Add("Projection = true");
        string head = $"new(\"{l.Name}\", {Interop}ArchitectureLayerKind.{l.Kind})";
        return args.Count == 0 ? head : head + " { " + string.Join(", ", args) + " }";
    }
}
