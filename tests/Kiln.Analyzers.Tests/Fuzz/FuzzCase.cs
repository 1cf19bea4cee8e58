using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using CsCheck;

namespace Kiln.Analyzers.Tests.Fuzz;

/// <summary>A fragment of generated source and whether it keeps the model valid (the oracle).</summary>
public sealed record Piece(string Text, bool Valid)
{
    public static Piece Ok(string text) => new(text, true);
    public static Piece Bad(string text) => new(text, false);
}

/// <summary>One generated model: its declaration pieces and its attribute pieces.</summary>
public sealed record FuzzModel(string Name, Piece Kind, Piece Outer, Piece PrimaryConstructor, Piece Base, Piece[] Members, Piece[] Attributes, bool BatchNormWithBatchOne)
{
    /// <summary>The oracle: every choice was a valid one.</summary>
    public bool Valid => !BatchNormWithBatchOne && Kind.Valid && Outer.Valid && PrimaryConstructor.Valid && Base.Valid
        && Members.All(m => m.Valid) && Attributes.All(a => a.Valid);

    /// <summary>The name without '@', as the compiler sees it.</summary>
    public string PlainName => Name.TrimStart('@');
}

/// <summary>A generated source file: a namespace and one to three models.</summary>
public sealed record FuzzCase(Piece Namespace, FuzzModel[] Models)
{
    /// <summary>Base classes the models may derive from, in a second file.</summary>
    public const string BaseTypes = """
        public abstract class BaseOk { protected BaseOk() { } public int Extra => 1; }
        public abstract class BaseNeedsArgument { protected BaseNeedsArgument(int a) { } }
        public abstract class BaseWithPredict { public void Predict() { } }
        """;

    /// <summary>The source, and the span each model occupies in it (attributes to closing brace).</summary>
    public (string Source, (int Start, int End)[] Spans) Render()
    {
        var sb = new StringBuilder("using Kiln;\n\n");
        bool block = Namespace.Text.Length > 0 && !Namespace.Text.EndsWith(';');
        if (Namespace.Text.Length > 0) sb.Append(Namespace.Text).Append(block ? "\n{\n" : "\n\n");
        var spans = new (int, int)[Models.Length];
        for (int i = 0; i < Models.Length; i++)
        {
            FuzzModel m = Models[i];
            int start = sb.Length;
            string outer = m.Outer.Text.Replace("{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (outer.Length > 0) sb.Append(outer).Append("\n{\n");
            foreach (Piece a in m.Attributes) sb.Append(a.Text).Append('\n');
            string head = m.Kind.Text.Replace("{N}", m.Name) + m.PrimaryConstructor.Text + m.Base.Text;
            sb.Append(head);
            if (m.Members.Length == 0) sb.Append(";\n");
            else
            {
                sb.Append("\n{\n");
                foreach (Piece member in m.Members) sb.Append("    ").Append(member.Text.Replace("{N}", ConstructorName(m))).Append('\n');
                sb.Append("}\n");
            }
            if (outer.Length > 0) sb.Append("}\n");
            spans[i] = (start, sb.Length);
            sb.Append('\n');
        }
        if (block) sb.Append("}\n");
        return (sb.ToString(), spans);
    }

    private static string ConstructorName(FuzzModel m) => m.Name;

    public override string ToString() => Render().Source;
}

/// <summary>The CsCheck generators: random attribute combinations and random declarations around them.</summary>
public static class FuzzGen
{
    private static Gen<Piece> OneOf(params Piece[] pieces) => Gen.OneOf(pieces);

    /// <summary>Weighted choice between generators (CsCheck's Frequency, with the generator overload picked explicitly).</summary>
    private static Gen<T> Freq<T>(params (int Weight, IGen<T> Gen)[] items) => Gen.Frequency(items);

    /// <summary>Valid pieces <paramref name="validWeight"/> times as often as each invalid one.</summary>
    private static Gen<Piece> Mostly(int validWeight, Piece[] valid, Piece[] invalid) =>
        Freq((validWeight, Gen.OneOf(valid)), (1, Gen.OneOf(invalid)));

    private static Gen<Piece> Arg(string format, string[] valid, string[] invalid, int validWeight = 16) =>
        Mostly(validWeight, valid.Select(v => Piece.Ok(Format(format, v))).ToArray(), invalid.Select(v => Piece.Bad(Format(format, v))).ToArray());

    private static string Format(string format, string value) => string.Format(System.Globalization.CultureInfo.InvariantCulture, format, value);

    private static readonly string[] BadDoubles = { "double.NaN", "double.PositiveInfinity", "double.NegativeInfinity", "1e300" };

    /// <summary>A hidden layer (its attribute text), and whether it is a BatchNorm.</summary>
    private static readonly Gen<(Piece Layer, bool BatchNorm)> Hidden = Freq(
        (4, Arg("[Dense({0})]", new[] { "1", "5", "16" }, new[] { "0", "-3" }).Select(p => (p, false))),
        (1, Arg("[Dense(8, Init = {0})]", new[] { "Init.HeNormal", "Init.XavierUniform" }, new[] { "(Init)99" }).Select(p => (p, false))),
        (1, Arg("[Dense(8, BiasInit = {0})]", new[] { "0.1", "-2" }, BadDoubles).Select(p => (p, false))),
        (1, Arg("[Dense(8, DropConnect = {0})]", new[] { "0.25" }, new[] { "1.0", "-0.5", "double.NaN" }).Select(p => (p, false))),
        (1, Arg("[Dense(8, LearningRateScale = {0})]", new[] { "0", "0.5" }, new[] { "-1", "double.NaN" }).Select(p => (p, false))),
        (3, OneOf(Piece.Ok("[ReLU]"), Piece.Ok("[Tanh]"), Piece.Ok("[GELU]"), Piece.Ok("[SELU]"), Piece.Ok("[Sigmoid]")).Select(p => (p, false))),
        (1, Arg("[LeakyReLU({0})]", new[] { "0.1", "0.01" }, BadDoubles).Select(p => (p, false))),
        (1, Arg("[ELU({0})]", new[] { "1.0", "0.5" }, new[] { "0", "-1", "double.NaN" }).Select(p => (p, false))),
        (1, Arg("[Swish({0})]", new[] { "1.0" }, BadDoubles).Select(p => (p, false))),
        (1, Arg("[PReLU(Init = {0})]", new[] { "0.25" }, BadDoubles).Select(p => (p, false))),
        (1, Arg("[Dropout({0})]", new[] { "0.2", "0" }, new[] { "1.0", "-0.1", "double.NaN" }).Select(p => (p, false))),
        (1, Arg("[Dropout(0.3, Scaling = {0})]", new[] { "DropoutScaling.TestTime", "DropoutScaling.Inverted" }, new[] { "(DropoutScaling)7" }).Select(p => (p, false))),
        (1, Arg("[BatchNorm(Momentum = {0})]", new[] { "0.1", "1" }, new[] { "1.5", "-0.1", "double.NaN" }).Select(p => (p, true))),
        (1, Arg("[BatchNorm(Epsilon = {0})]", new[] { "1e-5", "0.001" }, new[] { "0", "-1e-3", "double.NaN", "1e-50" }).Select(p => (p, true))),
        (1, Arg("[LayerNorm(Epsilon = {0})]", new[] { "1e-5" }, new[] { "0", "double.PositiveInfinity" }).Select(p => (p, false))));

    /// <summary>The output layer and the loss, compatible or not.</summary>
    private static readonly Gen<Piece> Output = Freq(
        (12, OneOf(Piece.Ok("[Dense(3), SoftmaxCrossEntropy]"), Piece.Ok("[Dense(2), SoftmaxCrossEntropy]"), Piece.Ok("[Dense(1), BinaryCrossEntropy]"),
            Piece.Ok("[Dense(1), MeanSquaredError]"), Piece.Ok("[Dense(4), MeanSquaredError]"))),
        (2, Arg("[Dense(3), MulticlassHinge(Margin = {0})]", new[] { "1.0", "0.5" }, new[] { "0", "-1", "double.NaN" }, validWeight: 2)),
        (1, OneOf(Piece.Bad("[Dense(1), SoftmaxCrossEntropy]"), Piece.Bad("[Dense(2), BinaryCrossEntropy]"), Piece.Bad("[Dense(3)]"),
            Piece.Bad("[Dense(2), SoftmaxCrossEntropy, ReLU]"))));

    private static readonly string[] Rates = { "0.01", "0.5", "1e-4" };
    private static readonly string[] BadRates = { "0", "-1", "double.NaN", "double.PositiveInfinity", "1e300", "1e-60" };

    private static readonly Gen<Piece> Optimizer = Freq(
        (3, Arg("[Sgd({0})]", Rates, BadRates)),
        (1, Arg("[Momentum(0.01, Rho = {0})]", new[] { "0.9", "0" }, new[] { "1", "double.NaN", "-0.5" })),
        (1, Arg("[Momentum(0.01, Form = {0})]", new[] { "MomentumForm.Velocity", "MomentumForm.Accumulate" }, new[] { "(MomentumForm)5", "(MomentumForm)(-1)" })),
        (1, Arg("[Nesterov({0})]", Rates, BadRates)),
        (2, Arg("[Adam(Beta1 = {0})]", new[] { "0.9", "0.5" }, new[] { "1.0", "double.NaN" })),
        (1, Arg("[Adam(Epsilon = {0})]", new[] { "1e-8" }, new[] { "0", "-1e-8", "double.NaN" })),
        (1, Arg("[AdamW(WeightDecay = {0})]", new[] { "0.01", "0" }, new[] { "-1", "double.NaN" })),
        (1, Arg("[RMSProp(Decay = {0})]", new[] { "0.9" }, new[] { "1.2", "double.NaN" })),
        (1, Arg("[AdaGrad({0})]", Rates, BadRates)),
        (1, Arg("[Lbfgs(History = {0})]", new[] { "10", "3" }, new[] { "0", "-2", "5000" })),
        (1, Freq((1, Gen.Const(Piece.Ok("[Sgd]"))), (1, OneOf(Piece.Bad(""), Piece.Bad("[Sgd, Adam]"))))));

    private static readonly Gen<Piece> Extra = Freq(
        (6, Gen.Const(Piece.Ok(""))),
        (1, Arg("[ClipGradientNorm({0})]", new[] { "1.0", "5" }, new[] { "0", "-1", "double.NaN" })),
        (1, Arg("[ClipGradientValue({0})]", new[] { "0.5" }, new[] { "0", "double.PositiveInfinity" })),
        (1, Arg("[L2({0})]", new[] { "1e-4", "0" }, new[] { "-1", "double.NaN" })),
        (1, Arg("[ElasticNet(1e-4, Beta = {0})]", new[] { "0.5" }, new[] { "-1", "double.NaN" })),
        (1, Arg("[L2(1e-4, ApplyTo = {0})]", new[] { "PenaltyTarget.All", "PenaltyTarget.Weights" }, new[] { "(PenaltyTarget)3" })),
        (1, Arg("[StepDecay(Every = {0})]", new[] { "5", "1" }, new[] { "0", "-1" })),
        (1, Arg("[CosineDecay(Steps = 100, MinFactor = {0})]", new[] { "0", "0.1" }, new[] { "2", "double.NaN" })),
        (1, Arg("[Warmup(Steps = {0})]", new[] { "10" }, new[] { "0", "-5" })),
        (1, Arg("[ReduceOnPlateau(Factor = {0})]", new[] { "0.5" }, new[] { "1", "0", "double.NaN" })));

    /// <summary>[Model(...)], with MaxBatch known (BatchNorm at batch 1 is invalid).</summary>
    private static readonly Gen<(Piece Model, bool BatchOne)> ModelAttribute =
        Gen.Select(
            Freq((20, Gen.OneOf("4", "16", "33")), (1, Gen.OneOf("0", "-1"))),
            Freq((20, Gen.OneOf("8", "64", "1")), (1, Gen.OneOf("0", "-2", "70000"))),
            Gen.Int[0, 1000],
            Freq((20, Gen.OneOf("", ", Normalize = InputNormalization.PerFeature", ", Normalize = InputNormalization.None")),
                (1, Gen.OneOf(", Normalize = (InputNormalization)9", ", Normalize = InputNormalization.PerChannel"))),
            (input, batch, seed, normalize) =>
            {
                bool valid = input is "4" or "16" or "33" && batch is "8" or "64" or "1" && !normalize.Contains("9") && !normalize.Contains("PerChannel");
                return (new Piece($"[Model(Input = {input}, MaxBatch = {batch}, Seed = {seed}{normalize})]", valid), batch == "1");
            });

    /// <summary>The kind of declaration; {N} is the name.</summary>
    private static readonly Gen<Piece> Kind = Freq(
        (30, OneOf(Piece.Ok("public partial class {N}"), Piece.Ok("internal sealed partial class {N}"), Piece.Ok("partial class {N}"))),
        (1, OneOf(Piece.Bad("public partial record {N}"), Piece.Bad("public partial record class {N}"), Piece.Bad("public partial struct {N}"),
            Piece.Bad("public partial record struct {N}"), Piece.Bad("public static partial class {N}"), Piece.Bad("public abstract partial class {N}"),
            Piece.Bad("public partial class {N}<T>"), Piece.Bad("public class {N}"), Piece.Bad("file partial class {N}"))));

    private static readonly Gen<Piece> Outer = Freq(
        (12, Gen.Const(Piece.Ok(""))),
        (4, OneOf(Piece.Ok("public partial class Outer{i}"), Piece.Ok("public partial record Outer{i}"), Piece.Ok("public partial struct Outer{i}"),
            Piece.Ok("public static partial class Outer{i}"), Piece.Ok("public partial class @event{i}"))),
        (1, OneOf(Piece.Bad("public class Outer{i}"), Piece.Bad("public partial class Outer{i}<T>"))));

    private static readonly Gen<Piece> PrimaryConstructor = Freq(
        (20, Gen.Const(Piece.Ok(""))),
        (1, OneOf(Piece.Bad("(int size)"), Piece.Bad("()"))));

    private static readonly Gen<Piece> Base = Freq(
        (12, Gen.Const(Piece.Ok(""))),
        (4, Gen.Const(Piece.Ok(" : KilnModel"))), // what the generated part derives from anyway
        (2, OneOf(Piece.Bad(" : BaseOk"), Piece.Bad(" : BaseNeedsArgument"), Piece.Bad(" : BaseWithPredict"))));

    private static readonly Gen<Piece> Member = Freq(
        (8, OneOf(Piece.Ok("private int _count;"), Piece.Ok("public int Helper() => _count2 + 1;\n    private int _count2 = 1;"),
            Piece.Ok("public override string ToString() => \"fuzz\";"), Piece.Ok("public {N}(int a) : this() { }"), Piece.Ok("public void Train(float[] x) { }"))),
        (2, OneOf(Piece.Bad("public int MaxBatch => 1;"), Piece.Bad("private int _batch;"), Piece.Bad("public void Predict() { }"),
            Piece.Bad("public float TrainStep(int x) => x;"), Piece.Bad("public {N}() { }"), Piece.Bad("public {N}(IsaPath isa) { }"),
            Piece.Bad("public const int InputSize = 3;"), Piece.Bad("private float _learningRate;"), Piece.Bad("public int Layers;"),
            Piece.Bad("public class Stages { }"))));

    /// <summary>Names: keywords, case variants, non-ASCII, and two names of generated members (invalid).</summary>
    private static readonly (string Name, bool Valid)[] Names =
    {
        ("Net", true), ("NET", true), ("nEt", true), ("Model", true), ("@class", true), ("@record", true), ("@event", true),
        ("Modèle", true), ("Modele", true), ("Net_2", true), ("InputSize", false), ("Predict", false),
    };

    private static readonly Gen<Piece> NamespaceGen = Gen.OneOf(
        Piece.Ok(""), Piece.Ok("namespace Fuzz.Models;"), Piece.Ok("namespace @if.Models;"), Piece.Ok("namespace @namespace.@class;"),
        Piece.Ok("namespace Fuzz.Block"), Piece.Ok("namespace @if.@else"));

    private static Gen<FuzzModel> Model(string name, bool nameValid) =>
        Gen.Select(ModelAttribute, Hidden.Array[0, 4], Output, Optimizer, Extra, Gen.Select(Kind, Outer, PrimaryConstructor, Base), Member.Array[0, 3],
            (model, hidden, output, optimizer, extra, declaration, members) =>
            {
                var attributes = new List<Piece> { model.Model };
                attributes.AddRange(hidden.Select(h => h.Layer));
                attributes.Add(output);
                if (optimizer.Text.Length > 0 || !optimizer.Valid) attributes.Add(optimizer);
                if (extra.Text.Length > 0) attributes.Add(extra);
                (Piece kind, Piece outer, Piece primary, Piece @base) = declaration;
                // A base class needs a class; BaseNeedsArgument also needs a constructor that calls it, or the user's code is wrong too.
                if (!kind.Text.Contains("class") || kind.Text.Contains("record") || kind.Text.Contains("static")) @base = Piece.Ok("");
                var memberList = members.Distinct().ToList();
                if (@base.Text.Contains("NeedsArgument")) memberList.Add(Piece.Ok("public {N}(int a) : base(a) { }"));
                Piece kindPiece = nameValid ? kind : Piece.Bad(kind.Text);
                return new FuzzModel(name, kindPiece, outer, primary, @base, memberList.ToArray(), attributes.ToArray(),
                    BatchNormWithBatchOne: model.BatchOne && hidden.Any(h => h.BatchNorm));
            });

    /// <summary>A whole case: a namespace and one to three models with distinct names.</summary>
    public static readonly Gen<FuzzCase> Case =
        Gen.Select(NamespaceGen, Gen.Int[0, Names.Length - 1].Array[1, 3])
            .SelectMany(pair =>
            {
                int[] picks = pair.Item2.Distinct().ToArray();
                Gen<FuzzModel>[] models = picks.Select(p => Model(Names[p].Name, Names[p].Valid)).ToArray();
                return Sequence(models).Select(list => new FuzzCase(pair.Item1, list));
            });

    private static Gen<FuzzModel[]> Sequence(Gen<FuzzModel>[] gens) => gens.Length switch
    {
        1 => gens[0].Select(a => new[] { a }),
        2 => Gen.Select(gens[0], gens[1], (a, b) => new[] { a, b }),
        _ => Gen.Select(gens[0], gens[1], gens[2], (a, b, c) => new[] { a, b, c }),
    };

    /// <summary>A case plus a cut of its source: (position as a fraction, mode, length in tokens).</summary>
    public static readonly Gen<(FuzzCase Case, double Where, int Mode, int Length)> Cut =
        Gen.Select(Case, Gen.Double[0, 1], Gen.Int[0, 2], Gen.Int[1, 6]);
}
