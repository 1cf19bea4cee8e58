using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>Which part of the data an expression holds.</summary>
public enum DataRole
{
    /// <summary>Nothing says.</summary>
    Unknown,
    /// <summary>Training data: <c>.Train</c> of a split, a training file, or (as a tie-breaker) a training name.</summary>
    Train,
    /// <summary>Validation data: <c>.Test</c> of <c>ValidationSplit</c>, or (as a tie-breaker) a validation name.</summary>
    Validation,
    /// <summary>Test data: <c>.Test</c> of <c>Split</c>/<c>LoadDirectory</c>, a test file (t10k, test.csv), or (as a tie-breaker) a test name.</summary>
    Test,
    /// <summary>A name that says both (trainVal, trainTest): not held out.</summary>
    Mixed,
}

/// <summary>What one rule action needs to follow values: the compilation's <see cref="FlowCache"/>, the Kiln types and cancellation.</summary>
public sealed class CodeContext
{
    public CodeContext(Compilation compilation, KilnTypes types, CancellationToken cancellationToken)
    {
        Cache = FlowCache.For(compilation);
        Types = types;
        CancellationToken = cancellationToken;
    }

    public FlowCache Cache { get; }
    public KilnTypes Types { get; }
    public CancellationToken CancellationToken { get; }
}

/// <summary>
/// Where the data an expression holds comes from (the code rules KLN0113, KLN0121, KLN0130, KLN0131). The value is
/// followed with <see cref="ValueFlow"/> (locals, fields, helper returns) and through data derivations (<c>.Features</c>,
/// <c>.Labels</c>, <c>AsSpan</c>, <c>Subset</c>, element access, a preprocessor's <c>Transform(data)</c>) to its source:
/// <list type="bullet">
/// <item><c>.Train</c> of a <c>DataSplit</c> (or the first element of <c>var (a, b) = split</c>) is training data;</item>
/// <item><c>.Test</c> (the second element) is validation data when the split comes from <c>ValidationSplit</c>, test data when
/// it comes from <c>Split</c>, <c>Idx.LoadDirectory</c> or any other source; a <c>new DataSplit(a, b)</c> gives b's role;</item>
/// <item>a loader (<c>Idx.Load</c>, <c>Idx.Read</c>, <c>Csv.Load</c>) reading a constant path is test data for a test file
/// (t10k…, …test…), validation data for a validation file, training data for a training file.</item>
/// </list>
/// Only when the source says nothing do names break the tie: the first name along the way (local, parameter, field,
/// property, method) whose words say train or held-out data — "latest", "contest" or "interval" are not "test" or "val" —
/// and a held-out name counts only with a non-name signal that agrees (<see cref="IsEvaluatedNearby"/>: the same method also
/// scores a model on that data). A source always wins over a name: <c>var test = split.Train;</c> is training data.
/// </summary>
public static class DataRoles
{
    private static readonly string[] TestWords = { "test", "tests", "testing", "holdout", "heldout", "t10k" };
    private static readonly string[] ValidationWords = { "val", "vals", "valid", "validation", "validate", "eval", "evaluation", "dev" };
    private static readonly string[] TrainWords = { "train", "training", "trainval", "trn" };

    /// <summary>True for validation and test data.</summary>
    public static bool IsHeldOut(this DataRole role) => role is DataRole.Validation or DataRole.Test;

    /// <summary>The role a single name expresses.</summary>
    public static DataRole OfName(string name)
    {
        List<string> words = Words.Split(name);
        string squashed = Words.Squashed(name);
        bool test = words.Any(w => TestWords.Contains(w)) || squashed.Contains("heldout") || squashed.Contains("holdout") || squashed.Contains("t10k");
        bool validation = words.Any(w => ValidationWords.Contains(w));
        bool train = words.Any(w => TrainWords.Contains(w));
        if (train && (test || validation)) return DataRole.Mixed;
        return test ? DataRole.Test : validation ? DataRole.Validation : train ? DataRole.Train : DataRole.Unknown;
    }

    /// <summary>The role of the data <paramref name="operation"/> evaluates to.</summary>
    public static DataRole Classify(IOperation? operation, CodeContext context) => Classify(operation, context, null, null);

    /// <summary>
    /// The role of the data <paramref name="operation"/> evaluates to (within <paramref name="bindings"/>), calling
    /// <paramref name="onParameter"/> for every parameter without a binding the data derives from.
    /// </summary>
    public static DataRole Classify(IOperation? operation, CodeContext context, Bindings? bindings, Action<IParameterSymbol>? onParameter)
    {
        if (operation is null) return DataRole.Unknown;
        var walk = new Walk(context, onParameter);
        DataRole role = walk.Value(new FlowValue(operation, bindings), 0);
        if (role != DataRole.Unknown) return role;
        // The name is only a tie-breaker: held-out data by name alone counts when the code also treats the data as held out.
        return walk.Fallback.IsHeldOut() && !IsEvaluatedNearby(operation, context) ? DataRole.Unknown : walk.Fallback;
    }

    /// <summary>
    /// The non-name signal that lets a held-out name decide: the data (its parameter, local or field, through derivations such
    /// as <c>.Features</c> or <c>AsSpan</c>) is also what the same method body scores a model on — <c>Predict</c>'s input,
    /// <c>Evaluate</c>/<c>EvaluateTargets</c>' data, <c>Trainer.Evaluate</c>'s data, or the <c>validation</c> argument of
    /// <c>Trainer.Fit</c>.
    /// </summary>
    public static bool IsEvaluatedNearby(IOperation operation, CodeContext context)
    {
        var sources = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        Sources(operation, context, sources, names: false);
        if (sources.Count == 0) return false;
        var evaluated = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
        foreach (IOperation data in EvaluatedData(Operations.Root(operation), context.Types)) Sources(data, context, evaluated, names: false);
        return sources.Overlaps(evaluated);
    }

    /// <summary>
    /// The data every inference call under <paramref name="root"/> scores a model on (Predict's input, Evaluate's and
    /// EvaluateTargets' data, Trainer.Evaluate's data, Trainer.Fit's validation set); <paramref name="model"/>, when given,
    /// keeps the calls on that model only.
    /// </summary>
    public static List<IOperation> EvaluatedData(IOperation root, KilnTypes types, ISymbol? model = null)
    {
        var data = new List<IOperation>();
        foreach (IInvocationOperation call in root.DescendantsAndSelf().OfType<IInvocationOperation>())
        {
            IMethodSymbol method = call.TargetMethod;
            bool onModel = method.Name is "Predict" or "Evaluate" or "EvaluateTargets" && types.IsModelType(method.ContainingType);
            bool trainer = !onModel && types.IsTrainerMethod(method, "Evaluate");
            bool fit = model is null && !onModel && !trainer && types.IsTrainerMethod(method, "Fit");
            if (!onModel && !trainer && !fit) continue;
            IOperation? evaluated = onModel ? call.Instance : call.Arguments.FirstOrDefault(a => a.Parameter?.Name == "model")?.Value;
            if (model is not null && (evaluated is null || !SymbolEqualityComparer.Default.Equals(Symbol(evaluated), model))) continue;
            IEnumerable<IArgumentOperation> arguments = fit
                ? call.Arguments.Where(a => a.Parameter?.Name == "validation")
                : call.Arguments.Where(a => a.Value.Type?.SpecialType != SpecialType.System_Int32 && a.Parameter?.Name != "model");
            if (method.Name == "Predict") arguments = arguments.Take(1);
            int before = data.Count;
            foreach (IArgumentOperation argument in arguments) data.Add(argument.Value);
            if (data.Count == before && !fit) data.Add(call);
        }
        return data;
    }

    /// <summary>
    /// The parameters the data derive from (through locals and derivations) and the variable they are read from (x of
    /// x.Features, x.AsSpan()…), added to <paramref name="into"/>.
    /// </summary>
    public static void Sources(IOperation data, CodeContext context, HashSet<ISymbol> into, bool names = true)
    {
        if (names) Classify(data, context, null, p => into.Add(p.OriginalDefinition));
        else new Walk(context, p => into.Add(p.OriginalDefinition)).Value(new FlowValue(data), 0);
        IOperation? current = Operations.Unwrap(data);
        for (int hop = 0; hop < 6 && current is not null; hop++)
        {
            current = current switch
            {
                IPropertyReferenceOperation { Instance: { } instance } when !(instance is IInstanceReferenceOperation) => instance,
                IInvocationOperation { Instance: { } instance } => instance,
                IInvocationOperation { TargetMethod.IsExtensionMethod: true, Arguments.Length: > 0 } call => call.Arguments[0].Value,
                IArrayElementReferenceOperation element => element.ArrayReference,
                _ => null,
            } is { } next ? Operations.Unwrap(next) : AddSymbol(current, into);
        }
    }

    private static IOperation? AddSymbol(IOperation operation, HashSet<ISymbol> into)
    {
        if (Symbol(operation) is { } symbol && operation is not IInstanceReferenceOperation) into.Add(symbol.OriginalDefinition);
        return null;
    }

    /// <summary>The local, parameter, field, property or type (for <c>this</c>) an operation reads.</summary>
    public static ISymbol? Symbol(IOperation operation) => Operations.Unwrap(operation) switch
    {
        ILocalReferenceOperation l => l.Local,
        IParameterReferenceOperation p => p.Parameter,
        IFieldReferenceOperation f => f.Field,
        IPropertyReferenceOperation p => p.Property,
        IInstanceReferenceOperation i => i.Type,
        _ => null,
    };

    /// <summary>True when <paramref name="operation"/> holds data derived from parameter <paramref name="parameter"/> (through locals and derivations).</summary>
    public static bool DerivesFrom(IOperation operation, IParameterSymbol parameter, CodeContext context)
    {
        bool found = false;
        Classify(operation, context, null, p => found |= SymbolEqualityComparer.Default.Equals(p, parameter));
        return found;
    }

    /// <summary>A type that holds samples: Dataset, DataSplit, arrays, spans and memories, collections of them.</summary>
    public static bool IsDataType(ITypeSymbol? type, KilnTypes types)
    {
        switch (type)
        {
            case null: return false;
            case IArrayTypeSymbol: return true;
            case INamedTypeSymbol named:
                if (KilnTypes.Is(named, types.Dataset) || KilnTypes.Is(named, types.DataSplit)) return true;
                if (named.Name is "Span" or "ReadOnlySpan" or "Memory" or "ReadOnlyMemory" && named.ContainingNamespace?.ToDisplayString() == "System") return true;
                if (named.IsGenericType && named.ContainingNamespace?.ToDisplayString() is "System.Collections.Generic" && named.TypeArguments.Length == 1)
                    return IsDataType(named.TypeArguments[0], types);
                return false;
            default: return false;
        }
    }

    private sealed class Walk
    {
        private const int MaxDepth = 12;
        private readonly CodeContext _context;
        private readonly Action<IParameterSymbol>? _onParameter;
        private readonly Action<string> _onName;

        public Walk(CodeContext context, Action<IParameterSymbol>? onParameter)
        {
            _context = context;
            _onParameter = onParameter;
            _onName = Name;
        }

        /// <summary>The role the first telling name along the walk expresses (nearest first).</summary>
        public DataRole Fallback { get; private set; }

        private void Name(string name)
        {
            if (Fallback == DataRole.Unknown) Fallback = OfName(name);
        }

        public DataRole Value(FlowValue value, int depth)
        {
            if (depth > MaxDepth) return DataRole.Unknown;
            DataRole result = DataRole.Unknown;
            foreach (FlowValue? origin in ValueFlow.Origins(value, _context.Cache, _context.CancellationToken, _onName))
                if (origin is not null) result = Combine(result, Leaf(origin, depth + 1));
            return result;
        }

        /// <summary>Held out beats training data: test, then validation, then train.</summary>
        private static DataRole Combine(DataRole a, DataRole b)
        {
            foreach (DataRole role in new[] { DataRole.Test, DataRole.Validation, DataRole.Train, DataRole.Mixed })
                if (a == role || b == role) return role;
            return DataRole.Unknown;
        }

        private DataRole Leaf(FlowValue leaf, int depth)
        {
            IOperation operation = leaf.Operation;
            KilnTypes types = _context.Types;
            if (leaf.Position == -2) return Value(new FlowValue(operation, leaf.Bindings), depth); // an element of a foreach collection
            if (leaf.Position >= 0)
                return KilnTypes.Is(operation.Type, types.DataSplit) ? (leaf.Position == 0 ? DataRole.Train : SplitKind(leaf, depth)) : DataRole.Unknown;
            switch (operation)
            {
                case IArgumentOperation argument:
                    return Value(leaf.With(argument.Value), depth);
                case IParameterReferenceOperation parameter:
                    Name(parameter.Parameter.Name);
                    _onParameter?.Invoke(parameter.Parameter);
                    return DataRole.Unknown;
                case IPropertyReferenceOperation property when KilnTypes.Is(property.Property.ContainingType, types.DataSplit) && property.Instance is { } split:
                    if (property.Property.Name == "Train") return DataRole.Train;
                    return property.Property.Name == "Test" ? SplitKind(leaf.With(split), depth) : DataRole.Unknown;
                case IPropertyReferenceOperation property:
                    if (!property.Property.IsIndexer) Name(property.Property.Name);
                    return property.Instance is null ? DataRole.Unknown : Value(leaf.With(property.Instance), depth);
                case IFieldReferenceOperation field:
                    Name(field.Field.Name);
                    return field.Instance is null ? DataRole.Unknown : Value(leaf.With(field.Instance), depth);
                case IArrayElementReferenceOperation element:
                    return Value(leaf.With(element.ArrayReference), depth);
                case IInvocationOperation call:
                {
                    if (Loader(call) is { } loaded) return loaded;
                    Name(call.TargetMethod.Name);
                    if (call.Instance is { } instance && IsDataType(instance.Type, types))
                    {
                        DataRole role = Value(leaf.With(instance), depth);
                        if (role != DataRole.Unknown) return role;
                    }
                    return Arguments(leaf, call.Arguments, depth);
                }
                case IObjectCreationOperation creation:
                    return Arguments(leaf, creation.Arguments, depth);
                default:
                    return DataRole.Unknown;
            }
        }

        private DataRole Arguments(FlowValue leaf, IEnumerable<IArgumentOperation> arguments, int depth)
        {
            DataRole result = DataRole.Unknown;
            foreach (IArgumentOperation argument in arguments)
                if (IsDataType(argument.Value.Type, _context.Types) || argument.Value.Type?.SpecialType == SpecialType.System_String)
                    result = Combine(result, Value(leaf.With(argument.Value), depth));
            return result;
        }

        /// <summary>The role of the second part of a split: validation for ValidationSplit, that of b for new DataSplit(a, b), else test (a validation name on the way decides validation).</summary>
        private DataRole SplitKind(FlowValue split, int depth)
        {
            DataRole named = DataRole.Unknown;
            foreach (FlowValue? origin in ValueFlow.Origins(split.With(split.Operation), _context.Cache, _context.CancellationToken, n => { if (named == DataRole.Unknown) named = OfName(n); }))
            {
                switch (origin?.Operation)
                {
                    case IInvocationOperation { TargetMethod.Name: "ValidationSplit" }:
                        return DataRole.Validation;
                    case IObjectCreationOperation creation when creation.Arguments.Length == 2:
                        DataRole second = Value(origin.With(creation.Arguments[1].Value), depth + 1);
                        if (second != DataRole.Unknown) return second;
                        break;
                }
            }
            return named == DataRole.Validation ? DataRole.Validation : DataRole.Test;
        }

        /// <summary>A Kiln loader reading a constant path: the role of the file's name.</summary>
        private DataRole? Loader(IInvocationOperation call)
        {
            IMethodSymbol method = call.TargetMethod;
            if (method.ContainingType?.ContainingNamespace?.ToDisplayString() != "Kiln.Data" || method.ContainingType.Name is not ("Idx" or "Csv")
                || method.Name is not ("Load" or "Read")) return null;
            DataRole result = DataRole.Unknown;
            foreach (IArgumentOperation argument in call.Arguments)
            {
                if (argument.Value.Type?.SpecialType != SpecialType.System_String) continue;
                FlowValue? origin = ValueFlow.Single(argument.Value, _context.Cache, _context.CancellationToken);
                if (Operations.ConstantString(origin?.Operation) is not { } path) continue;
                string file = path.Replace('\\', '/');
                file = file.Substring(file.LastIndexOf('/') + 1);
                result = Combine(result, OfName(file));
            }
            return result == DataRole.Unknown ? null : result;
        }
    }

    /// <summary>The expression a local is initialised from (its declarator's initializer or its foreach collection), as an operation.</summary>
    public static IOperation? Origin(ILocalSymbol local, SemanticModel? model)
    {
        if (model is null) return null;
        foreach (SyntaxReference reference in local.DeclaringSyntaxReferences)
        {
            if (reference.SyntaxTree != model.SyntaxTree) continue;
            SyntaxNode node = reference.GetSyntax();
            ExpressionSyntax? origin = node switch
            {
                VariableDeclaratorSyntax { Initializer.Value: { } value } => value,
                ForEachStatementSyntax forEach => forEach.Expression,
                _ => null,
            };
            if (origin is not null) return model.GetOperation(origin);
        }
        return null;
    }
}
