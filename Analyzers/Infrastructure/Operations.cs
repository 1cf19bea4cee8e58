using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>Small IOperation helpers shared by the code rules.</summary>
public static class Operations
{
    /// <summary>The operation without implicit or explicit conversions and parentheses around it.</summary>
    public static IOperation? Unwrap(IOperation? operation)
    {
        while (true)
        {
            switch (operation)
            {
                case IConversionOperation conversion: operation = conversion.Operand; break;
                case IParenthesizedOperation parenthesized: operation = parenthesized.Operand; break;
                default: return operation;
            }
        }
    }

    /// <summary>The first ancestor of <paramref name="operation"/> that is not a conversion or parentheses, and the child it came from.</summary>
    public static (IOperation? Parent, IOperation Child) Outer(IOperation operation)
    {
        IOperation child = operation;
        IOperation? parent = operation.Parent;
        while (parent is IConversionOperation or IParenthesizedOperation)
        {
            child = parent;
            parent = parent.Parent;
        }
        return (parent, child);
    }

    /// <summary>The outermost operation of the body <paramref name="operation"/> is in (the method body, a field initializer, ...).</summary>
    public static IOperation Root(IOperation operation)
    {
        while (operation.Parent is { } parent) operation = parent;
        return operation;
    }

    /// <summary>The method the operation runs in: the innermost local function, else <paramref name="containingSymbol"/> (lambdas count as their enclosing method).</summary>
    public static IMethodSymbol? EnclosingMethod(IOperation operation, ISymbol containingSymbol)
    {
        for (IOperation? current = operation.Parent; current is not null; current = current.Parent)
            if (current is ILocalFunctionOperation localFunction) return localFunction.Symbol;
        return containingSymbol as IMethodSymbol;
    }

    /// <summary>Every reference to <paramref name="local"/> under <paramref name="root"/>.</summary>
    public static IEnumerable<ILocalReferenceOperation> References(IOperation root, ILocalSymbol local) =>
        root.DescendantsAndSelf().OfType<ILocalReferenceOperation>().Where(r => SymbolEqualityComparer.Default.Equals(r.Local, local));

    /// <summary>True for a numeric constant equal to <paramref name="value"/>.</summary>
    public static bool IsConstant(IOperation? operation, double value) =>
        TryGetNumber(Unwrap(operation), out double actual) && actual == value;

    /// <summary>The numeric constant value of an operation, if it has one.</summary>
    public static bool TryGetNumber(IOperation? operation, out double value)
    {
        value = 0;
        if (operation is null || !operation.ConstantValue.HasValue) return false;
        object? constant = operation.ConstantValue.Value;
        switch (constant)
        {
            case double d: value = d; return true;
            case float f: value = f; return true;
            case int i: value = i; return true;
            case long l: value = l; return true;
            case decimal m: value = (double)m; return true;
            case short s: value = s; return true;
            case byte b: value = b; return true;
            default: return false;
        }
    }

    /// <summary>The constant string of an operation, if it has one.</summary>
    public static string? ConstantString(IOperation? operation) =>
        operation is not null && operation.ConstantValue.HasValue ? operation.ConstantValue.Value as string : null;

    /// <summary>
    /// Where a diagnostic on a call goes: from the method name to the end of the arguments (<c>Uniform("lr", 1e-4, 0.1)</c>
    /// in <c>space.LogUniform(…).Uniform("lr", 1e-4, 0.1)</c>), so calls in a fluent chain get distinct locations.
    /// </summary>
    public static Location CallLocation(IInvocationOperation invocation)
    {
        SyntaxNode syntax = invocation.Syntax;
        if (syntax is Microsoft.CodeAnalysis.CSharp.Syntax.InvocationExpressionSyntax { Expression: Microsoft.CodeAnalysis.CSharp.Syntax.MemberAccessExpressionSyntax access } call)
            return Location.Create(syntax.SyntaxTree, Microsoft.CodeAnalysis.Text.TextSpan.FromBounds(access.Name.SpanStart, call.Span.End));
        return syntax.GetLocation();
    }

    /// <summary>The source text of an operation, shortened for messages.</summary>
    public static string Text(IOperation operation, int max = 60)
    {
        string text = operation.Syntax.ToString().Replace("\r", " ").Replace("\n", " ");
        return text.Length <= max ? text : text.Substring(0, max - 1) + "…";
    }
}
