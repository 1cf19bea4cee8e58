using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

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
        int[] shape = GetIntArray(modelData, "InputShape");
        int maxBatch = GetInt(modelData, "MaxBatch", 256);
        int? seed = GetNullableInt(modelData, "Seed");
        var normalization = (InputNormalizationKind)GetInt(modelData, "Normalize", 0);
        if (normalization < InputNormalizationKind.Unspecified || normalization > InputNormalizationKind.PerChannel)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(modelItem, "Normalize") ?? modelItem.Location,
                className, "Normalize", (int)normalization, "it must be a member of InputNormalization"));
            normalization = InputNormalizationKind.Unspecified;
        }
        if (normalization == InputNormalizationKind.PerChannel && shape.Length < 2)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Normalize") ?? modelItem.Location, className,
                "Normalize = InputNormalization.PerChannel needs channels: declare InputShape = new[] { C, H, W }"));
        if (shape.Length > 0)
        {
            if (shape.Any(d => d <= 0))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "InputShape") ?? modelItem.Location, className,
                    $"every InputShape dimension must be positive, got [{string.Join(", ", shape)}]"));
            else
            {
                long product = shape.Aggregate(1L, (p, d) => p * d);
                if (input != 0 && input != product)
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Input") ?? modelItem.Location, className,
                        $"Input = {input} does not match InputShape [{string.Join(", ", shape)}] (product {product})"));
                input = (int)Math.Min(product, int.MaxValue);
            }
        }
        else if (input <= 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Input") ?? modelItem.Location, className,
                input == 0 ? "declare the input size with Input = N or InputShape = new[] { C, H, W }" : $"Input must be positive, got {input}"));
        }
        if (input > MaxUnits || (long)input * Math.Max(maxBatch, 1) > MaxTensorLength)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "Input") ?? ArgLocation(modelItem, "InputShape") ?? modelItem.Location, className,
                $"Input = {input} with MaxBatch = {maxBatch} needs {(long)input * maxBatch:N0} floats per batch; Kiln keeps each buffer under {MaxTensorLength:N0}"));
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
        int width = input;
        bool spatial = shape.Length > 1;
        // The (C, H, W) shape while the activations are spatial; an [H, W] input has one channel.
        int channels = shape.Length == 3 ? shape[0] : 1;
        int height = shape.Length >= 2 ? shape[shape.Length - 2] : 0;
        int widthPx = shape.Length >= 2 ? shape[shape.Length - 1] : 0;
        bool shapeValid = shape.Length is 2 or 3 && shape.All(v => v > 0);
        if (shape.Length > 3)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "InputShape") ?? modelItem.Location, className,
                $"InputShape has {shape.Length} dimensions; Kiln reads {{ H, W }} or {{ C, H, W }}"));
        Item? lastLayerItem = null;
        long parameterCount = 0, lastLinearParameters = 0;
        (string Name, Item Item, int Width, bool Spatial, int Channels, int Height, int WidthPx, bool Projection)? openBlock = null;
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

            string? explicitName = GetString(d, "Name");
            string prefix = item.Name switch
            {
                "Dense" => "dense",
                "Conv2D" => "conv",
                "BatchNorm" => "bn",
                "Dropout" => "dropout",
                "Flatten" => "flatten",
                _ => item.Name.ToLowerInvariant(),
            };
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

            int index = layers.Count;
            LayerSpec? layer = null;
            int channelsBefore = channels, widthBefore = width, diagnosticsBefore = diagnostics.Count;
            switch (item.Name)
            {
                case "Flatten":
                    spatial = false;
                    layer = new LayerSpec(LayerKind.Flatten, layerName, index);
                    break;
                case "Residual":
                {
                    double survival = GetDouble(d, "Survival", 1.0);
                    if (!(survival > 0 && survival <= 1))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Survival") ?? item.Location,
                            layerName, "Survival", survival, "the survival probability must be in (0, 1]"));
                    if (openBlock is not null)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, layerName,
                            $"residual blocks cannot be nested; close '{openBlock.Value.Name}' with [EndResidual] first"));
                    bool projection = GetBool(d, "Projection", false);
                    if (openBlock is null) openBlock = (layerName, item, width, spatial, channels, height, widthPx, projection);
                    layer = new LayerSpec(LayerKind.Residual, layerName, index, Survival: survival, ZeroInitLast: GetBool(d, "ZeroInitLast", false), Projection: projection);
                    break;
                }
                case "EndResidual":
                {
                    if (openBlock is not { } block)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, layerName, "[EndResidual] without an open [Residual] block"));
                    else
                    {
                        string from = Describe(block.Spatial, block.Channels, block.Height, block.WidthPx, block.Width), to = Describe(spatial, channels, height, widthPx, width);
                        bool shapeChanges = block.Width != width || block.Spatial != spatial || (spatial && (block.Channels != channels || block.Height != height || block.WidthPx != widthPx));
                        if (block.Projection)
                        {
                            if (block.Spatial != spatial)
                                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, block.Name,
                                    $"the branch turns {from} into {to}; a projection shortcut maps spatial to spatial (a 1×1 convolution) or flat to flat (a Dense without bias), so keep Flatten outside the block"));
                            else if (spatial && height > 0 && widthPx > 0 && block.Height > 0 && block.WidthPx > 0
                                && ProjectionStride(block.Height, block.WidthPx, height, widthPx) == 0)
                                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, block.Name,
                                    $"the branch turns {from} into {to}; the projection shortcut is a 1×1 convolution with one integer stride s for both axes (⌈H/s⌉ = H' and ⌈W/s⌉ = W', e.g. s = H/H'), and no such stride exists here"));
                        }
                        else if (shapeChanges)
                            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, block.Name,
                                $"the branch turns {from} into {to}; an identity shortcut needs the same shape (keep the channels, use stride 1 and 'same' padding), or set [Residual(Projection = true)] for a learned projection shortcut"));
                        if (!layers.Skip(layers.FindIndex(l => l.Name == block.Name) + 1).Any(l => l.Kind is LayerKind.Dense or LayerKind.Conv2D))
                            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, block.Name, "the residual branch has no Dense or Conv2D layer"));
                        openBlock = null;
                    }
                    layer = new LayerSpec(LayerKind.EndResidual, layerName, index);
                    break;
                }
                case "Maxout":
                {
                    int pieces = GetInt(d, "pieces", 2);
                    if (pieces < 2 || pieces > 255)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "pieces", 0) ?? item.Location,
                            layerName, "pieces", pieces, "Maxout needs between 2 and 255 linear pieces per unit"));
                    if (layers.Count == 0 || layers[layers.Count - 1].Kind is not (LayerKind.Dense or LayerKind.Conv2D))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, item.Location, layerName,
                            "Maxout must come right after the Dense or Conv2D whose outputs it takes the maximum of"));
                    layer = new LayerSpec(LayerKind.Maxout, layerName, index, Units: pieces);
                    break;
                }
                case "LayerNorm":
                case "InstanceNorm":
                case "GroupNorm":
                {
                    double eps = GetDouble(d, "Epsilon", 1e-5);
                    CheckPositive(diagnostics, item, "Epsilon", eps, "ε must be positive", layerName);
                    int channelCount = spatial ? channels : width;
                    int groups = item.Name switch { "LayerNorm" => 1, "InstanceNorm" => channelCount, _ => GetInt(d, "groups", 0) };
                    if (item.Name == "InstanceNorm" && !spatial)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.SpatialLayerOnFlatInput, item.Location, layerName,
                            $"a flat input of {width} features (instance normalisation normalises each channel over its pixels)"));
                    if (item.Name == "GroupNorm" && (groups < 1 || channelCount % groups != 0))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "groups", 0) ?? item.Location,
                            layerName, "groups", groups, $"it must divide the {channelCount} {(spatial ? "channels" : "features")} of its input"));
                    LayerKind kind = (LayerKind)Enum.Parse(typeof(LayerKind), item.Name);
                    layer = new LayerSpec(kind, layerName, index, Epsilon: eps, Groups: Math.Max(groups, 1),
                        LearningRateScale: LearningRateScale(item, diagnostics, layerName));
                    break;
                }
                case "Conv2D":
                case "MaxPool":
                case "AvgPool":
                case "GlobalAvgPool":
                case "FractionalMaxPool":
                    if (!spatial)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.SpatialLayerOnFlatInput, item.Location, layerName,
                            shape.Length > 1 ? "a flat input (it comes after Flatten, GlobalAvgPool or Dense)" : $"a flat input of {width} features"));
                    layer = ParseSpatial(item, diagnostics, layerName, index, maxBatch, spatial && shapeValid, ref channels, ref height, ref widthPx);
                    if (item.Name == "GlobalAvgPool") spatial = false;
                    width = item.Name == "GlobalAvgPool" ? channels : channels * height * widthPx;
                    break;
                case "Dense":
                {
                    int units = GetInt(d, "units", 0);
                    if (units <= 0)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "units", 0) ?? item.Location,
                            layerName, "units", units, "a Dense layer needs at least one unit"));
                    if (spatial)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.SpatialInputWithoutFlatten, item.Location, layerName,
                            $"spatial [{channels}×{height}×{widthPx}]"));
                    if (units > MaxUnits || (long)width * Math.Max(units, 0) > MaxTensorLength || (long)maxBatch * Math.Max(units, 0) > MaxTensorLength)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "units", 0) ?? item.Location,
                            layerName, "units", units, $"the layer would need {(long)width * units:N0} weights and {(long)maxBatch * units:N0} activations; Kiln keeps each under {MaxTensorLength:N0}"));
                    int initValue = GetInt(d, "Init", 0);
                    if (!Enum.IsDefined(typeof(InitKind), initValue))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Init") ?? item.Location,
                            layerName, "Init", initValue, "it is not a member of Kiln.Init"));
                        initValue = 0;
                    }
                    var init = (InitKind)initValue;
                    double scale = GetDouble(d, "InitScale", double.NaN);
                    if (!double.IsNaN(scale)) CheckFloat(diagnostics, item, "InitScale", scale, layerName);
                    if (!double.IsNaN(scale) && (double.IsInfinity(scale) || (init is InitKind.Normal or InitKind.Uniform && scale <= 0)))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "InitScale") ?? item.Location,
                            layerName, "InitScale", scale, "the standard deviation or bound must be a positive finite number"));
                    double biasInit = GetDouble(d, "BiasInit", 0);
                    CheckFloat(diagnostics, item, "BiasInit", biasInit, layerName);
                    layer = new LayerSpec(LayerKind.Dense, layerName, index, Units: units, Bias: GetBool(d, "Bias", true),
                        Init: init, InitScale: scale, BiasInit: biasInit, LearningRateScale: LearningRateScale(item, diagnostics, layerName),
                        Regularize: GetBool(d, "Regularize", true), DropConnect: DropConnectRate(item, diagnostics, layerName));
                    if (units > 0) width = units;
                    spatial = false;
                    break;
                }
                case "BatchNorm":
                {
                    double momentum = GetDouble(d, "Momentum", 0.1);
                    double eps = GetDouble(d, "Epsilon", 1e-5);
                    if (!(momentum >= 0 && momentum <= 1))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Momentum") ?? item.Location,
                            layerName, "Momentum", momentum, "the running-average momentum must be in [0, 1]"));
                    CheckPositive(diagnostics, item, "Epsilon", eps, "ε must be positive", layerName);
                    if (maxBatch == 1)
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.BatchNormBatchOne, item.Location, layerName));
                    layer = new LayerSpec(LayerKind.BatchNorm, layerName, index, Momentum: momentum, Epsilon: eps,
                        LearningRateScale: LearningRateScale(item, diagnostics, layerName));
                    break;
                }
                case "Dropout":
                {
                    double rate = GetDouble(d, "rate", 0);
                    if (!(rate >= 0 && rate < 1))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "rate", 0) ?? item.Location,
                            layerName, "rate", rate, "the drop probability must be in [0, 1)"));
                    int scaling = GetInt(d, "Scaling", 0);
                    if (!Enum.IsDefined(typeof(DropoutScalingKind), scaling))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "Scaling") ?? item.Location,
                            layerName, "Scaling", scaling, "it is not a member of Kiln.DropoutScaling"));
                        scaling = 0;
                    }
                    layer = new LayerSpec(LayerKind.Dropout, layerName, index, Rate: rate, Scaling: (DropoutScalingKind)scaling);
                    break;
                }
                default:
                {
                    ActivationKind kind = (ActivationKind)Enum.Parse(typeof(ActivationKind), item.Name);
                    double alpha = kind switch
                    {
                        ActivationKind.LeakyReLU => GetDouble(d, "Alpha", GetDouble(d, "alpha", 0.01)),
                        ActivationKind.ELU => GetDouble(d, "Alpha", GetDouble(d, "alpha", 1.0)),
                        ActivationKind.Swish => GetDouble(d, "Beta", GetDouble(d, "beta", 1.0)),
                        ActivationKind.PReLU => GetDouble(d, "Init", 0.25),
                        _ => 0,
                    };
                    if (!IsFloat(alpha) || (kind == ActivationKind.ELU && alpha <= 0))
                        diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain,
                            ArgLocation(item, kind == ActivationKind.Swish ? "Beta" : kind == ActivationKind.PReLU ? "Init" : "Alpha", 0) ?? item.Location,
                            layerName, kind == ActivationKind.Swish ? "β" : "α", alpha, kind == ActivationKind.ELU ? "ELU's α must be positive" : "it must be finite"));
                    layer = new LayerSpec(LayerKind.Activation, layerName, index, Activation: kind, Alpha: alpha,
                        LearningRateScale: kind == ActivationKind.PReLU ? LearningRateScale(item, diagnostics, layerName) : 1.0);
                    break;
                }
            }
            layers.Add(layer!);
            layerSyntax.Add(item.Syntax);
            lastLayerItem = item;
            long layerParameters = LayerParameters(layer!, spatial ? channels : width, channelsBefore, widthBefore, ref lastLinearParameters);
            // A layer already out of its own limits is not counted again (its diagnostic says enough).
            if (diagnostics.Count == diagnosticsBefore && parameterCount <= MaxParameters && (parameterCount += layerParameters) > MaxParameters)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelTooLarge, item.Location, layerName, parameterCount, MaxParameters));
        }

        // Every argument against its domain (ArgumentDomains.Table): what the checks above left alone.
        if (modelData is not null) ArgumentDomains.Check(modelData, modelSyntax, "Model", className, diagnostics);
        foreach (Item item in items) ArgumentDomains.Check(item.Data, item.Syntax, item.Name, item.Name, diagnostics);

        if (openBlock is { } unclosed)
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, unclosed.Item.Location, unclosed.Name, "this residual block is never closed with [EndResidual]"));

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
            int outputs = width;
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
            shape.ToEquatableArray(),
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
                return $"it derives from the model '{b.Name}', whose generated members it would hide; use composition (a field of that model) instead";
        return null;
    }

    /// <summary>The namespace of <paramref name="type"/> as plain dotted names (no '@'), "" for the global namespace.</summary>
    private static string NamespaceName(INamedTypeSymbol type)
    {
        var parts = new List<string>();
        for (INamespaceSymbol? ns = type.ContainingNamespace; ns is { IsGlobalNamespace: false }; ns = ns.ContainingNamespace) parts.Insert(0, ns.Name);
        return string.Join(".", parts);
    }

    private static string Describe(bool spatial, int channels, int height, int width, int flat) =>
        spatial ? $"{channels}×{height}×{width}" : $"{flat} features";

    /// <summary>
    /// Conv2D, MaxPool, AvgPool and GlobalAvgPool: their arguments, and (when the input shape is known)
    /// the output shape, with the window-fit (KLN0013) and integer-output (KLN0014) checks on the
    /// offending argument.
    /// </summary>
    private static LayerSpec ParseSpatial(Item item, List<DiagnosticInfo> diagnostics, string layerName, int index, int maxBatch, bool checkShapes,
        ref int channels, ref int height, ref int width)
    {
        AttributeData d = item.Data;
        void OutOfDomain(string argument, int positional, double value, string rule) =>
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, argument, positional) ?? item.Location,
                layerName, argument, value, rule));

        if (item.Name == "GlobalAvgPool")
        {
            if (checkShapes) height = width = 1;
            return new LayerSpec(LayerKind.GlobalAvgPool, layerName, index);
        }
        if (item.Name == "FractionalMaxPool")
        {
            double ratio = GetDouble(d, "ratio", 0);
            int draws = GetInt(d, "TestDraws", 4);
            if (!(ratio > 1 && ratio < 2))
                OutOfDomain("ratio", 0, ratio, "fractional max pooling shrinks each axis by a ratio in (1, 2)");
            else if (checkShapes)
            {
                int outH = FractionalOutput(height, ratio), outW = FractionalOutput(width, ratio);
                if (!(outH < height && height <= 2 * outH) || !(outW < width && width <= 2 * outW))
                    OutOfDomain("ratio", 0, ratio, $"on a {height}×{width} input it gives {outH}×{outW}; each axis must shrink, by at most 2 (use a larger input or another ratio)");
                height = outH;
                width = outW;
            }
            if (draws < 1 || draws > 64) OutOfDomain("TestDraws", -1, draws, "average between 1 and 64 region layouts at test");
            return new LayerSpec(LayerKind.FractionalMaxPool, layerName, index, Rate: ratio, Units: Math.Max(draws, 1));
        }

        bool conv = item.Name == "Conv2D";
        string sizeArgument = conv ? "kernel" : "size";
        int size = GetInt(d, sizeArgument, 0);
        int kernelH = conv && GetInt(d, "KernelHeight", 0) is > 0 and var kh ? kh : size;
        int kernelW = conv && GetInt(d, "KernelWidth", 0) is > 0 and var kw ? kw : size;
        int stride = GetInt(d, "Stride", conv ? 1 : 0);
        if (!conv && stride == 0) stride = size;
        int padding = GetInt(d, "Padding", 0);
        int dilation = conv ? GetInt(d, "Dilation", 1) : 1;
        int filters = conv ? GetInt(d, "filters", 0) : 0;
        bool valid = true;
        if (conv && filters <= 0) { OutOfDomain("filters", 0, filters, "a convolution needs at least one filter"); valid = false; }
        if (conv && filters > MaxUnits) { OutOfDomain("filters", 0, filters, $"keep at most {MaxUnits:N0} filters"); valid = false; }
        if (size <= 0 && !(conv && GetInt(d, "KernelHeight", 0) > 0 && GetInt(d, "KernelWidth", 0) > 0))
        { OutOfDomain(sizeArgument, conv ? 1 : 0, size, "the window needs at least one cell"); valid = false; }
        if (conv && GetInt(d, "KernelHeight", 0) < 0) { OutOfDomain("KernelHeight", -1, GetInt(d, "KernelHeight", 0), "it must be positive (0 = Kernel)"); valid = false; }
        if (conv && GetInt(d, "KernelWidth", 0) < 0) { OutOfDomain("KernelWidth", -1, GetInt(d, "KernelWidth", 0), "it must be positive (0 = Kernel)"); valid = false; }
        if (stride <= 0) { OutOfDomain("Stride", -1, stride, conv ? "the stride must be at least 1" : "the stride must be at least 1 (0 means the window size)"); valid = false; }
        if (padding < 0) { OutOfDomain("Padding", -1, padding, "padding cannot be negative"); valid = false; }
        if (!conv && padding > 0 && padding >= Math.Min(kernelH, kernelW))
        { OutOfDomain("Padding", -1, padding, "pooling padding must be smaller than the window, or a window could hold padding only"); valid = false; }
        if (dilation <= 0) { OutOfDomain("Dilation", -1, dilation, "the dilation must be at least 1"); valid = false; }

        if (checkShapes && valid)
        {
            // A square window on a square input fails on both axes alike: one diagnostic says so.
            bool square = height == width && kernelH == kernelW;
            bool tall = conv && GetInt(d, "KernelHeight", 0) > 0, wide = conv && GetInt(d, "KernelWidth", 0) > 0;
            int sizePosition = conv ? 1 : 0;
            int outH = OutputExtent(item, diagnostics, layerName, square ? "height and width" : "height", height, kernelH, stride, padding, dilation,
                tall ? "KernelHeight" : sizeArgument, tall ? -1 : sizePosition);
            int outW = square ? outH : OutputExtent(item, diagnostics, layerName, "width", width, kernelW, stride, padding, dilation,
                wide ? "KernelWidth" : sizeArgument, wide ? -1 : sizePosition);
            if (outH > 0 && outW > 0)
            {
                long patch = (long)kernelH * kernelW * channels;
                if (conv && ((long)maxBatch * outH * outW * patch > MaxTensorLength || (long)maxBatch * outH * outW * filters > MaxTensorLength))
                    OutOfDomain("filters", 0, filters, $"the layer would need {(long)maxBatch * outH * outW * Math.Max(patch, filters):N0} floats per batch buffer; Kiln keeps each under {MaxTensorLength:N0}");
                height = outH;
                width = outW;
                if (conv) channels = filters;
            }
        }

        if (!conv)
            return new LayerSpec(item.Name == "MaxPool" ? LayerKind.MaxPool : LayerKind.AvgPool, layerName, index,
                KernelH: kernelH, KernelW: kernelW, Stride: stride, Padding: padding);

        int initValue = GetInt(d, "Init", 0);
        if (!Enum.IsDefined(typeof(InitKind), initValue))
        {
            OutOfDomain("Init", -1, initValue, "it is not a member of Kiln.Init");
            initValue = 0;
        }
        var init = (InitKind)initValue;
        double scale = GetDouble(d, "InitScale", double.NaN);
        if (!double.IsNaN(scale)) CheckFloat(diagnostics, item, "InitScale", scale, layerName);
        if (!double.IsNaN(scale) && (double.IsInfinity(scale) || (init is InitKind.Normal or InitKind.Uniform && scale <= 0)))
            OutOfDomain("InitScale", -1, scale, "the standard deviation or bound must be a positive finite number");
        double biasInit = GetDouble(d, "BiasInit", 0);
        CheckFloat(diagnostics, item, "BiasInit", biasInit, layerName);
        return new LayerSpec(LayerKind.Conv2D, layerName, index, Units: filters, Bias: GetBool(d, "Bias", true),
            Init: init, InitScale: scale, BiasInit: biasInit, LearningRateScale: LearningRateScale(item, diagnostics, layerName),
            Regularize: GetBool(d, "Regularize", true), KernelH: kernelH, KernelW: kernelW, Stride: stride, Padding: padding, Dilation: dilation,
            DropConnect: DropConnectRate(item, diagnostics, layerName));
    }

    /// <summary>
    /// The stride of a projection shortcut (a 1×1 convolution, no padding) that maps an H×W image to H'×W': the smallest
    /// s with ⌈H/s⌉ = H' and ⌈W/s⌉ = W' (s = H/H' when that divides, e.g. 8×8 → 4×4; also 7×7 → 4×4 with s = 2,
    /// the shape a 3×3, padding 1, stride 2 branch gives), or 0 when no single integer stride does it.
    /// </summary>
    public static int ProjectionStride(int height, int width, int outHeight, int outWidth)
    {
        if (height <= 0 || width <= 0 || outHeight <= 0 || outWidth <= 0) return 0;
        for (int s = 1; s <= Math.Max(height, width); s++)
            if ((height + s - 1) / s == outHeight && (width + s - 1) / s == outWidth) return s;
        return 0;
    }

    /// <summary>Output size of fractional max pooling along an axis: round(extent / ratio), at least 1.</summary>
    public static int FractionalOutput(int extent, double ratio) => Math.Max(1, (int)Math.Round(extent / ratio, MidpointRounding.AwayFromZero));

    /// <summary>(extent + 2·padding − dilation·(kernel − 1) − 1)/stride + 1, or 0 after reporting why it does not exist.</summary>
    private static int OutputExtent(Item item, List<DiagnosticInfo> diagnostics, string layerName, string axis, int extent, int kernel, int stride,
        int padding, int dilation, string kernelArgument, int kernelPositional)
    {
        long span = (long)dilation * (kernel - 1) + 1;
        long padded = extent + 2L * padding;
        if (span > padded)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.WindowLargerThanInput, ArgLocation(item, kernelArgument, kernelPositional) ?? item.Location,
                layerName, axis, span, padded, $"input {axis} {extent} + 2×padding {padding}; use a smaller window or more padding"));
            return 0;
        }
        long room = padded - span;
        if (room % stride != 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.FractionalOutputSize, ArgLocation(item, "Stride") ?? ArgLocation(item, kernelArgument, kernelPositional) ?? item.Location,
                layerName, axis, $"{extent} + 2×{padding} − {span}", stride,
                $"the last {room % stride} row(s)/column(s) would be ignored: choose a stride that divides {room}, or change the padding"));
            return 0;
        }
        return (int)(room / stride + 1);
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

    private static double LearningRateScale(Item item, List<DiagnosticInfo> diagnostics, string layerName)
    {
        double scale = GetDouble(item.Data, "LearningRateScale", 1.0);
        if (!(scale >= 0) || !IsFloat(scale))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "LearningRateScale") ?? item.Location,
                layerName, "LearningRateScale", scale, "it must be a non-negative number (0 freezes the layer)"));
        return scale;
    }

    private static double DropConnectRate(Item item, List<DiagnosticInfo> diagnostics, string layerName)
    {
        double rate = GetDouble(item.Data, "DropConnect", 0);
        if (!(rate >= 0 && rate < 1))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, "DropConnect") ?? item.Location,
                layerName, "DropConnect", rate, "the probability of dropping a weight must be in [0, 1)"));
        return rate;
    }

    private static void CheckFloat(List<DiagnosticInfo> diagnostics, Item item, string argument, double value, string owner)
    {
        if (!IsFloat(value))
            diagnostics.Add(DiagnosticInfo.Create(Descriptors.HyperParameterOutOfDomain, ArgLocation(item, argument) ?? item.Location,
                owner, argument, value, "it must be a finite number within float range"));
    }

    private static bool IsFloat(double value) => !double.IsNaN(value) && Math.Abs(value) <= float.MaxValue;

    /// <summary>Letters, digits, '_', '.', '-', starting with a letter or '_': safe in checkpoints and in generated literals.</summary>
    public static bool IsValidLayerName(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_')) return false;
        foreach (char c in name)
            if (!(c < 128 && (char.IsLetterOrDigit(c) || c is '_' or '.' or '-'))) return false;
        return true;
    }

    /// <summary>
    /// Largest number of parameters of a model. Each of the parameter, gradient and optimiser-state arenas is one
    /// float array, and the generated offsets are ints; 2³⁰ keeps them well inside both (4 GiB per arena).
    /// </summary>
    public const long MaxParameters = 1L << 30;

    /// <summary>
    /// The parameters a layer adds (weights with their 16-float alignment, biases, scales), from the widths the
    /// parser tracks; a Maxout multiplies the linear layer before it. Projection shortcuts are left out (the planner's
    /// checked arithmetic still stops an overflow there).
    /// </summary>
    private static long LayerParameters(LayerSpec layer, int outputChannels, int channelsBefore, int widthBefore, ref long lastLinear)
    {
        const long alignment = 16;
        long count;
        switch (layer.Kind)
        {
            case LayerKind.Dense:
                count = (long)widthBefore * Math.Max(layer.Units, 0) + Math.Max(layer.Units, 0) + 2 * alignment;
                lastLinear = count;
                return count;
            case LayerKind.Conv2D:
                count = (long)Math.Max(layer.KernelH, 0) * Math.Max(layer.KernelW, 0) * channelsBefore * Math.Max(layer.Units, 0) + Math.Max(layer.Units, 0) + 2 * alignment;
                lastLinear = count;
                return count;
            case LayerKind.Maxout:
                return lastLinear * Math.Max(layer.Units - 1, 0);
            case LayerKind.BatchNorm or LayerKind.LayerNorm or LayerKind.InstanceNorm or LayerKind.GroupNorm:
            case LayerKind.Activation when layer.Activation == ActivationKind.PReLU:
                return 2L * Math.Max(outputChannels, 1) + 2 * alignment;
            default:
                return 0;
        }
    }

    /// <summary>Largest number of units of a layer.</summary>
    public const int MaxUnits = 1 << 24;

    /// <summary>Largest tensor or activation buffer, in floats (1 GiB).</summary>
    public const long MaxTensorLength = 1L << 28;

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

    public static bool IsLayer(string name) => name is "Dense" or "BatchNorm" or "Dropout" or "Flatten"
        or "Conv2D" or "MaxPool" or "AvgPool" or "GlobalAvgPool" or "LayerNorm" or "InstanceNorm" or "GroupNorm" or "Maxout" or "Residual" or "EndResidual" or "FractionalMaxPool"
        or "Sigmoid" or "Tanh" or "ReLU" or "LeakyReLU" or "PReLU" or "ELU" or "SELU" or "Swish" or "GELU" or "Softmax";

    /// <summary>Location of a named argument (or the positional one), for diagnostics on the exact argument.</summary>
    private static LocationInfo? ArgLocation(Item item, string name, int positional = -1)
    {
        if (item.Syntax?.ArgumentList is not { } list) return null;
        for (int i = 0; i < list.Arguments.Count; i++)
        {
            AttributeArgumentSyntax arg = list.Arguments[i];
            string? argName = arg.NameEquals?.Name.Identifier.ValueText ?? arg.NameColon?.Name.Identifier.ValueText;
            if (argName is not null && string.Equals(argName, name, StringComparison.OrdinalIgnoreCase)) return LocationInfo.From(arg);
            if (argName is null && i == positional) return LocationInfo.From(arg);
        }
        return null;
    }

    // --- Reading attribute arguments: constructor parameters by name, then named properties. ---

    private static TypedConstant? Find(AttributeData? data, string name)
    {
        if (data is null) return null;
        foreach (KeyValuePair<string, TypedConstant> pair in data.NamedArguments)
            if (pair.Key == name) return pair.Value;
        IMethodSymbol? ctor = data.AttributeConstructor;
        if (ctor is not null)
            for (int i = 0; i < ctor.Parameters.Length && i < data.ConstructorArguments.Length; i++)
                if (string.Equals(ctor.Parameters[i].Name, name, StringComparison.OrdinalIgnoreCase)) return data.ConstructorArguments[i];
        return null;
    }

    private static int GetInt(AttributeData? d, string name, int fallback) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: { } v } ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    private static int? GetNullableInt(AttributeData? d, string name) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: { } v } ? Convert.ToInt32(v, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static double GetDouble(AttributeData? d, string name, double fallback) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: { } v } ? Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    private static bool GetBool(AttributeData? d, string name, bool fallback) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: bool v } ? v : fallback;

    private static string? GetString(AttributeData? d, string name) => Find(d, name) is { Kind: not TypedConstantKind.Error, Value: string v } ? v : null;

    private static int[] GetIntArray(AttributeData? d, string name)
    {
        if (Find(d, name) is not { Kind: TypedConstantKind.Array } array || array.IsNull) return Array.Empty<int>();
        return array.Values.Where(v => v.Value is int).Select(v => (int)v.Value!).ToArray();
    }
}
