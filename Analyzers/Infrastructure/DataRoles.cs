using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>What an expression's names say about the data it holds.</summary>
public enum DataRole
{
    /// <summary>No name along the expression says anything.</summary>
    Unknown,
    /// <summary>The nearest telling name is a training name (train, training).</summary>
    Train,
    /// <summary>The nearest telling name is a held-out name (test, val, validation, holdout, eval, dev set).</summary>
    HeldOut,
    /// <summary>The nearest telling name says both (trainVal, trainTest): treated as not held out.</summary>
    Mixed,
}

/// <summary>
/// The naming heuristic of the code rules KLN0113 and KLN0121. An expression is classified by the first
/// name, walking from the use inwards, whose words say train or held-out data:
/// <c>split.Test.Features.AsSpan()</c> → AsSpan (a method, says nothing) → Features (nothing) → Test (held out).
/// Locals are followed to their initializer (or foreach collection), member accesses to their instance,
/// invocations to their receiver and then their arguments. Parameters end the walk. Only words count:
/// "latest", "contest" or "interval" are not "test" or "val".
/// </summary>
public static class DataRoles
{
    private static readonly string[] HeldOutWords = { "test", "tests", "testing", "val", "vals", "valid", "validation", "validate", "holdout", "heldout", "eval", "evaluation" };
    private static readonly string[] TrainWords = { "train", "training", "trainval", "trn" };
    private const int MaxDepth = 8;

    /// <summary>The role a single name expresses.</summary>
    public static DataRole OfName(string name)
    {
        List<string> words = Words.Split(name);
        bool heldOut = words.Any(w => HeldOutWords.Contains(w));
        string squashed = Words.Squashed(name);
        if (squashed.Contains("heldout") || squashed.Contains("holdout")) heldOut = true;
        bool train = words.Any(w => TrainWords.Contains(w));
        return heldOut && train ? DataRole.Mixed : heldOut ? DataRole.HeldOut : train ? DataRole.Train : DataRole.Unknown;
    }

    /// <summary>The role of the data <paramref name="operation"/> evaluates to.</summary>
    public static DataRole Classify(IOperation? operation) => Classify(operation, 0, new HashSet<ISymbol>(SymbolEqualityComparer.Default));

    private static DataRole Classify(IOperation? operation, int depth, HashSet<ISymbol> visited)
    {
        if (operation is null || depth > MaxDepth) return DataRole.Unknown;
        DataRole role;
        switch (operation)
        {
            case IConversionOperation conversion:
                return Classify(conversion.Operand, depth + 1, visited);
            case IParenthesizedOperation parenthesized:
                return Classify(parenthesized.Operand, depth + 1, visited);
            case IArgumentOperation argument:
                return Classify(argument.Value, depth + 1, visited);
            case ILocalReferenceOperation local:
                role = OfName(local.Local.Name);
                if (role != DataRole.Unknown || !visited.Add(local.Local)) return role;
                return Classify(Origin(local.Local, operation.SemanticModel), depth + 1, visited);
            case IParameterReferenceOperation parameter:
                return OfName(parameter.Parameter.Name);
            case IFieldReferenceOperation field:
                role = OfName(field.Field.Name);
                return role != DataRole.Unknown ? role : Classify(field.Instance, depth + 1, visited);
            case IPropertyReferenceOperation property:
                role = property.Property.IsIndexer ? DataRole.Unknown : OfName(property.Property.Name);
                return role != DataRole.Unknown ? role : Classify(property.Instance, depth + 1, visited);
            case IArrayElementReferenceOperation element:
                return Classify(element.ArrayReference, depth + 1, visited);
            case IInvocationOperation invocation:
                role = OfName(invocation.TargetMethod.Name);
                if (role != DataRole.Unknown) return role;
                role = Classify(invocation.Instance, depth + 1, visited);
                return role != DataRole.Unknown ? role : Combine(invocation.Arguments, depth, visited);
            case IObjectCreationOperation creation:
                return Combine(creation.Arguments, depth, visited);
            default:
                return DataRole.Unknown;
        }
    }

    /// <summary>Held out if any argument is; else train if any is; else unknown.</summary>
    private static DataRole Combine(IEnumerable<IArgumentOperation> arguments, int depth, HashSet<ISymbol> visited)
    {
        DataRole result = DataRole.Unknown;
        foreach (IArgumentOperation argument in arguments)
        {
            DataRole role = Classify(argument.Value, depth + 1, visited);
            if (role == DataRole.HeldOut) return role;
            if (role != DataRole.Unknown && result == DataRole.Unknown) result = role;
        }
        return result;
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
