using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>
/// A value as the flow sees it: an operation, the parameter bindings of the calls followed to reach it (so a
/// parameter of a helper resolves to the caller's argument), and, for <c>var (a, b) = x</c>, the element position.
/// </summary>
public sealed class FlowValue
{
    public FlowValue(IOperation operation, Bindings? bindings = null, int position = -1)
    {
        Operation = operation;
        Bindings = bindings;
        Position = position;
    }

    public IOperation Operation { get; }
    public Bindings? Bindings { get; }

    /// <summary>The element of a deconstructed value (0, 1, …); −2 for an element of a foreach collection; −1 for the value itself.</summary>
    public int Position { get; }

    public FlowValue With(IOperation operation) => new(operation, Bindings, -1);
}

/// <summary>The arguments of the calls the flow followed into a method's body, innermost call first.</summary>
public sealed class Bindings
{
    private readonly Dictionary<IParameterSymbol, FlowValue> _arguments;

    private Bindings(Dictionary<IParameterSymbol, FlowValue> arguments) => _arguments = arguments;

    /// <summary>The bindings of a call of a source method: each parameter to its argument (with the caller's bindings).</summary>
    public static Bindings Of(IInvocationOperation call, Bindings? caller)
    {
        var arguments = new Dictionary<IParameterSymbol, FlowValue>(SymbolEqualityComparer.Default);
        foreach (IArgumentOperation argument in call.Arguments)
            if (argument.Parameter is { } parameter) arguments[parameter.OriginalDefinition] = new FlowValue(argument.Value, caller);
        return new Bindings(arguments);
    }

    public FlowValue? Argument(IParameterSymbol parameter) =>
        _arguments.TryGetValue(parameter.OriginalDefinition, out FlowValue? value) ? value : null;
}

/// <summary>
/// Follows values to where they come from, within bounds (<see cref="MaxDepth"/> steps): locals to every definition in
/// their body (initializer, assignments, foreach collection, deconstruction), source fields and auto-properties to their
/// initializer and assignments, calls of source methods to their returned values (binding the callee's parameters to the
/// call's arguments), object initializers and <c>with</c> expressions to the members they set. Flow-insensitive: a local
/// assigned twice has two origins. What it cannot follow (a parameter without a binding, a metadata member, a ref/out
/// write) is a leaf, and the rules then decide nothing from it.
/// </summary>
public static class ValueFlow
{
    public const int MaxDepth = 8;

    /// <summary>The leaves <paramref name="value"/> comes from; null entries stand for writes that cannot be followed.</summary>
    /// <param name="value">Where to start.</param>
    /// <param name="cache">The compilation's cache.</param>
    /// <param name="cancellationToken">Cancellation.</param>
    /// <param name="onName">Called with the name of every local, field, property and source method passed through, nearest first.</param>
    public static List<FlowValue?> Origins(FlowValue value, FlowCache cache, CancellationToken cancellationToken, System.Action<string>? onName = null)
    {
        var result = new List<FlowValue?>();
        Collect(value, cache, cancellationToken, 0, result, new HashSet<ISymbol>(SymbolEqualityComparer.Default), onName);
        return result;
    }

    /// <summary>The one leaf <paramref name="operation"/> comes from, or null when there are several, or one that cannot be followed.</summary>
    public static FlowValue? Single(IOperation? operation, FlowCache cache, CancellationToken cancellationToken, Bindings? bindings = null)
    {
        if (operation is null) return null;
        List<FlowValue?> origins = Origins(new FlowValue(operation, bindings), cache, cancellationToken);
        return origins.Count == 1 ? origins[0] : null;
    }

    private static void Collect(FlowValue value, FlowCache cache, CancellationToken cancellationToken, int depth, List<FlowValue?> result, HashSet<ISymbol> visited, System.Action<string>? onName)
    {
        IOperation? operation = Operations.Unwrap(value.Operation);
        if (operation is null || depth > MaxDepth) { result.Add(null); return; }
        if (value.Position != -1) { result.Add(new FlowValue(operation, value.Bindings, value.Position)); return; }
        switch (operation)
        {
            case ILocalReferenceOperation local:
            {
                if (!visited.Add(local.Local)) return;
                onName?.Invoke(local.Local.Name);
                IReadOnlyList<FlowCache.Definition> definitions = FlowCache.LocalDefinitions(Operations.Root(local), local.Local);
                if (definitions.Count == 0) { result.Add(null); return; }
                foreach (FlowCache.Definition definition in definitions)
                {
                    if (definition.Value is null) result.Add(null);
                    else if (definition.Position != -1) result.Add(new FlowValue(definition.Value, value.Bindings, definition.Position));
                    else Collect(new FlowValue(definition.Value, value.Bindings), cache, cancellationToken, depth + 1, result, visited, onName);
                }
                return;
            }
            case IParameterReferenceOperation parameter when value.Bindings?.Argument(parameter.Parameter) is { } argument:
                onName?.Invoke(parameter.Parameter.Name);
                Collect(argument, cache, cancellationToken, depth + 1, result, visited, onName);
                return;
            case IFieldReferenceOperation { Field.IsConst: false } field when FollowMember(field.Field, cache, cancellationToken) is { } fieldDefinitions:
                if (!visited.Add(field.Field)) return;
                onName?.Invoke(field.Field.Name);
                foreach (FlowCache.Definition definition in fieldDefinitions)
                    if (definition.Value is null) result.Add(null); else Collect(new FlowValue(definition.Value), cache, cancellationToken, depth + 1, result, visited, onName);
                return;
            case IPropertyReferenceOperation { Property.IsIndexer: false } property when FollowMember(property.Property, cache, cancellationToken) is { } propertyDefinitions:
                if (!visited.Add(property.Property)) return;
                onName?.Invoke(property.Property.Name);
                foreach (FlowCache.Definition definition in propertyDefinitions)
                    if (definition.Value is null) result.Add(null); else Collect(new FlowValue(definition.Value), cache, cancellationToken, depth + 1, result, visited, onName);
                return;
            case IInvocationOperation call when cache.Body(call.TargetMethod, cancellationToken) is { } body && !call.TargetMethod.IsImplicitlyDeclared:
            {
                if (!visited.Add(call.TargetMethod)) { result.Add(null); return; }
                onName?.Invoke(call.TargetMethod.Name);
                Bindings bindings = Bindings.Of(call, value.Bindings);
                bool any = false;
                foreach (IReturnOperation ret in Returns(body))
                {
                    any = true;
                    if (ret.ReturnedValue is null) result.Add(null);
                    else Collect(new FlowValue(ret.ReturnedValue, bindings), cache, cancellationToken, depth + 1, result, visited, onName);
                }
                visited.Remove(call.TargetMethod);
                if (!any) result.Add(value.With(operation));
                return;
            }
            default:
                result.Add(value.With(operation));
                return;
        }
    }

    /// <summary>The definitions of a source field or auto-property that the flow follows (not readonly metadata, not a record's positional copy).</summary>
    private static System.Collections.Immutable.ImmutableArray<FlowCache.Definition>? FollowMember(ISymbol member, FlowCache cache, CancellationToken cancellationToken)
    {
        System.Collections.Immutable.ImmutableArray<FlowCache.Definition>? definitions = cache.MemberDefinitions(member, cancellationToken);
        return definitions is { Length: > 0 } ? definitions : null;
    }

    /// <summary>The return operations of a body, not those of lambdas or local functions inside it.</summary>
    public static IEnumerable<IReturnOperation> Returns(IOperation body)
    {
        var stack = new Stack<IOperation>();
        stack.Push(body);
        while (stack.Count > 0)
        {
            IOperation operation = stack.Pop();
            if (operation is IReturnOperation { Kind: OperationKind.Return } ret) { yield return ret; continue; }
            foreach (IOperation child in operation.ChildOperations)
                if (child is not (IAnonymousFunctionOperation or ILocalFunctionOperation)) stack.Push(child);
        }
    }

    /// <summary>The constant number <paramref name="operation"/> evaluates to, following the flow and folding + − × ÷; null when unknown.</summary>
    public static double? Number(IOperation? operation, FlowCache cache, CancellationToken cancellationToken, Bindings? bindings = null, int depth = 0)
    {
        if (operation is null || depth > MaxDepth) return null;
        if (Operations.TryGetNumber(Operations.Unwrap(operation), out double constant)) return constant;
        FlowValue? origin = Single(operation, cache, cancellationToken, bindings);
        if (origin is null || origin.Position != -1) return null;
        IOperation leaf = origin.Operation;
        if (Operations.TryGetNumber(leaf, out constant)) return constant;
        if (leaf is IBinaryOperation binary)
        {
            double? left = Number(binary.LeftOperand, cache, cancellationToken, origin.Bindings, depth + 1);
            double? right = left is null ? null : Number(binary.RightOperand, cache, cancellationToken, origin.Bindings, depth + 1);
            if (left is not { } l || right is not { } r) return null;
            return binary.OperatorKind switch
            {
                BinaryOperatorKind.Add => l + r,
                BinaryOperatorKind.Subtract => l - r,
                BinaryOperatorKind.Multiply => l * r,
                BinaryOperatorKind.Divide when r != 0 => binary.Type?.SpecialType is SpecialType.System_Int32 or SpecialType.System_Int64 ? System.Math.Floor(l / r) : l / r,
                _ => null,
            };
        }
        return null;
    }

    /// <summary>What reading a member of an object gives.</summary>
    public enum MemberState { Unknown, Default, Set }

    /// <summary>
    /// The value of member <paramref name="name"/> of the object <paramref name="instance"/> evaluates to: set by the object
    /// initializer or a <c>with</c> expression (Set, with the value), left at the type's default (Default: an object creation or
    /// null/omitted argument that does not set it), or Unknown (the object comes from somewhere the flow cannot see).
    /// </summary>
    public static (MemberState State, FlowValue? Value) Member(IOperation? instance, string name, FlowCache cache, CancellationToken cancellationToken, Bindings? bindings = null, int depth = 0)
    {
        if (instance is null) return (MemberState.Default, null);
        if (depth > MaxDepth) return (MemberState.Unknown, null);
        if (Operations.Unwrap(instance) is ILiteralOperation { ConstantValue: { HasValue: true, Value: null } } or IDefaultValueOperation) return (MemberState.Default, null);
        FlowValue? origin = Single(instance, cache, cancellationToken, bindings);
        if (origin is null || origin.Position != -1) return (MemberState.Unknown, null);
        IOperation leaf = origin.Operation;
        if (leaf is ILiteralOperation { ConstantValue: { HasValue: true, Value: null } } or IDefaultValueOperation) return (MemberState.Default, null);
        IObjectOrCollectionInitializerOperation? initializer;
        IOperation? inner = null;
        switch (leaf)
        {
            case IObjectCreationOperation creation when creation.Arguments.Length == 0:
                initializer = creation.Initializer;
                break;
            case IWithOperation with:
                initializer = with.Initializer;
                inner = with.Operand;
                break;
            default:
                return (MemberState.Unknown, null);
        }
        foreach (IOperation set in initializer?.Initializers ?? Enumerable.Empty<IOperation>())
        {
            if (set is not IAssignmentOperation assignment) return (MemberState.Unknown, null);
            ISymbol? target = assignment.Target switch
            {
                IPropertyReferenceOperation p => p.Property,
                IFieldReferenceOperation f => f.Field,
                _ => null,
            };
            if (target is null) return (MemberState.Unknown, null);
            if (target.Name == name)
                return assignment is ISimpleAssignmentOperation simple ? (MemberState.Set, new FlowValue(simple.Value, origin.Bindings)) : (MemberState.Unknown, null);
        }
        return inner is null ? (MemberState.Default, null) : Member(inner, name, cache, cancellationToken, origin.Bindings, depth + 1);
    }

    /// <summary>The type of the object a value is created as (following the flow), or its static type when the flow ends elsewhere.</summary>
    public static ITypeSymbol? CreatedType(IOperation? operation, FlowCache cache, CancellationToken cancellationToken)
    {
        if (operation is null) return null;
        FlowValue? origin = Single(operation, cache, cancellationToken);
        if (origin?.Operation is IObjectCreationOperation creation) return creation.Type;
        if (origin?.Operation is IInvocationOperation call && call.Type is INamedTypeSymbol { IsAbstract: false, TypeKind: TypeKind.Class } returned) return returned;
        return Operations.Unwrap(operation)?.Type;
    }
}
