using Kiln.Generator.Spec;
using static Kiln.Generator.Emitting.CodeWriter;

namespace Kiln.Generator.Emitting;

// [Model(Normalize = PerFeature | PerChannel)]: the model owns its input statistics (docs/techniques.md#preprocessing). They are fitted
// once on training inputs, applied while each batch is copied in (training, Predict and Evaluate alike, so train and
// test never disagree), and stored as the state tensors input.mean / input.std, so checkpoints carry them.
internal sealed partial class ModelEmitter
{
    /// <summary>The statement that copies a batch into the model's input buffer (transposed to NHWC for a multi-channel spatial input).</summary>
    private string CopyInputsStatement() =>
        _plan.TransposeInput ? "CopyChannelsLast(inputs, batch);" : _spec.NormalizesInputs ? "NormalizeInputs(inputs, batch);" : "inputs.CopyTo(_x.Span);";

    /// <summary>The value CopyChannelsLast stores for input element <c>inputs[offset + c * pixels + p]</c>.</summary>
    private string ChannelsLastValue()
    {
        const string raw = "inputs[offset + c * pixels + p]";
        if (!_spec.NormalizesInputs) return raw;
        string group = _spec.Normalization == InputNormalizationKind.PerChannel ? "c" : "c * pixels + p";
        return $"({raw} - mean[{group}]) / std[{group}]";
    }

    /// <summary>Locals for the statistics, declared before CopyChannelsLast's loops (empty without normalisation).</summary>
    private string ChannelsLastStatistics() => _spec.NormalizesInputs
        ? $" {ROSpan} mean = {_plan.InputMean!.Identifier}, std = {_plan.InputStd!.Identifier}; // normalise while transposing"
        : "";

    private void EmitInputNormalization()
    {
        _w.Line($"public global::Kiln.InputNormalization InputNormalization => global::Kiln.InputNormalization.{_spec.Normalization};");
        _w.Line();
        if (!_spec.NormalizesInputs) return;
        string groups = _spec.Normalization == InputNormalizationKind.PerChannel ? "channel" : "feature";
        int count = _plan.InputNormalizationGroups;
        string mean = _plan.InputMean!.Identifier, std = _plan.InputStd!.Identifier;
        _w.Line($"/// <summary>Fits the per-{groups} mean and standard deviation ({count} of each) on training inputs; call it once, before training.</summary>");
        _w.Open($"public void FitInputNormalization({ROSpan} inputs, int count)");
        _w.Line("CheckLength(inputs.Length, count * InputSize, nameof(inputs), count, \"InputSize\", InputSize);");
        _w.Line($"{K}InputStandardization.Fit(inputs, count, InputSize, {count}, {mean}, {std});");
        _w.Close();
        _w.Line();
        if (_plan.TransposeInput) return; // CopyChannelsLast normalises while it transposes
        _w.Line("// (x − mean) / std into the input buffer; an unfitted model has mean 0 and std 1 and copies inputs unchanged.");
        _w.Open($"private void NormalizeInputs({ROSpan} inputs, int batch)");
        _w.Open("switch (_isa)");
        foreach ((string isa, string path) in new[] { ("case global::Kiln.IsaPath.Avx512:", "Avx512Path"), ("case global::Kiln.IsaPath.Avx2:", "Avx2Path"), ("default:", "PortablePath") })
            _w.Line($"{isa} {K}InputStandardization.Apply<{K}{path}>(inputs, _x.Span, {mean}, {std}, batch, InputSize, {count}); break;");
        _w.Close();
        _w.Close();
        _w.Line();
    }

    /// <summary>Construction-time identity statistics (InitializeParameters leaves fitted statistics alone: they describe the data).</summary>
    private void EmitInputNormalizationIdentity()
    {
        if (!_spec.NormalizesInputs) return;
        _w.Line($"{K}ParameterInit.Constant({_plan.InputMean!.Identifier}, 0f);");
        _w.Line($"{K}ParameterInit.Constant({_plan.InputStd!.Identifier}, 1f);");
    }
}
