using System;
using System.Collections.Generic;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Kiln.Generator.Spec;

/// <summary>
/// What <see cref="ModelSpecParser.ParseDetailed"/> returns to the analyzers: the generator's
/// <see cref="ParseResult"/>, the best-effort spec and the syntax it was read from. Not a pipeline value:
/// it holds syntax nodes, so the generator only ever passes <see cref="Result"/> on.
/// </summary>
public sealed class ParsedModel
{
    public ParsedModel(ParseResult result, ModelSpec? spec, ModelSyntax syntax)
        : this(result, spec, syntax, Array.Empty<Kiln.Generator.Layers.ActivationShape?>())
    {
    }

    internal ParsedModel(ParseResult result, ModelSpec? spec, ModelSyntax syntax, IReadOnlyList<Kiln.Generator.Layers.ActivationShape?> shapes)
    {
        Result = result;
        Spec = spec;
        Syntax = syntax;
        Shapes = shapes;
    }

    /// <summary>
    /// The activation shape entering each layer as the parser tracked it (index i: what layer i reads), and the model's output
    /// shape last; null from the first layer that reported a spec error on (its output is not known). For the analyzers.
    /// </summary>
    internal IReadOnlyList<Kiln.Generator.Layers.ActivationShape?> Shapes { get; }

    /// <summary>Exactly what the generator sees: the spec when valid, and the spec-validity diagnostics.</summary>
    public ParseResult Result { get; }

    /// <summary>
    /// The spec as far as it could be read, also when it has spec-validity errors (values then may be
    /// out of their domain); null only for a type without [Model].
    /// </summary>
    public ModelSpec? Spec { get; }

    /// <summary>Where each part of the spec was written.</summary>
    public ModelSyntax Syntax { get; }

    /// <summary>True when the generator reports at least one spec-validity error for this model.</summary>
    public bool HasSpecErrors => Result.Diagnostics.Count > 0;
}

/// <summary>
/// The attribute syntax behind a <see cref="ModelSpec"/>: <see cref="Layers"/>[i] declared
/// <c>Spec.Layers[i]</c>. Entries are null where the attribute came from metadata (never for source models).
/// </summary>
public sealed class ModelSyntax
{
    public ModelSyntax(AttributeSyntax? model, IReadOnlyList<AttributeSyntax?> layers, AttributeSyntax? loss, AttributeSyntax? optimizer,
        IReadOnlyList<AttributeSyntax?>? penalties = null, IReadOnlyList<AttributeSyntax?>? schedules = null)
    {
        Model = model;
        Layers = layers;
        Loss = loss;
        Optimizer = optimizer;
        Penalties = penalties ?? Array.Empty<AttributeSyntax?>();
        Schedules = schedules ?? Array.Empty<AttributeSyntax?>();
    }

    /// <summary>The [Model] attribute.</summary>
    public AttributeSyntax? Model { get; }

    /// <summary>One attribute per layer, indexed like <see cref="ModelSpec.Layers"/>.</summary>
    public IReadOnlyList<AttributeSyntax?> Layers { get; }

    /// <summary>The loss attribute (the first, when several were written).</summary>
    public AttributeSyntax? Loss { get; }

    /// <summary>The optimiser attribute (the first, when several were written).</summary>
    public AttributeSyntax? Optimizer { get; }

    /// <summary>One attribute per penalty, indexed like <see cref="ModelSpec.Penalties"/>.</summary>
    public IReadOnlyList<AttributeSyntax?> Penalties { get; }

    /// <summary>One attribute per schedule, indexed like <see cref="ModelSpec.Schedules"/>.</summary>
    public IReadOnlyList<AttributeSyntax?> Schedules { get; }

    /// <summary>The attribute of layer <paramref name="index"/>, or null.</summary>
    public AttributeSyntax? Layer(int index) => index >= 0 && index < Layers.Count ? Layers[index] : null;

    /// <summary>
    /// The argument <paramref name="name"/> of <paramref name="attribute"/> (named <c>Name = …</c> or
    /// <c>name: …</c>, compared ignoring case), or the positional argument at <paramref name="positional"/>.
    /// </summary>
    public static AttributeArgumentSyntax? Argument(AttributeSyntax? attribute, string name, int positional = -1)
    {
        if (attribute?.ArgumentList is not { } list) return null;
        for (int i = 0; i < list.Arguments.Count; i++)
        {
            AttributeArgumentSyntax argument = list.Arguments[i];
            string? argumentName = argument.NameEquals?.Name.Identifier.ValueText ?? argument.NameColon?.Name.Identifier.ValueText;
            if (argumentName is not null && string.Equals(argumentName, name, StringComparison.OrdinalIgnoreCase)) return argument;
            if (argumentName is null && i == positional) return argument;
        }
        return null;
    }

    /// <summary>The location of the argument when written, else of the attribute, else null.</summary>
    public static Location? ArgumentOrAttribute(AttributeSyntax? attribute, string name, int positional = -1) =>
        Argument(attribute, name, positional)?.GetLocation() ?? attribute?.GetLocation();
}
