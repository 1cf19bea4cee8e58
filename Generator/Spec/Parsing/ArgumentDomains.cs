using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator.Spec;

/// <summary>
/// The domain of every numeric argument of every Kiln attribute, in one table, and a check that applies it to
/// each argument actually written (constructor or named), plus: every floating-point argument must be finite and
/// representable as a float, and every enum argument must be a declared member of its enum. The parser's own
/// checks (with messages that know the context) run first; this one reports only arguments they left alone, so
/// no argument can be forgotten. A test compares the table with the attributes of Kiln.Runtime.
/// </summary>
public static class ArgumentDomains
{
    /// <summary>An interval of allowed values and how to say it.</summary>
    public sealed class Domain
    {
        public Domain(double min, bool minInclusive, double max, bool maxInclusive, string rule)
        {
            Min = min; MinInclusive = minInclusive; Max = max; MaxInclusive = maxInclusive; Rule = rule;
        }

        /// <summary>Lower bound.</summary>
        public double Min { get; }
        /// <summary>Whether <see cref="Min"/> itself is allowed.</summary>
        public bool MinInclusive { get; }
        /// <summary>Upper bound.</summary>
        public double Max { get; }
        /// <summary>Whether <see cref="Max"/> itself is allowed.</summary>
        public bool MaxInclusive { get; }
        /// <summary>The rule in words, for the diagnostic.</summary>
        public string Rule { get; }

        /// <summary>True when <paramref name="value"/> lies in the domain (NaN never does).</summary>
        public bool Contains(double value) =>
            (MinInclusive ? value >= Min : value > Min) && (MaxInclusive ? value <= Max : value < Max);
    }

    private static readonly Domain Any = new(double.NegativeInfinity, true, double.PositiveInfinity, true, "any value");
    private static readonly Domain Finite = new(-float.MaxValue, true, float.MaxValue, true, "it must be a finite number within float range");
    private static readonly Domain Positive = new(0, false, float.MaxValue, true, "it must be a positive finite number");
    private static readonly Domain NonNegative = new(0, true, float.MaxValue, true, "it must be a non-negative finite number");
    private static readonly Domain Probability = new(0, true, 1, false, "it must be in [0, 1)");
    private static readonly Domain Fraction = new(0, true, 1, true, "it must be in [0, 1]");
    private static readonly Domain OpenUnit = new(0, false, 1, false, "it must be in (0, 1)");
    private static readonly Domain AtLeastOne = new(1, true, int.MaxValue, true, "it must be at least 1");
    private static readonly Domain NonNegativeInt = new(0, true, int.MaxValue, true, "it must not be negative");

    private static Domain Between(double min, double max, string rule) => new(min, true, max, true, rule);

    /// <summary>(attribute name without "Attribute", argument name ignoring case) → domain. Integer arrays: the domain of each element.</summary>
    public static readonly IReadOnlyDictionary<(string Attribute, string Argument), Domain> Table = Build();

    private static Dictionary<(string, string), Domain> Build()
    {
        var t = new Dictionary<(string, string), Domain>(new KeyComparer());
        void Add(string attribute, string argument, Domain domain) => t.Add((attribute, argument), domain);

        Add("Model", "Input", NonNegativeInt); // 0: taken from InputShape
        Add("Model", "InputShape", AtLeastOne);
        Add("Model", "MaxBatch", Between(1, 1 << 16, "it must be between 1 and 65536"));
        Add("Model", "Seed", Any);

        Add("Dense", "Units", AtLeastOne);
        foreach (string layer in new[] { "Dense", "Conv2D" })
        {
            Add(layer, "InitScale", Finite);
            Add(layer, "BiasInit", Finite);
            Add(layer, "LearningRateScale", NonNegative);
            Add(layer, "DropConnect", Probability);
        }
        Add("Conv2D", "Filters", AtLeastOne);
        Add("Conv2D", "Kernel", NonNegativeInt); // 0 when KernelHeight and KernelWidth are given
        Add("Conv2D", "KernelHeight", NonNegativeInt);
        Add("Conv2D", "KernelWidth", NonNegativeInt);
        Add("Conv2D", "Stride", AtLeastOne);
        Add("Conv2D", "Padding", NonNegativeInt);
        Add("Conv2D", "Dilation", AtLeastOne);
        foreach (string pool in new[] { "MaxPool", "AvgPool" })
        {
            Add(pool, "Size", AtLeastOne);
            Add(pool, "Stride", NonNegativeInt); // 0: the window size
            Add(pool, "Padding", NonNegativeInt);
        }
        Add("FractionalMaxPool", "Ratio", new Domain(1, false, 2, false, "it must be in (1, 2)"));
        Add("FractionalMaxPool", "TestDraws", Between(1, 64, "it must be between 1 and 64"));
        Add("Maxout", "Pieces", Between(2, 255, "it must be between 2 and 255"));
        Add("Dropout", "Rate", Probability);
        Add("AlphaDropout", "Rate", Probability);
        Add("BatchNorm", "Momentum", Fraction);
        foreach (string norm in new[] { "BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm" })
        {
            Add(norm, "Epsilon", Positive);
            Add(norm, "LearningRateScale", NonNegative);
        }
        Add("GroupNorm", "Groups", AtLeastOne);
        Add("ScalarBias", "LearningRateScale", NonNegative);
        Add("Multiplier", "LearningRateScale", NonNegative);
        Add("Residual", "Survival", new Domain(0, false, 1, true, "it must be in (0, 1]"));

        Add("LeakyReLU", "Alpha", Finite);
        Add("ELU", "Alpha", Positive);
        Add("Swish", "Beta", Finite);
        Add("PReLU", "Init", Finite);
        Add("PReLU", "LearningRateScale", NonNegative);

        Add("MulticlassHinge", "Margin", Positive);

        foreach (string optimizer in new[] { "Sgd", "Momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam", "AdamW", "Lbfgs" })
            Add(optimizer, "LearningRate", Positive);
        Add("Momentum", "Rho", Probability);
        Add("Nesterov", "Rho", Probability);
        Add("RMSProp", "Decay", Probability);
        foreach (string adaptive in new[] { "AdaGrad", "RMSProp", "Adam", "AdamW" }) Add(adaptive, "Epsilon", Positive);
        foreach (string adam in new[] { "Adam", "AdamW" })
        {
            Add(adam, "Beta1", Probability);
            Add(adam, "Beta2", Probability);
        }
        Add("AdamW", "WeightDecay", NonNegative);
        Add("Lbfgs", "History", Between(1, 1000, "it must be between 1 and 1000"));

        foreach (string penalty in new[] { "L2", "L1", "ElasticNet", "WeightDecay" }) Add(penalty, "Lambda", NonNegative);
        Add("ElasticNet", "Beta", NonNegative);
        Add("ClipGradientNorm", "MaxNorm", Positive);
        Add("ClipGradientValue", "Limit", Positive);

        Add("StepDecay", "Factor", OpenUnit);
        Add("StepDecay", "Every", NonNegativeInt);
        Add("StepDecay", "Milestones", AtLeastOne);
        foreach (string decay in new[] { "CosineDecay", "LinearDecay" })
        {
            Add(decay, "Steps", NonNegativeInt);
            Add(decay, "Epochs", NonNegativeInt);
            Add(decay, "MinFactor", Fraction);
        }
        Add("WarmRestarts", "Epochs", AtLeastOne);
        Add("WarmRestarts", "Multiplier", Between(1, float.MaxValue, "periods cannot shrink: it must be at least 1"));
        Add("WarmRestarts", "MinFactor", Fraction);
        Add("Warmup", "Steps", AtLeastOne);
        Add("ReduceOnPlateau", "Factor", OpenUnit);
        Add("ReduceOnPlateau", "Patience", NonNegativeInt);
        Add("ReduceOnPlateau", "Threshold", NonNegative);
        Add("ReduceOnPlateau", "MinFactor", Fraction);
        return t;
    }

    private sealed class KeyComparer : IEqualityComparer<(string, string)>
    {
        public bool Equals((string, string) x, (string, string) y) =>
            string.Equals(x.Item1, y.Item1, StringComparison.Ordinal) && string.Equals(x.Item2, y.Item2, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode((string, string) key) =>
            StringComparer.Ordinal.GetHashCode(key.Item1) * 31 + StringComparer.OrdinalIgnoreCase.GetHashCode(key.Item2);
    }

    /// <summary>
    /// Checks every argument of one attribute: table domain, finite floats, defined enum members. Arguments whose
    /// location already carries a diagnostic are skipped (the parser said it better).
    /// </summary>
    public static void Check(AttributeData data, AttributeSyntax? syntax, string attribute, string owner, List<DiagnosticInfo> diagnostics)
    {
        var reported = new HashSet<LocationInfo>(diagnostics.Where(d => d.Location is not null).Select(d => d.Location!));
        IMethodSymbol? ctor = data.AttributeConstructor;
        for (int i = 0; i < data.ConstructorArguments.Length; i++)
        {
            string name = ctor is not null && i < ctor.Parameters.Length ? ctor.Parameters[i].Name : "#" + i.ToString(CultureInfo.InvariantCulture);
            CheckOne(data.ConstructorArguments[i], attribute, name, owner, Location(syntax, name, i), reported, diagnostics);
        }
        foreach (KeyValuePair<string, TypedConstant> named in data.NamedArguments)
            CheckOne(named.Value, attribute, named.Key, owner, Location(syntax, named.Key, -1), reported, diagnostics);
    }

    private static void CheckOne(TypedConstant value, string attribute, string argument, string owner, LocationInfo? location,
        HashSet<LocationInfo> reported, List<DiagnosticInfo> diagnostics)
    {
        if (value.Kind == TypedConstantKind.Error || value.IsNull) return;
        if (location is not null && reported.Contains(location)) return;
        string? problem = null;
        object? shown = value.Kind == TypedConstantKind.Array ? null : value.Value;
        Table.TryGetValue((attribute, argument), out Domain? domain);
        if (value.Kind == TypedConstantKind.Enum && value.Type is INamedTypeSymbol enumType)
        {
            bool defined = enumType.GetMembers().OfType<IFieldSymbol>().Any(f => f.HasConstantValue && Equals(f.ConstantValue, value.Value));
            if (!defined) problem = $"it is not a member of {enumType.ToDisplayString()}";
        }
        else if (value.Kind == TypedConstantKind.Array)
        {
            foreach (TypedConstant element in value.Values)
                if (element.Value is int n && domain is not null && !domain.Contains(n)) { shown = n; problem = "every element: " + domain.Rule; break; }
        }
        else if (value.Value is double or float)
        {
            double d = Convert.ToDouble(value.Value, CultureInfo.InvariantCulture);
            if (double.IsNaN(d) || Math.Abs(d) > float.MaxValue) problem = Finite.Rule;
            else if (domain is not null && !domain.Contains(d)) problem = domain.Rule;
        }
        else if (value.Value is int i && domain is not null && !domain.Contains(i)) problem = domain.Rule;
        if (problem is null) return;
        var info = DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, location, owner, argument, shown, problem);
        diagnostics.Add(info);
        if (location is not null) reported.Add(location);
    }

    private static LocationInfo? Location(AttributeSyntax? syntax, string name, int positional) =>
        LocationInfo.From(ModelSyntax.Argument(syntax, name, positional)) ?? LocationInfo.From(syntax);
}
