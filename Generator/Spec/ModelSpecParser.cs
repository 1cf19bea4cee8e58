using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Kiln.Generator.Layers;
using static Kiln.Generator.Spec.AttributeArguments;

namespace Kiln.Generator.Spec;

/// <summary>The spec of a model plus what was wrong with it; <see cref="Spec"/> is null when the model cannot be built.</summary>
public sealed record ParseResult(ModelSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// The one parser of the DSL: attributes on a class symbol → <see cref="ModelSpec"/>, with every
/// spec-validity error located on the offending attribute or argument. Shared by the generator and
/// the analyzers. It never throws on incomplete code: unknown or erroneous attributes are skipped
/// (the compiler reports those).
/// </summary>
public static class ModelSpecParser
{
    public const string Namespace = "Kiln";
    public const string ModelAttributeName = "Kiln.ModelAttribute";

    /// <summary>One attribute of the list, in source order, with its syntax for locations.</summary>
    private sealed class Item
    {
        public Item(AttributeData data, AttributeSyntax? syntax, string name) { Data = data; Syntax = syntax; Name = name; }
        public AttributeData Data { get; }
        public AttributeSyntax? Syntax { get; }
        /// <summary>Attribute class name without the "Attribute" suffix, e.g. "Dense".</summary>
        public string Name { get; }
        public LocationInfo? Location => LocationInfo.From(Syntax);
    }

    /// <summary>The generator's entry point: the spec (null when invalid) and the spec-validity diagnostics.</summary>
    public static ParseResult Parse(INamedTypeSymbol type, CancellationToken cancellationToken) =>
        ParseDetailed(type, cancellationToken).Result;

    /// <summary>
    /// The analyzers' entry point: the same parse, plus the best-effort spec (built even when the model
    /// has spec-validity errors) and the syntax of every attribute. The extra parts hold syntax, so
    /// they never enter the generator's incremental pipeline (which carries <see cref="ParseResult"/> only).
    /// </summary>
    public static ParsedModel ParseDetailed(INamedTypeSymbol type, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        string className = type.Name;
        LocationInfo? classLocation = LocationInfo.From(type.Locations.FirstOrDefault());

        // --- The declaration itself ---
        var declarations = type.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>().ToList();
        if (!declarations.Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword)))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelNotPartial, LocationInfo.From(declarations.FirstOrDefault()?.Identifier.GetLocation()) ?? classLocation, className));
        if (type.IsGenericType)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedModelType, classLocation, className, "generic model classes are not supported"));
        if (type.IsStatic || type.IsAbstract)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedModelType, classLocation, className, "a model class cannot be static or abstract"));
        if (UnsupportedKind(type) is { } kindProblem)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedModelType, classLocation, className, kindProblem));

        var containing = new List<ContainingType>();
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
        {
            bool outerPartial = outer.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken))
                .OfType<TypeDeclarationSyntax>().Any(d => d.Modifiers.Any(SyntaxKind.PartialKeyword));
            if (!outerPartial || outer.IsGenericType)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.UnsupportedModelType, classLocation, className,
                    $"the containing type '{outer.Name}' must be a non-generic partial type"));
            string keyword = outer.IsRecord ? (outer.TypeKind == TypeKind.Struct ? "record struct" : "record")
                : outer.TypeKind == TypeKind.Struct ? "struct" : outer.TypeKind == TypeKind.Interface ? "interface" : "class";
            containing.Insert(0, new ContainingType(keyword, outer.Name));
        }

        // --- Attributes in source order ---
        var items = new List<Item>();
        AttributeData? modelData = null;
        AttributeSyntax? modelSyntax = null;
        foreach (AttributeData data in type.GetAttributes())
        {
            INamedTypeSymbol? attributeClass = data.AttributeClass;
            if (attributeClass is null || attributeClass.TypeKind == TypeKind.Error) continue;
            if (attributeClass.ContainingNamespace?.ToDisplayString() != Namespace) continue;
            var syntax = data.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            string name = attributeClass.Name.EndsWith("Attribute", StringComparison.Ordinal)
                ? attributeClass.Name.Substring(0, attributeClass.Name.Length - "Attribute".Length) : attributeClass.Name;
            if (name == "Model") { modelData = data; modelSyntax = syntax; continue; }
            items.Add(new Item(data, syntax, name));
        }
        items.Sort((a, b) =>
        {
            int byFile = string.CompareOrdinal(a.Syntax?.SyntaxTree.FilePath, b.Syntax?.SyntaxTree.FilePath);
            return byFile != 0 ? byFile : (a.Syntax?.SpanStart ?? 0).CompareTo(b.Syntax?.SpanStart ?? 0);
        });

        // Layer order is only defined within one declaration.
        var owners = items.Select(i => i.Syntax?.FirstAncestorOrSelf<TypeDeclarationSyntax>()).Where(o => o is not null).Distinct().ToList();
        if (owners.Count > 1)
        {
            var second = items.First(i => i.Syntax?.FirstAncestorOrSelf<TypeDeclarationSyntax>() == owners[1]);
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.LayersSplit, second.Location, className));
        }

        // --- [Model] ---
        var modelItem = new Item(modelData!, modelSyntax, "Model");
        int input = GetInt(modelData, "Input", 0);
        int[] inputShape = GetIntArray(modelData, "InputShape");
        int maxBatch = GetInt(modelData, "MaxBatch", 256);
        int? seed = GetNullableInt(modelData, "Seed");
        var normalization = (InputNormalizationKind)GetInt(modelData, "Normalize", 0);
        if (normalization < InputNormalizationKind.Unspecified || normalization > InputNormalizationKind.PerChannel)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(modelItem, "Normalize") ?? modelItem.Location,
                className, "Normalize", (int)normalization, "it must be a member of InputNormalization"));
            normalization = InputNormalizationKind.Unspecified;
        }
        if (normalization == InputNormalizationKind.PerChannel && inputShape.Length < 2)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Normalize") ?? modelItem.Location, className,
                "Normalize = InputNormalization.PerChannel needs channels: declare InputShape = new[] { C, H, W }"));
        if (inputShape.Length > 0)
        {
            if (inputShape.Any(d => d <= 0))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "InputShape") ?? modelItem.Location, className,
                    $"every InputShape dimension must be positive, got [{string.Join(", ", inputShape)}]"));
            else
            {
                long product = inputShape.Aggregate(1L, (p, d) => p * d);
                if (input != 0 && input != product)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Input") ?? modelItem.Location, className,
                        $"Input = {input} does not match InputShape [{string.Join(", ", inputShape)}] (product {product})"));
                input = (int)Math.Min(product, int.MaxValue);
            }
        }
        else if (input <= 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Input") ?? modelItem.Location, className,
                input == 0 ? "declare the input size with Input = N or InputShape = new[] { C, H, W }" : $"Input must be positive, got {input}"));
        }
        if (input > ModelLimits.MaxUnits || (long)input * Math.Max(maxBatch, 1) > ModelLimits.MaxTensorLength)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Input") ?? ArgLocation(modelItem, "InputShape") ?? modelItem.Location, className,
                $"Input = {input} with MaxBatch = {maxBatch} needs {(long)input * maxBatch:N0} floats per batch; Kiln keeps each buffer under {ModelLimits.MaxTensorLength:N0}"));
        if (maxBatch <= 0 || maxBatch > 1 << 16)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(modelItem, "MaxBatch") ?? modelItem.Location,
                className, "MaxBatch", maxBatch, "it must be between 1 and 65536"));

        // --- Layers, loss, optimiser ---
        var layers = new List<LayerSpec>();
        var counters = new Dictionary<string, int>();
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        var usedIdentifiers = new HashSet<string>(StringComparer.Ordinal);
        LossSpec? loss = null;
        Item? lossItem = null;
        OptimizerSpec? optimizer = null;
        var penalties = new List<PenaltySpec>();
        var schedules = new List<ScheduleSpec>();
        double clipNorm = 0, clipValue = 0;
        int optimizerCount = 0;
        // The (C, H, W) shape while the activations are spatial; an [H, W] input has one channel.
        var shape = new ActivationShape
        {
            Flat = input,
            Spatial = inputShape.Length > 1,
            Channels = inputShape.Length == 3 ? inputShape[0] : 1,
            Height = inputShape.Length >= 2 ? inputShape[inputShape.Length - 2] : 0,
            Width = inputShape.Length >= 2 ? inputShape[inputShape.Length - 1] : 0,
        };
        bool shapeValid = inputShape.Length is 2 or 3 && inputShape.All(v => v > 0);
        if (inputShape.Length > 3)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "InputShape") ?? modelItem.Location, className,
                $"InputShape has {inputShape.Length} dimensions; Kiln reads {{ H, W }} or {{ C, H, W }}"));
        long parameterCount = 0, lastLinearParameters = 0;
        OpenBlock? openBlock = null;
        var layerSyntax = new List<AttributeSyntax?>();
        AttributeSyntax? lossSyntax = null, optimizerSyntax = null;
        var penaltySyntax = new List<AttributeSyntax?>();
        var scheduleSyntax = new List<AttributeSyntax?>();

        foreach (Item item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            AttributeData d = item.Data;

            if (IsLoss(item.Name))
            {
                if (loss is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.LayerAfterLoss, item.Location, item.Name, lossItem!.Name));
                    continue;
                }
                loss = item.Name switch
                {
                    "SoftmaxCrossEntropy" => new LossSpec(LossKind.SoftmaxCrossEntropy),
                    "MulticlassHinge" => new LossSpec(LossKind.MulticlassHinge, GetDouble(d, "Margin", 1.0)),
                    "BinaryCrossEntropy" => new LossSpec(LossKind.BinaryCrossEntropy),
                    _ => new LossSpec(LossKind.MeanSquaredError),
                };
                lossItem = item;
                lossSyntax = item.Syntax;
                if (loss.Kind == LossKind.MulticlassHinge) CheckPositive(diagnostics, item, "Margin", loss.Margin, "the margin must be positive");
                continue;
            }

            if (IsOptimizer(item.Name))
            {
                optimizerCount++;
                if (optimizerCount > 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.OptimizerCount, item.Location, className, $"declares more than one optimiser ('{item.Name}' is the extra one)"));
                    continue;
                }
                optimizer = ParseOptimizer(item, diagnostics);
                optimizerSyntax = item.Syntax;
                continue;
            }

            if (IsPenalty(item.Name))
            {
                if (ParsePenalty(item, diagnostics) is { } penalty)
                {
                    if (penalties.Any(p => p.Kind == penalty.Kind))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, item.Name, "this penalty is declared twice"));
                    else
                    {
                        penalties.Add(penalty);
                        penaltySyntax.Add(item.Syntax);
                    }
                }
                continue;
            }

            if (item.Name is "ClipGradientNorm" or "ClipGradientValue")
            {
                string argument = item.Name == "ClipGradientNorm" ? "maxNorm" : "limit";
                double value = GetDouble(d, argument, 0);
                CheckPositive(diagnostics, item, argument, value, "a clipping threshold must be positive", item.Name, positional: 0);
                if (item.Name == "ClipGradientNorm") clipNorm = value; else clipValue = value;
                continue;
            }

            if (IsSchedule(item.Name))
            {
                ScheduleSpec schedule = ParseSchedule(item, diagnostics);
                bool decay = schedule.Kind is not (ScheduleKind.Warmup or ScheduleKind.ReduceOnPlateau);
                if (schedules.Any(x => x.Kind == schedule.Kind) || (decay && schedules.Any(x => x.Kind is not (ScheduleKind.Warmup or ScheduleKind.ReduceOnPlateau))))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, item.Name,
                        "a model takes one decay schedule, optionally with one Warmup and one ReduceOnPlateau"));
                else
                {
                    schedules.Add(schedule);
                    scheduleSyntax.Add(item.Syntax);
                }
                continue;
            }

            if (!IsLayer(item.Name)) continue; // an attribute of Kiln that is not part of the layer list

            if (loss is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.LayerAfterLoss, item.Location, item.Name, lossItem!.Name));
                continue;
            }

            LayerDefinition definition = LayerRegistry.Find(item.Name)!;
            string layerName = LayerName(item, definition, counters, usedNames, usedIdentifiers, diagnostics);
            ActivationShape before = shape.Copy();
            int diagnosticsBefore = diagnostics.Count;
            var reader = new LayerReader(d, item.Syntax, item.Name, layerName, layers.Count, diagnostics, shape, layers, maxBatch, shapeValid, inputShape.Length > 1) { Block = openBlock, Declared = definition.Arguments };
            LayerSpec layer = definition.Parse(reader);
            openBlock = reader.Block;
            layers.Add(layer);
            layerSyntax.Add(item.Syntax);
            long layerParameters = definition.ParameterCount(layer, before, shape, ref lastLinearParameters);
            // A layer already out of its own limits is not counted again (its diagnostic says enough).
            if (diagnostics.Count == diagnosticsBefore && parameterCount <= ModelLimits.MaxParameters && (parameterCount += layerParameters) > ModelLimits.MaxParameters)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelTooLarge, item.Location, layerName, parameterCount, ModelLimits.MaxParameters));
        }

        // Every argument against its domain (ArgumentDomains.Table): what the checks above left alone.
        if (modelData is not null) ArgumentDomains.Check(modelData, modelSyntax, "Model", className, diagnostics);
        foreach (Item item in items) ArgumentDomains.Check(item.Data, item.Syntax, item.Name, item.Name, diagnostics);

        if (openBlock is { } unclosed)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, unclosed.Location, unclosed.Name, "this residual block is never closed with [EndResidual]"));

        // Softmax only as the output activation.
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i].Kind == LayerKind.Activation && layers[i].Activation == ActivationKind.Softmax && i != layers.Count - 1)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, LayerLocation(items, layers[i]), layers[i].Name,
                    "Softmax is only supported as the last layer, right before the loss"));
        }
        if (!layers.Any(l => l.Kind == LayerKind.Dense))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, modelItem.Location ?? classLocation, className,
                "a model needs at least one Dense layer"));

        if (loss is null)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.MissingLoss, modelItem.Location ?? classLocation, className));
        else
        {
            int outputs = shape.Flat;
            string? problem = loss.Kind switch
            {
                LossKind.SoftmaxCrossEntropy when outputs < 2 => "softmax cross-entropy needs at least two classes; use BinaryCrossEntropy for one output",
                LossKind.MulticlassHinge when outputs < 2 => "the multiclass hinge needs at least two classes",
                LossKind.BinaryCrossEntropy when outputs != 1 => "binary cross-entropy needs exactly one output; use SoftmaxCrossEntropy for several classes",
                _ => null,
            };
            if (problem is not null)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.LossIncompatible, lossItem!.Location, lossItem.Name, outputs, problem));
        }
        if (optimizerCount == 0)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.OptimizerCount, modelItem.Location ?? classLocation, className,
                "declares no optimiser; add one of Sgd, Momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW or Lbfgs"));

        var declared = new ModelSyntax(modelSyntax, layerSyntax, lossSyntax, optimizerSyntax, penaltySyntax, scheduleSyntax);
        if (modelData is null) // only reachable when called on a type without [Model] (analyzers)
            return new ParsedModel(new ParseResult(null, diagnostics.ToEquatableArray()), null, declared);

        var spec = new ModelSpec(
            NamespaceName(type),
            className,
            containing.ToEquatableArray(),
            input,
            inputShape.ToEquatableArray(),
            maxBatch,
            seed ?? 0,
            seed.HasValue,
            layers.ToEquatableArray(),
            loss,
            optimizer,
            penalties.ToEquatableArray(),
            clipNorm,
            clipValue,
            schedules.ToEquatableArray(),
            normalization);
        bool hasErrors = diagnostics.Count > 0;
        return new ParsedModel(new ParseResult(hasErrors ? null : spec, diagnostics.ToEquatableArray()), spec, declared);
    }

    /// <summary>
    /// Why a type that is not a plain class cannot be a model, or null. A record would copy models with
    /// <c>with</c> (sharing the weight arrays) and compare them by value; a struct would copy them on every
    /// assignment; a file-local type cannot have its generated part in another file.
    /// </summary>
    private static string? UnsupportedKind(INamedTypeSymbol type)
    {
        if (type.IsRecord) return "a record cannot be a model (records copy with 'with' and compare by value, which would share or compare the weight arrays); declare a 'partial class'";
        if (type.TypeKind != TypeKind.Class) return $"a {type.TypeKind.ToString().ToLowerInvariant()} cannot be a model; declare a 'partial class'";
        if (type.IsFileLocal) return "a file-local type cannot be a model (its generated part lives in another file); remove the 'file' modifier";
        for (INamedTypeSymbol? outer = type.ContainingType; outer is not null; outer = outer.ContainingType)
            if (outer.IsFileLocal) return $"the containing type '{outer.Name}' is file-local (the generated part lives in another file)";
        for (INamedTypeSymbol? b = type.BaseType; b is not null; b = b.BaseType)
            if (b.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == ModelAttributeName))
                return $"it derives from the model '{b.Name}', whose generated members it would hide; derive both from a common base class, or use composition";
        return null;
    }

    /// <summary>The namespace of <paramref name="type"/> as plain dotted names (no '@'), "" for the global namespace.</summary>
    private static string NamespaceName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (INamespaceSymbol? ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace) parts.Insert(0, ns.Name);
        return string.Join(".", parts);
    }

    private static OptimizerSpec ParseOptimizer(Item item, List<DiagnosticInfo> diagnostics)
    {
        AttributeData d = item.Data;
        OptimizerKind kind = (OptimizerKind)Enum.Parse(typeof(OptimizerKind), item.Name);
        double defaultLr = kind switch
        {
            OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.RMSProp => 1e-3,
            OptimizerKind.Lbfgs => 1.0,
            _ => 0.01,
        };
        double lr = GetDouble(d, "LearningRate", GetDouble(d, "learningRate", defaultLr));
        CheckPositive(diagnostics, item, "LearningRate", lr, "the learning rate must be positive", item.Name, positional: 0);
        string beta1Name = kind switch
        {
            OptimizerKind.Momentum or OptimizerKind.Nesterov => "Rho",
            OptimizerKind.RMSProp => "Decay",
            _ => "Beta1",
        };
        double beta1 = GetDouble(d, beta1Name, kind == OptimizerKind.RMSProp ? 0.99 : 0.9);
        double beta2 = GetDouble(d, "Beta2", 0.999);
        double eps = GetDouble(d, "Epsilon", kind is OptimizerKind.AdaGrad or OptimizerKind.RMSProp ? 1e-7 : 1e-8);
        bool usesBeta1 = kind is OptimizerKind.Momentum or OptimizerKind.Nesterov or OptimizerKind.RMSProp or OptimizerKind.Adam or OptimizerKind.AdamW;
        if (usesBeta1 && !(beta1 >= 0 && beta1 < 1))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, beta1Name) ?? item.Location,
                item.Name, beta1Name, beta1, "it must be in [0, 1)"));
        if (kind is OptimizerKind.Adam or OptimizerKind.AdamW && !(beta2 >= 0 && beta2 < 1))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Beta2") ?? item.Location, item.Name, "Beta2", beta2, "it must be in [0, 1)"));
        if (kind is OptimizerKind.Adam or OptimizerKind.AdamW or OptimizerKind.AdaGrad or OptimizerKind.RMSProp)
            CheckPositive(diagnostics, item, "Epsilon", eps, "ε must be positive", item.Name);
        double decay = kind == OptimizerKind.AdamW ? GetDouble(d, "WeightDecay", 0.01) : 0;
        if (!(decay >= 0) || !IsFloat(decay))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "WeightDecay") ?? item.Location, item.Name, "WeightDecay", decay, "it must be a non-negative number"));
        int history = GetInt(d, "History", 10);
        if (kind == OptimizerKind.Lbfgs && (history < 1 || history > 1000))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "History") ?? item.Location, item.Name, "History", history, "keep between 1 and 1000 correction pairs"));
        bool velocity = kind == OptimizerKind.Momentum && GetInt(d, "Form", 0) == 1;
        return new OptimizerSpec(kind, lr, beta1, beta2, eps, velocity, decay, history);
    }

    private static PenaltySpec? ParsePenalty(Item item, List<DiagnosticInfo> diagnostics)
    {
        AttributeData d = item.Data;
        PenaltyKind kind = (PenaltyKind)Enum.Parse(typeof(PenaltyKind), item.Name);
        double lambda = GetDouble(d, "lambda", 0);
        if (!(lambda >= 0) || !IsFloat(lambda))
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "lambda", 0) ?? item.Location, item.Name, "λ", lambda, "a penalty strength must be a non-negative number"));
            return null;
        }
        double beta = GetDouble(d, "Beta", 0.5);
        if (kind == PenaltyKind.ElasticNet && (!(beta >= 0) || !IsFloat(beta)))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Beta") ?? item.Location, item.Name, "Beta", beta, "it must be a non-negative number"));
        int target = GetInt(d, "ApplyTo", 0);
        if (target is not (0 or 1))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "ApplyTo") ?? item.Location, item.Name, "ApplyTo", target, "it is not a member of Kiln.PenaltyTarget"));
        return new PenaltySpec(kind, lambda, beta, target == 1);
    }

    private static ScheduleSpec ParseSchedule(Item item, List<DiagnosticInfo> diagnostics)
    {
        AttributeData d = item.Data;
        ScheduleKind kind = item.Name == "ConstantSchedule" ? ScheduleKind.Constant : (ScheduleKind)Enum.Parse(typeof(ScheduleKind), item.Name);
        void Positive(string name, double value, string rule)
        {
            if (!(value > 0) || !IsFloat(value))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, name) ?? item.Location, item.Name, name, value, rule));
        }
        void Fraction(string name, double value)
        {
            if (!(value >= 0 && value <= 1))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, name) ?? item.Location, item.Name, name, value, "it must be in [0, 1]"));
        }
        double factor = GetDouble(d, "Factor", 0.1);
        int every = GetInt(d, "Every", 0);
        int[] milestones = GetIntArray(d, "Milestones");
        int steps = GetInt(d, "Steps", kind == ScheduleKind.Warmup ? 500 : 0);
        int epochs = GetInt(d, "Epochs", kind == ScheduleKind.WarmRestarts ? 10 : 0);
        double minFactor = GetDouble(d, "MinFactor", 0);
        double multiplier = GetDouble(d, "Multiplier", 2);
        int patience = GetInt(d, "Patience", 10);
        double threshold = GetDouble(d, "Threshold", 1e-4);
        switch (kind)
        {
            case ScheduleKind.StepDecay:
                if (!(factor > 0 && factor < 1))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Factor") ?? item.Location, item.Name, "Factor", factor, "a decay factor must be in (0, 1)"));
                if ((every > 0) == (milestones.Length > 0) || every < 0)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, item.Location, item.Name, "Every/Milestones", every,
                        "give either Every = N epochs (step decay) or Milestones = new[] { … } (multi-step), not both"));
                for (int m = 0; m < milestones.Length; m++)
                    if (milestones[m] <= 0 || (m > 0 && milestones[m] <= milestones[m - 1]))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Milestones") ?? item.Location, item.Name, "Milestones", milestones[m],
                            "milestones must be positive epochs in increasing order"));
                        break;
                    }
                break;
            case ScheduleKind.CosineDecay:
            case ScheduleKind.LinearDecay:
                if ((steps > 0) == (epochs > 0) || steps < 0 || epochs < 0)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, item.Location, item.Name, "Steps/Epochs", steps,
                        "give the length T either in Steps or in Epochs (one positive value)"));
                Fraction("MinFactor", minFactor);
                break;
            case ScheduleKind.WarmRestarts:
                Positive("Epochs", epochs, "the first period must be at least one epoch");
                if (!(multiplier >= 1) || !IsFloat(multiplier))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Multiplier") ?? item.Location, item.Name, "Multiplier", multiplier, "periods cannot shrink: use a multiplier ≥ 1"));
                Fraction("MinFactor", minFactor);
                break;
            case ScheduleKind.Warmup:
                Positive("Steps", steps, "warm-up needs at least one step");
                break;
            case ScheduleKind.ReduceOnPlateau:
                if (!(factor > 0 && factor < 1))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Factor") ?? item.Location, item.Name, "Factor", factor, "a decay factor must be in (0, 1)"));
                if (patience < 0)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Patience") ?? item.Location, item.Name, "Patience", patience, "it must not be negative"));
                if (!(threshold >= 0) || !IsFloat(threshold))
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Threshold") ?? item.Location, item.Name, "Threshold", threshold, "it must not be negative"));
                Fraction("MinFactor", minFactor);
                break;
        }
        return new ScheduleSpec(kind, factor, every, milestones.ToEquatableArray(), steps, epochs, minFactor, multiplier, patience, threshold);
    }

    private static void CheckPositive(List<DiagnosticInfo> diagnostics, Item item, string argument, double value, string rule, string? owner = null, int positional = -1)
    {
        // The value is emitted as a float: it must stay positive and finite after rounding.
        if (!((float)value > 0) || float.IsInfinity((float)value))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, argument, positional) ?? item.Location,
                owner ?? item.Name, argument, value, rule + (value > 0 ? " and representable as a float" : "")));
    }

    /// <summary>Letters, digits, '_', '.', '-', starting with a letter or '_': safe in checkpoints and in generated literals.</summary>
    public static bool IsValidLayerName(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_')) return false;
        foreach (char c in name)
            if (!(c < 128 && (char.IsLetterOrDigit(c) || c is '_' or '.' or '-'))) return false;
        return true;
    }

    private static LocationInfo? LayerLocation(List<Item> items, LayerSpec layer)
    {
        int seen = 0;
        foreach (Item item in items)
        {
            if (!IsLayer(item.Name)) continue;
            if (seen++ == layer.Index) return item.Location;
        }
        return null;
    }

    public static bool IsLoss(string name) => name is "SoftmaxCrossEntropy" or "MulticlassHinge" or "BinaryCrossEntropy" or "MeanSquaredError";

    public static bool IsOptimizer(string name) => name is "Sgd" or "Momentum" or "Nesterov" or "AdaGrad" or "RMSProp" or "Adam" or "AdamW" or "Lbfgs";

    public static bool IsPenalty(string name) => name is "L2" or "L1" or "ElasticNet" or "WeightDecay";

    public static bool IsSchedule(string name) => name is "ConstantSchedule" or "StepDecay" or "CosineDecay" or "LinearDecay" or "InverseSqrtDecay"
        or "WarmRestarts" or "Warmup" or "ReduceOnPlateau";

    /// <summary>True when <paramref name="name"/> (an attribute name without "Attribute") declares a layer (see <see cref="LayerRegistry"/>).</summary>
    public static bool IsLayer(string name) => LayerRegistry.IsLayer(name);

    /// <summary>Location of a named argument (or the positional one), for diagnostics on the exact argument.</summary>
    private static LocationInfo? ArgLocation(Item item, string name, int positional = -1) => AttributeArguments.ArgLocation(item.Syntax, name, positional);

    /// <summary>
    /// The layer's name: Name = "…" (checked: a valid identifier-like name, unique, and unique as a generated member name),
    /// or the kind's prefix and a counter (dense0, conv1, bn0, …).
    /// </summary>
    private static string LayerName(Item item, LayerDefinition definition, Dictionary<string, int> counters, HashSet<string> usedNames,
        HashSet<string> usedIdentifiers, List<DiagnosticInfo> diagnostics)
    {
        string? explicitName = GetString(item.Data, "Name");
        string prefix = definition.NamePrefix;
        counters.TryGetValue(prefix, out int ordinal);
        counters[prefix] = ordinal + 1;
        string layerName = explicitName ?? prefix + ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (explicitName is not null && !IsValidLayerName(explicitName))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, ArgLocation(item, "Name") ?? item.Location, item.Name,
                $"layer name '{explicitName}' must start with a letter or '_' and contain only letters, digits, '_', '.' or '-'"));
        else if (!usedNames.Add(layerName))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, ArgLocation(item, "Name") ?? item.Location, layerName,
                "another layer already has this name; names must be unique (they key checkpoints)"));
        else if (!usedIdentifiers.Add(SpecNaming.Pascal(layerName)))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, ArgLocation(item, "Name") ?? item.Location, layerName,
                $"this name maps to the same generated member names ({SpecNaming.Pascal(layerName)}…) as another layer; choose a more distinct name"));
        return layerName;
    }
}
