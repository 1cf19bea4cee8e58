using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>What a parameter's data can reach inside a method.</summary>
public enum SinkKind
{
    /// <summary>A training-mode call (TrainStep, ComputeGradients, Trainer.Fit's training set, Lbfgs.Minimize): KLN0113.</summary>
    TrainingData,
    /// <summary>The data a preprocessing Fit learns its statistics from: KLN0121.</summary>
    PreprocessingFit,
    /// <summary>An augmentation or an unconditional random mask: KLN0131.</summary>
    TrainingNoise,
}

/// <summary>
/// The interprocedural part of the code rules: a summary per source method and <see cref="SinkKind"/> saying which of its
/// parameters' data reach a sink of that kind, directly or through further calls of source methods (up to
/// <see cref="MaxCallDepth"/> calls deep). Summaries are cached per compilation in <see cref="FlowCache"/>, so a helper is
/// read once however often it is called. A rule then checks a call of the helper as if the sink were at the call:
/// <c>Step(model, split.Test)</c>, where <c>Step</c> calls <c>TrainStep</c> on its second parameter, is training on test data.
/// </summary>
public static class ParameterSinks
{
    public const int MaxCallDepth = 4;

    /// <summary>The data operations in <paramref name="operation"/> that are sinks of the rule (for an invocation: its sink arguments' values).</summary>
    public delegate IEnumerable<IOperation> DirectSinks(IOperation operation, CodeContext context);

    /// <summary>For each parameter of <paramref name="method"/>, whether its data reach a sink; empty for methods without a source body.</summary>
    public static ImmutableArray<bool> Of(IMethodSymbol method, SinkKind kind, DirectSinks direct, CodeContext context, int depth = 0)
    {
        if (depth > MaxCallDepth || method.Parameters.Length == 0) return ImmutableArray<bool>.Empty;
        IOperation? body = context.Cache.Body(method, context.CancellationToken);
        if (body is null) return ImmutableArray<bool>.Empty;
        return context.Cache.Sinks(method, kind, () => Compute(method.OriginalDefinition, body, kind, direct, context, depth));
    }

    private static ImmutableArray<bool> Compute(IMethodSymbol method, IOperation body, SinkKind kind, DirectSinks direct, CodeContext context, int depth)
    {
        var reaches = new bool[method.Parameters.Length];
        void Mark(IOperation value) => DataRoles.Classify(value, context, null, p =>
        {
            if (SymbolEqualityComparer.Default.Equals(p.ContainingSymbol.OriginalDefinition, method) && p.Ordinal < reaches.Length) reaches[p.Ordinal] = true;
        });
        foreach (IOperation operation in body.Descendants())
        {
            foreach (IOperation sink in direct(operation, context)) Mark(sink);
            if (operation is IInvocationOperation call)
                foreach (IArgumentOperation argument in Reaching(call, kind, direct, context, depth + 1)) Mark(argument.Value);
        }
        return reaches.ToImmutableArray();
    }

    /// <summary>The arguments of a call of a source method whose data reach a sink of <paramref name="kind"/> inside it.</summary>
    public static IEnumerable<IArgumentOperation> Reaching(IInvocationOperation call, SinkKind kind, DirectSinks direct, CodeContext context, int depth = 0)
    {
        if (call.Arguments.Length == 0 || !call.TargetMethod.Locations.Any(l => l.IsInSource)) return Array.Empty<IArgumentOperation>();
        ImmutableArray<bool> summary = Of(call.TargetMethod, kind, direct, context, depth);
        if (summary.IsDefaultOrEmpty || !summary.Contains(true)) return Array.Empty<IArgumentOperation>();
        return call.Arguments.Where(a => a.Parameter is { } p && p.Ordinal < summary.Length && summary[p.Ordinal]);
    }
}
