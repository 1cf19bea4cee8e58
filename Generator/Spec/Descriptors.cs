using System.Collections.Generic;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Spec;

/// <summary>
/// The one table of Kiln diagnostics, shared by the generator and the analyzers. Ids are stable;
/// each links to docs/rules/KLNxxxx.md. KLN00xx are spec-validity errors (the model cannot be built).
/// </summary>
public static class Descriptors
{
    public const string InternalErrorId = "KLN0000";
    public const string ModelNotPartialId = "KLN0001";
    public const string UnsupportedModelTypeId = "KLN0002";
    public const string InvalidInputId = "KLN0003";
    public const string LayersSplitId = "KLN0004";
    public const string MissingLossId = "KLN0005";
    public const string LayerAfterLossId = "KLN0006";
    public const string LossIncompatibleId = "KLN0007";
    public const string HyperParameterOutOfDomainId = "KLN0008";
    public const string BatchNormBatchOneId = "KLN0009";
    public const string OptimizerCountId = "KLN0010";
    public const string SpatialInputWithoutFlattenId = "KLN0011";
    public const string InvalidArrangementId = "KLN0012";

    private const string SpecCategory = "Kiln.Spec";
    private const string HelpBase = "https://kiln.dev/docs/rules/";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, SpecCategory, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpBase + id + ".md");

    public static readonly DiagnosticDescriptor InternalError = Error(InternalErrorId,
        "Kiln generator failed",
        "Kiln could not generate model '{0}': {1}. Please report this with the model declaration.");

    public static readonly DiagnosticDescriptor ModelNotPartial = Error(ModelNotPartialId,
        "Model class must be partial",
        "Model '{0}' must be declared 'partial' so that Kiln can add the generated members");

    public static readonly DiagnosticDescriptor UnsupportedModelType = Error(UnsupportedModelTypeId,
        "Unsupported model declaration",
        "Model '{0}' cannot be generated: {1}");

    public static readonly DiagnosticDescriptor InvalidInput = Error(InvalidInputId,
        "Invalid model input",
        "Model '{0}': {1}");

    public static readonly DiagnosticDescriptor LayersSplit = Error(LayersSplitId,
        "Layers split across partial declarations",
        "Model '{0}' has Kiln attributes on more than one partial declaration; their order would be undefined. Keep every layer, loss and optimiser attribute on one declaration.");

    public static readonly DiagnosticDescriptor MissingLoss = Error(MissingLossId,
        "Model has no loss",
        "Model '{0}' declares no loss; add one of SoftmaxCrossEntropy, MulticlassHinge, BinaryCrossEntropy or MeanSquaredError after the last layer");

    public static readonly DiagnosticDescriptor LayerAfterLoss = Error(LayerAfterLossId,
        "Loss must be the last layer, and only one",
        "'{0}' comes after the loss '{1}'; the loss must be the last item and there can be only one");

    public static readonly DiagnosticDescriptor LossIncompatible = Error(LossIncompatibleId,
        "Loss incompatible with the output",
        "Loss '{0}' cannot be used with {1} output(s): {2}");

    public static readonly DiagnosticDescriptor HyperParameterOutOfDomain = Error(HyperParameterOutOfDomainId,
        "Hyper-parameter out of its domain",
        "{0}: {1} = {2} is out of range; {3}");

    public static readonly DiagnosticDescriptor BatchNormBatchOne = Error(BatchNormBatchOneId,
        "BatchNorm trained with batch size 1",
        "'{0}' normalises over the batch, but MaxBatch is 1: the batch variance is always zero. Raise MaxBatch or use another normalisation.");

    public static readonly DiagnosticDescriptor OptimizerCount = Error(OptimizerCountId,
        "Exactly one optimiser is required",
        "Model '{0}' {1}");

    public static readonly DiagnosticDescriptor SpatialInputWithoutFlatten = Error(SpatialInputWithoutFlattenId,
        "Dense on a spatial input without Flatten",
        "'{0}' receives a {1} input; add [Flatten] before it to make the flattening explicit");

    public static readonly DiagnosticDescriptor InvalidArrangement = Error(InvalidArrangementId,
        "Invalid layer arrangement",
        "'{0}': {1}");

    private static readonly Dictionary<string, DiagnosticDescriptor> ByIdTable = new()
    {
        [InternalErrorId] = InternalError,
        [ModelNotPartialId] = ModelNotPartial,
        [UnsupportedModelTypeId] = UnsupportedModelType,
        [InvalidInputId] = InvalidInput,
        [LayersSplitId] = LayersSplit,
        [MissingLossId] = MissingLoss,
        [LayerAfterLossId] = LayerAfterLoss,
        [LossIncompatibleId] = LossIncompatible,
        [HyperParameterOutOfDomainId] = HyperParameterOutOfDomain,
        [BatchNormBatchOneId] = BatchNormBatchOne,
        [OptimizerCountId] = OptimizerCount,
        [SpatialInputWithoutFlattenId] = SpatialInputWithoutFlatten,
        [InvalidArrangementId] = InvalidArrangement,
    };

    /// <summary>Every descriptor, for analyzers' SupportedDiagnostics and for tests.</summary>
    public static IEnumerable<DiagnosticDescriptor> All => ByIdTable.Values;

    public static DiagnosticDescriptor ById(string id) => ByIdTable[id];
}
