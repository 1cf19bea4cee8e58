using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Kiln.Generator.Layers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using static Kiln.Generator.Spec.AttributeArguments;

namespace Kiln.Generator.Spec;

public static partial class ModelSpecParser
{
    /// <summary>
    /// One parse of one model: the declaration, the attributes in source order, [Model], then each attribute (a layer
    /// goes to its <see cref="LayerDefinition"/>), then the checks of the whole model. Its fields are what the parse has
    /// read so far, named in the DSL's terms (input, layers, loss, …).
    /// </summary>
    private sealed class ModelParse
    {
        private readonly INamedTypeSymbol type;
        private readonly CancellationToken cancellationToken;
        private readonly List<DiagnosticInfo> diagnostics = new();
        private readonly string className;
        private readonly LocationInfo? classLocation;
        private readonly List<ContainingType> containing = new();
        private readonly List<Item> items = new();
        private AttributeData? modelData;
        private AttributeSyntax? modelSyntax;
        private Item modelItem = null!;
        private int input, maxBatch;
        private int[] inputShape = Array.Empty<int>();
        private int? seed;
        private InputNormalizationKind normalization;
        // The (C, H, W) shape while the activations are spatial; an [H, W] input has one channel.
        private ActivationShape shape = new();
        // The shape entering each layer (ParsedModel.Shapes, for the analyzers), null after a layer that reported an error.
        private readonly List<ActivationShape?> layerInputs = new();
        private bool shapesKnown = true;
        private bool shapeValid;
        private readonly List<LayerSpec> layers = new();
        private readonly Dictionary<string, int> counters = new();
        private readonly HashSet<string> usedNames = new(StringComparer.Ordinal);
        private readonly HashSet<string> usedIdentifiers = new(StringComparer.Ordinal);
        private LossSpec? loss;
        private Item? lossItem;
        private Item? fixupItem;
        private OptimizerSpec? optimizer;
        private readonly List<PenaltySpec> penalties = new();
        private readonly List<ScheduleSpec> schedules = new();
        private double clipNorm, clipValue;
        private int optimizerCount;
        private long parameterCount, lastLinearParameters;
        private OpenBlock? openBlock;
        private readonly List<AttributeSyntax?> layerSyntax = new();
        private AttributeSyntax? lossSyntax, optimizerSyntax;
        private readonly List<AttributeSyntax?> penaltySyntax = new();
        private readonly List<AttributeSyntax?> scheduleSyntax = new();

        public ModelParse(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            this.type = type;
            this.cancellationToken = cancellationToken;
            className = type.Name;
            classLocation = LocationInfo.From(type.Locations.FirstOrDefault());
        }

        public ParsedModel Run()
        {
            ReadDeclaration();
            ReadAttributes();
            ReadModel();
            foreach (Item item in items)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadItem(item);
            }
            CheckModel();
            return Result();
        }

        /// <summary>The declaration itself: partial, not generic/static/abstract, a plain class, inside partial types.</summary>
        private void ReadDeclaration()
        {
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
        }

        /// <summary>The Kiln attributes in source order ([Model] apart); layer order is only defined within one declaration.</summary>
        private void ReadAttributes()
        {
            foreach (AttributeData data in type.GetAttributes())
            {
                INamedTypeSymbol? attributeClass = data.AttributeClass;
                if (attributeClass is null || attributeClass.TypeKind == TypeKind.Error) continue;
                if (!IsKilnNamespace(attributeClass.ContainingNamespace)) continue;
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
        }

        /// <summary>[Model]: the input size and shape, MaxBatch, Seed and input normalisation, and the shape the layers start from.</summary>
        private void ReadModel()
        {
            modelItem = new Item(modelData!, modelSyntax, "Model");
            input = GetInt(modelData, "Input", 0);
            inputShape = GetIntArray(modelData, "InputShape");
            maxBatch = GetInt(modelData, "MaxBatch", 256);
            seed = GetNullableInt(modelData, "Seed");
            normalization = (InputNormalizationKind)GetInt(modelData, "Normalize", 0);
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
            shape = new ActivationShape
            {
                Flat = input,
                Spatial = inputShape.Length > 1,
                Channels = inputShape.Length == 3 ? inputShape[0] : 1,
                Height = inputShape.Length >= 2 ? inputShape[inputShape.Length - 2] : 0,
                Width = inputShape.Length >= 2 ? inputShape[inputShape.Length - 1] : 0,
            };
            shapeValid = inputShape.Length is 2 or 3 && inputShape.All(v => v > 0);
            if (inputShape.Length > 3)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidInput, ArgLocation(modelItem, "InputShape") ?? modelItem.Location, className,
                    $"InputShape has {inputShape.Length} dimensions; Kiln reads {{ H, W }} or {{ C, H, W }}"));
        }

        /// <summary>One attribute: a loss, optimiser, penalty, clipping, schedule or layer.</summary>
        private void ReadItem(Item item)
        {
            AttributeData d = item.Data;

            if (IsLoss(item.Name))
            {
                if (loss is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.LayerAfterLoss, item.Location, item.Name, lossItem!.Name));
                    return;
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
                return;
            }

            if (IsOptimizer(item.Name))
            {
                optimizerCount++;
                if (optimizerCount > 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Descriptors.OptimizerCount, item.Location, className, $"declares more than one optimiser ('{item.Name}' is the extra one)"));
                    return;
                }
                optimizer = ParseOptimizer(item, diagnostics);
                optimizerSyntax = item.Syntax;
                return;
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
                return;
            }

            if (item.Name is "ClipGradientNorm" or "ClipGradientValue")
            {
                string argument = item.Name == "ClipGradientNorm" ? "maxNorm" : "limit";
                double value = GetDouble(d, argument, 0);
                CheckPositive(diagnostics, item, argument, value, "a clipping threshold must be positive", item.Name, positional: 0);
                if (item.Name == "ClipGradientNorm") clipNorm = value; else clipValue = value;
                return;
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
                return;
            }

            if (IsModelSwitch(item.Name)) // [Fixup], the only one
            {
                fixupItem = item;
                return;
            }

            if (!IsLayer(item.Name)) return; // an attribute of Kiln that is not part of the layer list

            if (loss is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.LayerAfterLoss, item.Location, item.Name, lossItem!.Name));
                return;
            }

            ReadLayer(item);
        }

        /// <summary>A layer: its name, then its definition parses it (diagnostics, output shape), then the model-size check.</summary>
        private void ReadLayer(Item item)
        {
            AttributeData d = item.Data;
            LayerDefinition definition = LayerRegistry.Find(item.Name)!;
            string layerName = LayerName(item, definition, counters, usedNames, usedIdentifiers, diagnostics);
            ActivationShape before = shape.Copy();
            int diagnosticsBefore = diagnostics.Count;
            var reader = new LayerReader(d, item.Syntax, item.Name, layerName, layers.Count, diagnostics, shape, layers, maxBatch, shapeValid, inputShape.Length > 1) { Block = openBlock, Declared = definition.Arguments };
            LayerSpec layer = definition.Parse(reader);
            openBlock = reader.Block;
            layers.Add(layer);
            layerSyntax.Add(item.Syntax);
            layerInputs.Add(shapesKnown ? before : null);
            shapesKnown &= diagnostics.Count == diagnosticsBefore;
            long layerParameters = definition.ParameterCount(layer, before, shape, ref lastLinearParameters);
            // A layer already out of its own limits is not counted again (its diagnostic says enough).
            if (diagnostics.Count == diagnosticsBefore && parameterCount <= ModelLimits.MaxParameters && (parameterCount += layerParameters) > ModelLimits.MaxParameters)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.ModelTooLarge, item.Location, layerName, parameterCount, ModelLimits.MaxParameters));
        }

        /// <summary>Every argument against its domain, then the checks of the whole model (blocks closed, Softmax last, a Dense, loss and optimiser).</summary>
        private void CheckModel()
        {
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
            CheckFixup();
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
        }

        /// <summary>[Fixup] initialises residual branches (docs/techniques.md#initialisation): it needs a residual block and no normalisation layer.</summary>
        private void CheckFixup()
        {
            if (fixupItem is null) return;
            if (!layers.Any(l => l.Kind == LayerKind.Residual))
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, fixupItem.Location, "Fixup",
                    "[Fixup] initialises residual branches, and the model has no [Residual] block; remove [Fixup] or add residual blocks"));
            if (layers.FirstOrDefault(l => l.Kind == LayerKind.BatchNorm || l.IsSampleNorm) is { } norm)
                diagnostics.Add(DiagnosticInfo.Create(Descriptors.InvalidArrangement, fixupItem.Location, "Fixup",
                    $"[Fixup] replaces normalisation layers, and the model has '{norm.Name}'; remove the normalisation layers or [Fixup]"));
        }

        /// <summary>The spec as far as it could be read, and the generator's result (null spec when any diagnostic was reported).</summary>
        private ParsedModel Result()
        {
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
                normalization,
                fixupItem is not null);
            bool hasErrors = diagnostics.Count > 0;
            layerInputs.Add(shapesKnown ? shape.Copy() : null);
            return new ParsedModel(new ParseResult(hasErrors ? null : spec, diagnostics.ToEquatableArray()), spec, declared, layerInputs);
        }
    }
}
