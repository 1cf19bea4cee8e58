using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Kiln.Generator.Spec;
using Microsoft.CodeAnalysis;

namespace Kiln.Generator.Tests;

/// <summary>
/// Every spec-validity diagnostic, on the offending attribute or argument. Each case is a model in
/// markup: <c>{|KLN0008:1.5|}</c> marks where a diagnostic is expected; the generator must report
/// exactly the marked diagnostics, as errors, generate nothing for the model and throw nothing.
/// </summary>
public class DiagnosticTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        // KLN0001: the class must be partial (reported on its name: the declaration is what is wrong).
        { "NotPartial", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public class {|KLN0001:NotPartial|};
            """ },

        // KLN0002: unsupported declarations.
        { "Generic", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class {|KLN0002:Generic|}<T>;
            """ },
        { "Abstract", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public abstract partial class {|KLN0002:Abstract|};
            """ },
        { "ContainingTypeNotPartial", """
            public class Outer
            {
                [Model(Input = 4)]
                [Dense(2), SoftmaxCrossEntropy]
                [Sgd]
                public partial class {|KLN0002:Inner|};
            }
            """ },

        // KLN0003: the input.
        { "InputMissing", """
            [{|KLN0003:Model(MaxBatch = 4)|}]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class InputMissing;
            """ },
        { "PerChannelWithoutShape", """
            [Model(Input = 12, {|KLN0003:Normalize = InputNormalization.PerChannel|})]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class PerChannelWithoutShape;
            """ },
        { "NormalizeOutOfDomain", """
            [Model(Input = 12, {|KLN0008:Normalize = (InputNormalization)7|})]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class NormalizeOutOfDomain;
            """ },
        { "InputNegative", """
            [Model({|KLN0003:Input = -3|})]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class InputNegative;
            """ },
        { "InputShapeMismatch", """
            [Model({|KLN0003:Input = 10|}, InputShape = new[] { 1, 2, 2 })]
            [Flatten, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class InputShapeMismatch;
            """ },
        { "InputShapeZeroDimension", """
            [Model({|KLN0003:InputShape = new[] { 1, 0, 2 }|})]
            [Flatten, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class InputShapeZeroDimension;
            """ },

        // KLN0004: layers on two partial declarations (reported on the first attribute of the second one).
        { "LayersSplit", """
            [Model(Input = 4)]
            [Dense(3), ReLU]
            public partial class LayersSplit;

            [{|KLN0004:Dense(2)|}, SoftmaxCrossEntropy]
            [Sgd]
            public partial class LayersSplit;
            """ },

        // KLN0005: no loss (reported on [Model]: nothing else is there to point at).
        { "NoLoss", """
            [{|KLN0005:Model(Input = 4)|}]
            [Dense(2)]
            [Sgd]
            public partial class NoLoss;
            """ },

        // KLN0006: the loss is last, and there is one.
        { "LayerAfterLoss", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy, {|KLN0006:ReLU|}]
            [Sgd]
            public partial class LayerAfterLoss;
            """ },
        { "TwoLosses", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy, {|KLN0006:MeanSquaredError|}]
            [Sgd]
            public partial class TwoLosses;
            """ },

        // KLN0007: the loss does not fit the output width.
        { "SoftmaxCrossEntropyOneOutput", """
            [Model(Input = 4)]
            [Dense(1), {|KLN0007:SoftmaxCrossEntropy|}]
            [Sgd]
            public partial class SoftmaxCrossEntropyOneOutput;
            """ },
        { "BinaryCrossEntropyThreeOutputs", """
            [Model(Input = 4)]
            [Dense(3), {|KLN0007:BinaryCrossEntropy|}]
            [Sgd]
            public partial class BinaryCrossEntropyThreeOutputs;
            """ },
        { "HingeOneOutput", """
            [Model(Input = 4)]
            [Dense(1), {|KLN0007:MulticlassHinge|}]
            [Sgd]
            public partial class HingeOneOutput;
            """ },

        // KLN0008: hyper-parameters out of their domain, on the argument.
        { "LearningRateZero", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd({|KLN0008:0|})]
            public partial class LearningRateZero;
            """ },
        { "LearningRateNegative", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Adam({|KLN0008:LearningRate = -1e-3|})]
            public partial class LearningRateNegative;
            """ },
        { "DropoutOne", """
            [Model(Input = 4)]
            [Dense(8), ReLU, Dropout({|KLN0008:1.0|}), Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class DropoutOne;
            """ },
        { "DropoutNegative", """
            [Model(Input = 4)]
            [Dense(8), ReLU, Dropout({|KLN0008:-0.1|}), Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class DropoutNegative;
            """ },
        { "AlphaDropoutOne", """
            [Model(Input = 4)]
            [Dense(8), SELU, AlphaDropout({|KLN0008:1.0|}), Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class AlphaDropoutOne;
            """ },
        { "OrthogonalGainZero", """
            [Model(Input = 4)]
            [Dense(8, Init = Init.Orthogonal, {|KLN0008:InitScale = 0|}), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class OrthogonalGainZero;
            """ },
        { "AdamBeta1One", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Adam({|KLN0008:Beta1 = 1|})]
            public partial class AdamBeta1One;
            """ },
        { "AdamBeta2AndEpsilon", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Adam(1e-3, {|KLN0008:Beta2 = 1.5|}, {|KLN0008:Epsilon = 0|})]
            public partial class AdamBeta2AndEpsilon;
            """ },
        { "MomentumRhoOne", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Momentum(0.1, {|KLN0008:Rho = 1|})]
            public partial class MomentumRhoOne;
            """ },
        { "BatchNormEpsilonZero", """
            [Model(Input = 4)]
            [Dense(8), BatchNorm({|KLN0008:Epsilon = 0|}), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BatchNormEpsilonZero;
            """ },
        { "BatchNormMomentumAboveOne", """
            [Model(Input = 4)]
            [Dense(8), BatchNorm({|KLN0008:Momentum = 1.5|}), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BatchNormMomentumAboveOne;
            """ },
        { "DenseZeroUnits", """
            [Model(Input = 4)]
            [Dense({|KLN0008:0|}), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class DenseZeroUnits;
            """ },
        { "MaxBatchZero", """
            [Model(Input = 4, {|KLN0008:MaxBatch = 0|})]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class MaxBatchZero;
            """ },
        { "HingeMarginZero", """
            [Model(Input = 4)]
            [Dense(3), MulticlassHinge({|KLN0008:Margin = 0|})]
            [Sgd]
            public partial class HingeMarginZero;
            """ },
        { "EluAlphaNegative", """
            [Model(Input = 4)]
            [Dense(8), ELU({|KLN0008:-1|}), Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class EluAlphaNegative;
            """ },
        { "NormalInitNegativeScale", """
            [Model(Input = 4)]
            [Dense(2, Init = Init.Normal, {|KLN0008:InitScale = -0.5|}), SoftmaxCrossEntropy]
            [Sgd]
            public partial class NormalInitNegativeScale;
            """ },
        { "BiasInitNaN", """
            [Model(Input = 4)]
            [Dense(2, {|KLN0008:BiasInit = double.NaN|}), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BiasInitNaN;
            """ },

        // KLN0009: BatchNorm can never see more than one sample.
        { "BatchNormMaxBatchOne", """
            [Model(Input = 4, MaxBatch = 1)]
            [Dense(8), {|KLN0009:BatchNorm|}, ReLU, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BatchNormMaxBatchOne;
            """ },

        // KLN0010: exactly one optimiser.
        { "NoOptimizer", """
            [{|KLN0010:Model(Input = 4)|}]
            [Dense(2), SoftmaxCrossEntropy]
            public partial class NoOptimizer;
            """ },
        { "TwoOptimizers", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd, {|KLN0010:Adam|}]
            public partial class TwoOptimizers;
            """ },

        // KLN0011: Dense straight on a spatial input.
        { "SpatialInputWithoutFlatten", """
            [Model(InputShape = new[] { 1, 28, 28 })]
            [{|KLN0011:Dense(10)|}, SoftmaxCrossEntropy]
            [Adam]
            public partial class SpatialInputWithoutFlatten;
            """ },

        { "DenseOnConvOutputWithoutFlatten", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Conv2D(4, 3), ReLU, {|KLN0011:Dense(10)|}, SoftmaxCrossEntropy]
            [Adam]
            public partial class DenseOnConvOutputWithoutFlatten;
            """ },

        // KLN0013: a kernel or pooling window larger than the padded input, on the size argument.
        { "KernelLargerThanInput", """
            [Model(InputShape = new[] { 1, 4, 4 })]
            [Conv2D(2, {|KLN0013:5|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class KernelLargerThanInput;
            """ },
        { "DilatedKernelLargerThanInput", """
            [Model(InputShape = new[] { 1, 6, 9 })]
            [Conv2D(2, 3, Dilation = 3), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class DilatedKernelLargerThanInput;
            """.Replace("Conv2D(2, 3, Dilation = 3)", "Conv2D(2, {|KLN0013:3|}, Dilation = 3)") },
        { "NonSquareKernelTooTall", """
            [Model(InputShape = new[] { 2, 3, 8 })]
            [Conv2D(2, 3, {|KLN0013:KernelHeight = 4|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class NonSquareKernelTooTall;
            """ },
        { "PoolLargerThanConvOutput", """
            [Model(InputShape = new[] { 1, 6, 6 })]
            [Conv2D(2, 5), MaxPool({|KLN0013:3|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class PoolLargerThanConvOutput;
            """ },

        // KLN0014: a non-integer output size, on Stride (or on the window when the stride is implied).
        { "StrideDoesNotDivide", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Conv2D(4, 3, {|KLN0014:Stride = 2|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class StrideDoesNotDivide;
            """ },
        { "PoolDoesNotDivide", """
            [Model(InputShape = new[] { 3, 5, 5 })]
            [MaxPool({|KLN0014:2|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class PoolDoesNotDivide;
            """ },
        { "OnlyTheWidthDoesNotDivide", """
            [Model(InputShape = new[] { 1, 9, 10 })]
            [AvgPool(3, {|KLN0014:Stride = 3|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class OnlyTheWidthDoesNotDivide;
            """ },

        // KLN0015: spatial layers need a (C, H, W) input.
        { "ConvOnFlatInput", """
            [Model(Input = 16)]
            [{|KLN0015:Conv2D(4, 3)|}, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class ConvOnFlatInput;
            """ },
        { "PoolAfterFlatten", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Conv2D(4, 3), Flatten, {|KLN0015:MaxPool(2)|}, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class PoolAfterFlatten;
            """ },
        { "GlobalPoolAfterDense", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Flatten, Dense(4), {|KLN0015:GlobalAvgPool|}, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class GlobalPoolAfterDense;
            """ },

        // KLN0008 on the convolution and pooling arguments.
        { "ConvArgumentsOutOfDomain", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Conv2D({|KLN0008:0|}, 3, {|KLN0008:Stride = 0|}, {|KLN0008:Padding = -1|}, {|KLN0008:Dilation = 0|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class ConvArgumentsOutOfDomain;
            """ },
        { "PoolPaddingAsLargeAsTheWindow", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [AvgPool(2, {|KLN0008:Padding = 2|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class PoolPaddingAsLargeAsTheWindow;
            """ },

        { "GroupsDoNotDivideChannels", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Conv2D(6, 3), GroupNorm({|KLN0008:4|}), ReLU, Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class GroupsDoNotDivideChannels;
            """ },
        { "InstanceNormOnFlatInput", """
            [Model(Input = 12)]
            [Dense(6), {|KLN0015:InstanceNorm|}, ReLU, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class InstanceNormOnFlatInput;
            """ },

        { "MaxoutWithOnePiece", """
            [Model(Input = 12)]
            [Dense(6), Maxout({|KLN0008:1|}), Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class MaxoutWithOnePiece;
            """ },
        { "MaxoutAfterAnActivation", """
            [Model(Input = 12)]
            [Dense(6), ReLU, {|KLN0012:Maxout(2)|}, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class MaxoutAfterAnActivation;
            """ },

        { "DropConnectRateOne", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Conv2D(4, 3, {|KLN0008:DropConnect = 1.0|}), Flatten, Dense(2, {|KLN0008:DropConnect = -0.1|}), SoftmaxCrossEntropy]
            [Adam]
            public partial class DropConnectRateOne;
            """ },

        { "FixupWithoutResidualBlocks", """
            [Model(Input = 4)]
            [{|KLN0012:Fixup|}]
            [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class FixupWithoutResidualBlocks;
            """ },
        { "FixupWithBatchNorm", """
            [Model(Input = 4)]
            [{|KLN0012:Fixup|}]
            [Dense(8), BatchNorm, ReLU, Residual, Dense(8), ReLU, Dense(8), EndResidual, Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class FixupWithBatchNorm;
            """ },
        { "ScalarLearningRateScaleNegative", """
            [Model(Input = 4)]
            [Dense(8), ScalarBias({|KLN0008:LearningRateScale = -1|}), ReLU, Multiplier({|KLN0008:LearningRateScale = -2|}), Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class ScalarLearningRateScaleNegative;
            """ },

        { "ResidualShapeChanges", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [Conv2D(4, 3, Padding = 1), {|KLN0012:Residual|}, Conv2D(8, 3, Padding = 1), ReLU, {|KLN0012:EndResidual|}, Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class ResidualShapeChanges;
            """.Replace("{|KLN0012:Residual|}", "Residual") },
        { "ResidualProjectionWithoutIntegerStride", """
            [Model(InputShape = new[] { 1, 6, 6 })]
            [Conv2D(4, 3, Padding = 1), Residual(Projection = true), Conv2D(8, 3), ReLU, {|KLN0012:EndResidual|}, Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class ResidualProjectionWithoutIntegerStride;
            """ },
        { "ResidualProjectionAcrossFlatten", """
            [Model(InputShape = new[] { 1, 4, 4 })]
            [Conv2D(4, 3, Padding = 1), Residual(Projection = true), Conv2D(4, 3, Padding = 1), Flatten, Dense(8), {|KLN0012:EndResidual|}, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class ResidualProjectionAcrossFlatten;
            """ },
        { "ResidualNestedUnclosedAndSurvival", """
            [Model(Input = 8)]
            [Dense(8), Residual({|KLN0008:Survival = 0|}), Dense(8), {|KLN0012:Residual|}, Dense(8), EndResidual, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class ResidualNestedUnclosedAndSurvival;
            """ },
        { "ResidualNeverClosed", """
            [Model(Input = 8)]
            [Dense(8), {|KLN0012:Residual|}, Dense(8), Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class ResidualNeverClosed;
            """ },
        { "EndResidualWithoutBlock", """
            [Model(Input = 8)]
            [Dense(8), {|KLN0012:EndResidual|}, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class EndResidualWithoutBlock;
            """ },

        { "FractionalRatioOutsideOneToTwo", """
            [Model(InputShape = new[] { 1, 8, 8 })]
            [FractionalMaxPool({|KLN0008:2.5|}), Conv2D(2, 3, Padding = 1), FractionalMaxPool({|KLN0008:1.0|}), Flatten, Dense(2), SoftmaxCrossEntropy]
            [Adam]
            public partial class FractionalRatioOutsideOneToTwo;
            """ },

        // KLN0012: arrangements that cannot be built.
        { "SoftmaxNotLast", """
            [Model(Input = 4)]
            [Dense(4), {|KLN0012:Softmax|}, Dense(3), SoftmaxCrossEntropy]
            [Sgd]
            public partial class SoftmaxNotLast;
            """ },
        { "DuplicateLayerNames", """
            [Model(Input = 4)]
            [Dense(4, Name = "a"), ReLU, Dense(3, {|KLN0012:Name = "a"|}), SoftmaxCrossEntropy]
            [Sgd]
            public partial class DuplicateLayerNames;
            """ },
        { "ExplicitNameTakesADefaultName", """
            [Model(Input = 4)]
            [Dense(4, Name = "dense1"), ReLU, {|KLN0012:Dense(3)|}, SoftmaxCrossEntropy]
            [Sgd]
            public partial class ExplicitNameTakesADefaultName;
            """ },
        { "LayerNameWithSpace", """
            [Model(Input = 4)]
            [Dense(3, {|KLN0012:Name = "my layer"|}), SoftmaxCrossEntropy]
            [Sgd]
            public partial class LayerNameWithSpace;
            """ },
        { "NoDenseLayer", """
            [{|KLN0012:Model(Input = 4)|}]
            [ReLU, MeanSquaredError]
            [Sgd]
            public partial class NoDenseLayer;
            """ },

        // Several problems at once are all reported, each at its own place.
        { "SeveralProblems", """
            [{|KLN0010:Model(Input = 4, {|KLN0008:MaxBatch = -1|})|}]
            [Dense({|KLN0008:0|}), Dropout({|KLN0008:2|}), Dense(3), {|KLN0007:BinaryCrossEntropy|}, {|KLN0006:Tanh|}]
            public partial class SeveralProblems;
            """ },

        // Issue 14 item 5: declarations and arguments that used to be accepted silently.
        { "Record", """
            [Model(Input = 4)]
            [Dense(3), LeakyReLU({|KLN0008:double.NaN|}), Dense(2), SoftmaxCrossEntropy]
            [Sgd({|KLN0008:-1|})]
            public partial record {|KLN0002:Record|};
            """ },
        { "UndefinedEnumMember", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Momentum(0.1, {|KLN0008:Form = (MomentumForm)5|})]
            public partial class UndefinedEnumMember;
            """ },
        { "NonFiniteArguments", """
            [Model(Input = 4)]
            [Dense(3, {|KLN0008:BiasInit = double.NaN|}), Swish({|KLN0008:double.PositiveInfinity|}), PReLU({|KLN0008:Init = double.NaN|})]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd, ClipGradientNorm({|KLN0008:double.NaN|})]
            public partial class NonFiniteArguments;
            """ },
        // KLN0018: the parameters must fit the arenas (16384 → 8 × Dense(16384) overflowed int before).
        { "TooManyParameters", """
            [Model(Input = 16384)]
            [Dense(16384), Dense(16384), Dense(16384), {|KLN0018:Dense(16384)|}, Dense(16384), Dense(16384), Dense(16384), Dense(16384)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class TooManyParameters;
            """ },

        // KLN0016: user members (and inherited ones) named like generated members (issue 14 item 4).
        { "MembersNamedLikeGeneratedOnes", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class MembersNamedLikeGeneratedOnes
            {
                public int {|KLN0016:MaxBatch|} => 1;
                private int {|KLN0016:_batch|} = 0;
                public void {|KLN0016:Predict|}() { }
                public float {|KLN0016:TrainStep|}(int x) => x + _batch;
                public int Helper() => 1;
            }
            """ },
        { "ClassNamedLikeAGeneratedMember", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class {|KLN0016:InputSize|};
            """ },
        { "InheritedMembersNamedLikeGeneratedOnes", """
            public class Base { public void TrainStep() { } public int Extra => 1; }

            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class InheritedMembersNamedLikeGeneratedOnes : {|KLN0002:Base|};
            """ },

        { "MembersNamedLikeKilnModelOnes", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class MembersNamedLikeKilnModelOnes
            {
                private float {|KLN0016:_learningRate|} = 0f;
                public void {|KLN0016:Execute|}(int stage) { }
                public int {|KLN0016:Evaluate|} => (int)_learningRate;
            }
            """ },
        { "BaseClassWithProtectedConstructor", """
            public abstract class Base { protected Base() { } public int Extra => 1; }

            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BaseClassWithProtectedConstructor : {|KLN0002:Base|};
            """ },

        // KLN0017: constructors the generated ones conflict with.
        { "ParameterlessConstructor", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class ParameterlessConstructor
            {
                public {|KLN0017:ParameterlessConstructor|}() { }
            }
            """ },
        { "IsaConstructor", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class IsaConstructor
            {
                public {|KLN0017:IsaConstructor|}(IsaPath isa) { }
            }
            """ },
        { "PrimaryConstructor", """
            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class PrimaryConstructor{|KLN0017:(int size)|}
            {
                public int Size => size;
            }
            """ },
        { "BaseWithoutParameterlessConstructor", """
            public class NeedsArgument { public NeedsArgument(int x) { } }

            [Model(Input = 4)]
            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class BaseWithoutParameterlessConstructor : {|KLN0002:NeedsArgument|}
            {
                public BaseWithoutParameterlessConstructor(int x) : base(x) { }
            }
            """ },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reports_the_marked_diagnostics_and_generates_nothing(string name, string markup) => AssertDiagnostics(name, markup);

    /// <summary>
    /// Runs the generator on the markup (prefixed with <c>using Kiln;</c>) and asserts: the source is
    /// valid C#, nothing threw, no source was generated, and the generator reported exactly the marked
    /// diagnostics, as errors with their descriptor's help link and a fully formatted message.
    /// </summary>
    internal static void AssertDiagnostics(string name, string markup)
    {
        (string source, IReadOnlyList<ExpectedDiagnostic> expected) = Markup.Parse("using Kiln;\n\n" + markup);
        Assert.NotEmpty(expected);

        GeneratorRun run = GeneratorHarness.Run(source);

        // The case is valid C#: only the generator objects to it.
        Assert.Empty(run.Input.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error));
        Assert.Null(run.Result.Exception);
        Assert.True(run.Sources.Count == 0, $"{name}: source was generated for an invalid model: {string.Join(", ", run.Sources.Keys)}");

        var actual = run.GeneratorDiagnostics
            .Select(d => new ExpectedDiagnostic(d.Id, d.Location.SourceSpan))
            .OrderBy(d => d.Span.Start).ThenBy(d => d.Id, StringComparer.Ordinal).ToArray();
        Assert.True(expected.SequenceEqual(actual),
            $"{name}: expected\n{Describe(source, expected)}\nbut the generator reported\n{Describe(source, actual)}\n"
            + string.Join("\n", run.GeneratorDiagnostics.Select(d => "  " + d)));

        foreach (Diagnostic diagnostic in run.GeneratorDiagnostics)
        {
            DiagnosticDescriptor descriptor = Descriptors.ById(diagnostic.Id);
            Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
            Assert.Equal(descriptor.DefaultSeverity, diagnostic.Severity);
            Assert.Equal(GeneratorHarness.SourcePath(0), diagnostic.Location.SourceTree?.FilePath ?? diagnostic.Location.GetLineSpan().Path);
            Assert.Equal(Descriptors.HelpLinkBase + diagnostic.Id + ".md", descriptor.HelpLinkUri);
            string message = diagnostic.GetMessage(CultureInfo.InvariantCulture);
            Assert.False(System.Text.RegularExpressions.Regex.IsMatch(message, @"\{[0-9]+\}") || message.Length < 10,
                $"{diagnostic.Id}: badly formatted message '{message}'.");
        }
    }

    [Theory]
    [InlineData("[Conv2D(4, 3, Padding = 1), Residual, Conv2D(8, 3, Padding = 1), ReLU, EndResidual, Flatten, Dense(2), SoftmaxCrossEntropy]", "set [Residual(Projection = true)]")]
    [InlineData("[Conv2D(4, 3, Padding = 1), Residual(Projection = true), Conv2D(8, 3), ReLU, EndResidual, Flatten, Dense(2), SoftmaxCrossEntropy]", "one integer stride")]
    public void Residual_shape_messages_explain_the_projection_shortcut(string layers, string expected)
    {
        GeneratorRun run = GeneratorHarness.Run("using Kiln;\n\n[Model(InputShape = new[] { 1, 6, 6 })]\n" + layers + "\n[Adam]\npublic partial class Block;\n");
        Diagnostic diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("KLN0012", diagnostic.Id);
        Assert.Contains(expected, diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_descriptor_is_covered_by_a_case()
    {
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (object[] row in Cases())
            foreach (ExpectedDiagnostic e in Markup.Parse((string)row[1]).Expected) covered.Add(e.Id);
        covered.Add(Descriptors.InternalErrorId); // InternalErrorTests
        covered.Add(Descriptors.UnknownNameId);   // UnknownNameTests (its cases are not valid C#: CS0246 comes with it)
        string[] missing = Descriptors.All.Select(d => d.Id).Where(id => !covered.Contains(id)).OrderBy(id => id).ToArray();
        Assert.True(missing.Length == 0, "Descriptors without a test case: " + string.Join(", ", missing));
    }

    [Fact]
    public void Descriptors_follow_the_conventions()
    {
        var ids = Descriptors.All.Select(d => d.Id).ToArray();
        Assert.Equal(ids.Length, ids.Distinct().Count());
        foreach (DiagnosticDescriptor d in Descriptors.All)
        {
            Assert.Matches("^KLN[0-9]{4}$", d.Id);
            Assert.Same(d, Descriptors.ById(d.Id));
            Assert.Equal("Kiln.Spec", d.Category);
            Assert.True(d.IsEnabledByDefault);
            Assert.Equal(Descriptors.HelpLinkBase + d.Id + ".md", d.HelpLinkUri);
            Assert.False(string.IsNullOrWhiteSpace(d.Title.ToString(CultureInfo.InvariantCulture)));
        }
    }

    [Fact]
    public void An_invalid_model_does_not_stop_a_valid_one()
    {
        const string invalid = """
            using Kiln;

            [Model(Input = 4)]
            [Dense(2), Dropout(1.5), SoftmaxCrossEntropy]
            [Sgd]
            public partial class Broken;
            """;

        GeneratorRun run = GeneratorHarness.Run(invalid, TestModels.DigitsMlp);

        Assert.Null(run.Result.Exception);
        Assert.Equal(new[] { "Samples.Digits.DigitsMlp.g.cs" }, run.Sources.Keys);
        Assert.Equal(Descriptors.HyperParameterOutOfDomainId, Assert.Single(run.GeneratorDiagnostics).Id);
    }

    [Fact]
    public void A_class_without_Model_is_ignored()
    {
        const string source = """
            using Kiln;

            [Dense(2), SoftmaxCrossEntropy]
            [Sgd]
            public partial class NotAModel;
            """;

        GeneratorRun run = GeneratorHarness.Run(source);

        Assert.Null(run.Result.Exception);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.Sources);
    }

    private static string Describe(string source, IEnumerable<ExpectedDiagnostic> diagnostics) =>
        string.Join("\n", diagnostics.Select(d =>
            $"  {d.Id} at {d.Span}: '{(d.Span.End <= source.Length ? source.Substring(d.Span.Start, d.Span.Length) : "?")}'"));
}
