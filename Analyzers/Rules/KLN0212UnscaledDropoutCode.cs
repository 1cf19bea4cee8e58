using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers.Rules;

/// <summary>
/// KLN0212 (pitfall 12, user-written layer code). A Bernoulli draw is a comparison (&lt;, ≤, &gt;, ≥) between a call of
/// NextDouble/NextSingle/NextFloat/Sample on a type whose name contains "Random" and a probability p. The rule reports
/// <list type="bullet">
/// <item>a mask <c>draw ? 1 : 0</c> (either order) that is multiplied into something, or whose target, method, type or
/// probability name says dropout (drop, dropout, mask, keep);</item>
/// <item>an in-place drop <c>x = draw ? x : 0</c>;</item>
/// <item>an <c>if (draw) x = 0;</c> whose other branch does not multiply or divide, when the zeroed value is an element indexed by
/// the variable of a loop around the draw (a fresh draw per element: what a mask does), or, as a tie-breaker, a name says dropout;</item>
/// <item>an element copy <c>y[i] = draw ? x[i] : 0</c> inside a loop over i;</item>
/// </list>
/// unless the kept value is itself scaled (<c>draw ? 1 / p : 0</c>, <c>draw ? x / p : 0</c>, a constant other than 1) or
/// the enclosing type multiplies or divides anything by an expression naming p (or by the constant p, 1/p, 1 − p or
/// 1/(1 − p)) elsewhere — the scaling of inverted dropout, or the ×p of vanilla dropout at test time.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnscaledDropoutCodeAnalyzer : KilnAnalyzer
{
    private static readonly string[] RandomMethods = { "NextDouble", "NextSingle", "NextFloat", "Sample" };
    private static readonly string[] DropoutWords = { "drop", "dropout", "dropped", "mask", "masks", "keep", "dropconnect" };

    public override DiagnosticDescriptor Rule => Descriptors.UnscaledDropoutCode;

    protected override void Register(CompilationStartAnalysisContext context, KilnTypes types)
    {
        context.RegisterOperationAction(operationContext =>
            Guard(operationContext.ReportDiagnostic, operationContext.Operation.Syntax.GetLocation(), operationContext.CancellationToken,
                () => Analyze(operationContext)), OperationKind.Conditional);
    }

    private void Analyze(OperationAnalysisContext context)
    {
        var conditional = (IConditionalOperation)context.Operation;
        if (!TryBernoulli(conditional.Condition, out IOperation? probability)) return;
        bool isExpression = conditional.Type is not null && conditional.WhenFalse is not null;
        bool report = isExpression ? UnscaledTernary(conditional, probability!, context.ContainingSymbol) : UnscaledIf(conditional, probability!, context.ContainingSymbol);
        if (!report || ScaledElsewhere(conditional, probability!)) return;
        SyntaxNode where = isExpression ? conditional.Syntax : conditional.Condition.Syntax;
        string owner = conditional.Syntax.FirstAncestorOrSelf<BaseTypeDeclarationSyntax>()?.Identifier.ValueText ?? context.ContainingSymbol.Name;
        context.ReportDiagnostic(Diagnostic.Create(Rule, where.GetLocation(), owner, Operations.Text(probability!)));
    }

    /// <summary>A comparison of a uniform random draw with a probability; <paramref name="probability"/> is the other side.</summary>
    internal static bool TryBernoulli(IOperation condition, out IOperation? probability)
    {
        probability = null;
        if (Operations.Unwrap(condition) is not IBinaryOperation binary
            || binary.OperatorKind is not (BinaryOperatorKind.LessThan or BinaryOperatorKind.LessThanOrEqual or BinaryOperatorKind.GreaterThan or BinaryOperatorKind.GreaterThanOrEqual))
            return false;
        bool left = IsRandomDraw(binary.LeftOperand), right = IsRandomDraw(binary.RightOperand);
        if (left == right) return false;
        probability = left ? binary.RightOperand : binary.LeftOperand;
        return true;
    }

    private static bool IsRandomDraw(IOperation operation) => operation.DescendantsAndSelf().OfType<IInvocationOperation>().Any(call =>
        RandomMethods.Contains(call.TargetMethod.Name) && call.TargetMethod.ContainingType.Name.IndexOf("Random", StringComparison.OrdinalIgnoreCase) >= 0);

    private static bool UnscaledTernary(IConditionalOperation conditional, IOperation probability, ISymbol containingSymbol)
    {
        IOperation? whenTrue = Operations.Unwrap(conditional.WhenTrue), whenFalse = Operations.Unwrap(conditional.WhenFalse);
        IOperation? kept;
        if (Operations.IsConstant(whenFalse, 0)) kept = whenTrue;
        else if (Operations.IsConstant(whenTrue, 0)) kept = whenFalse;
        else return false;
        if (kept is null) return false;

        (IOperation? parent, IOperation child) = Operations.Outer(conditional);
        if (kept.ConstantValue.HasValue)
        {
            if (!Operations.IsConstant(kept, 1)) return false; // a scaled constant such as 2 (= 1/0.5)
            bool multiplied = parent is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply }
                || (parent is ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Multiply } compound && compound.Value == child);
            return multiplied || NamesSayDropout(parent, conditional, probability, containingSymbol);
        }
        if (kept is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply or BinaryOperatorKind.Divide }) return false;
        // x = draw ? x : 0 — the value is dropped in place and kept unscaled; y[i] = draw ? x[i] : 0 — copied element by element.
        if (parent is not ISimpleAssignmentOperation assignment || assignment.Value != child) return false;
        return SyntaxFactory.AreEquivalent(assignment.Target.Syntax, kept.Syntax) || (PerElement(assignment.Target, conditional) && SameIndex(assignment.Target, kept));
    }

    private static bool UnscaledIf(IConditionalOperation conditional, IOperation probability, ISymbol containingSymbol)
    {
        ISimpleAssignmentOperation? zeroing = null;
        IOperation? other = null;
        if (ZeroAssignment(conditional.WhenTrue) is { } a) { zeroing = a; other = conditional.WhenFalse; }
        else if (ZeroAssignment(conditional.WhenFalse) is { } b) { zeroing = b; other = conditional.WhenTrue; }
        if (zeroing is null) return false;
        if (other is not null && other.DescendantsAndSelf().Any(o =>
                o is IBinaryOperation { OperatorKind: BinaryOperatorKind.Multiply or BinaryOperatorKind.Divide }
                or ICompoundAssignmentOperation { OperatorKind: BinaryOperatorKind.Multiply or BinaryOperatorKind.Divide }))
            return false;
        return PerElement(zeroing.Target, conditional) || NamesSayDropout(zeroing, conditional, probability, containingSymbol);
    }

    /// <summary>
    /// What the code does rather than what it is called: the zeroed value is an element indexed by the variable of a loop
    /// around the draw (a fresh draw per element of an array or span), which is a Bernoulli mask over the activations.
    /// </summary>
    private static bool PerElement(IOperation target, IConditionalOperation conditional)
    {
        IEnumerable<IOperation> indices = Operations.Unwrap(target) switch
        {
            IArrayElementReferenceOperation element => element.Indices,
            IPropertyReferenceOperation { Property.IsIndexer: true } indexer => indexer.Arguments.Select(a => a.Value),
            _ => Enumerable.Empty<IOperation>(),
        };
        var loopLocals = new HashSet<ILocalSymbol>(SymbolEqualityComparer.Default);
        for (IOperation? current = conditional.Parent; current is not null; current = current.Parent)
            if (current is ILoopOperation loop) foreach (ILocalSymbol local in loop.Locals) loopLocals.Add(local);
        return indices.Any(index => index.DescendantsAndSelf().OfType<ILocalReferenceOperation>().Any(r => loopLocals.Contains(r.Local)));
    }

    /// <summary>Two element accesses with the same index expressions (y[i] and x[i]).</summary>
    private static bool SameIndex(IOperation a, IOperation b)
    {
        static IOperation[]? Indices(IOperation o) => Operations.Unwrap(o) switch
        {
            IArrayElementReferenceOperation element => element.Indices.ToArray(),
            IPropertyReferenceOperation { Property.IsIndexer: true } indexer => indexer.Arguments.Select(x => x.Value).ToArray(),
            _ => null,
        };
        IOperation[]? x = Indices(a), y = Indices(b);
        return x is not null && y is not null && x.Length == y.Length && x.Zip(y, (i, j) => SyntaxFactory.AreEquivalent(i.Syntax, j.Syntax)).All(e => e);
    }

    /// <summary>The assignment of 0 that a branch consists of (a statement, or a block of one), if any.</summary>
    internal static ISimpleAssignmentOperation? ZeroAssignment(IOperation? branch)
    {
        while (branch is IBlockOperation { Operations.Length: 1 } block) branch = block.Operations[0];
        if (branch is IExpressionStatementOperation { Operation: ISimpleAssignmentOperation assignment } && Operations.IsConstant(assignment.Value, 0))
            return assignment;
        return null;
    }

    /// <summary>Whether the assignment target, the probability, the method or the type is named like dropout.</summary>
    private static bool NamesSayDropout(IOperation? parent, IConditionalOperation conditional, IOperation probability, ISymbol containingSymbol)
    {
        var names = new List<string> { containingSymbol.Name };
        if (containingSymbol.ContainingType is { } type) names.Add(type.Name);
        if (parent is IAssignmentOperation assignment) names.AddRange(TargetNames(assignment.Target));
        names.AddRange(probability.Syntax.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>().Select(n => n.Identifier.ValueText));
        return names.Any(n => Words.ContainsAny(n, DropoutWords));
    }

    private static IEnumerable<string> TargetNames(IOperation target)
    {
        switch (Operations.Unwrap(target))
        {
            case ILocalReferenceOperation local: yield return local.Local.Name; break;
            case IParameterReferenceOperation parameter: yield return parameter.Parameter.Name; break;
            case IFieldReferenceOperation field: yield return field.Field.Name; break;
            case IPropertyReferenceOperation property:
                yield return property.Property.Name;
                if (property.Instance is not null) foreach (string n in TargetNames(property.Instance)) yield return n;
                break;
            case IArrayElementReferenceOperation element:
                foreach (string n in TargetNames(element.ArrayReference)) yield return n;
                break;
        }
    }

    /// <summary>
    /// True when the enclosing type multiplies or divides by something that names the probability (or by a matching
    /// constant) anywhere outside the draw itself: the 1/p of inverted dropout or the ×p of vanilla dropout.
    /// </summary>
    private static bool ScaledElsewhere(IConditionalOperation conditional, IOperation probability)
    {
        var names = new HashSet<string>(probability.Syntax.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>().Select(n => n.Identifier.ValueText));
        bool constant = Operations.TryGetNumber(Operations.Unwrap(probability), out double p);
        if (names.Count == 0 && !constant) return false;
        SyntaxNode scope = (SyntaxNode?)conditional.Syntax.FirstAncestorOrSelf<TypeDeclarationSyntax>() ?? conditional.Syntax.SyntaxTree.GetRoot();
        Microsoft.CodeAnalysis.Text.TextSpan draw = conditional.Syntax.Span; // the mask itself does not count as scaling
        foreach (SyntaxNode node in scope.DescendantNodes())
        {
            ExpressionSyntax? left, right;
            switch (node)
            {
                case BinaryExpressionSyntax binary when binary.IsKind(SyntaxKind.MultiplyExpression) || binary.IsKind(SyntaxKind.DivideExpression):
                    left = binary.Left; right = binary.Right; break;
                case AssignmentExpressionSyntax assignment when assignment.IsKind(SyntaxKind.MultiplyAssignmentExpression) || assignment.IsKind(SyntaxKind.DivideAssignmentExpression):
                    left = assignment.Left; right = assignment.Right; break;
                default: continue;
            }
            foreach (ExpressionSyntax operand in new[] { left, right })
            {
                if (operand.DescendantNodesAndSelf().OfType<IdentifierNameSyntax>().Any(n => !draw.Contains(n.Span) && names.Contains(n.Identifier.ValueText))) return true;
                if (constant && operand.DescendantNodesAndSelf().OfType<LiteralExpressionSyntax>().Any(l => !draw.Contains(l.Span) && Matches(l, p))) return true;
            }
        }
        return false;
    }

    private static bool Matches(LiteralExpressionSyntax literal, double p)
    {
        if (!literal.IsKind(SyntaxKind.NumericLiteralExpression)) return false;
        double value;
        try { value = Convert.ToDouble(literal.Token.Value, System.Globalization.CultureInfo.InvariantCulture); }
        catch (FormatException) { return false; }
        catch (InvalidCastException) { return false; }
        foreach (double candidate in new[] { p, 1 / p, 1 - p, 1 / (1 - p) })
            if (!double.IsInfinity(candidate) && Math.Abs(value - candidate) <= 1e-6 * Math.Max(1, Math.Abs(candidate))) return true;
        return false;
    }
}
