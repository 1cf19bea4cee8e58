using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>KLN0211 (dropout inside a convolutional stack) and KLN0124 (Maxout's parameter cost).</summary>
public class ConvolutionRuleTests
{
    [Fact]
    public Task KLN0211_dropout_between_convolutions() => Verify.AnalyzerAsync<DropoutInConvStackAnalyzer>("""
        [Model(InputShape = new[] { 1, 12, 12 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1), ReLU, [|Dropout(0.2)|]]
        [Conv2D(8, 3, Padding = 1), ReLU, MaxPool(2), [|Dropout(0.1)|]]
        [Conv2D(8, 3, Padding = 1), ReLU]
        [Flatten, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0211_dropout_in_the_dense_head_or_after_the_last_convolution_is_fine() => Verify.NoDiagnosticsAsync<DropoutInConvStackAnalyzer>("""
        [Model(InputShape = new[] { 1, 12, 12 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1), ReLU, MaxPool(2)]
        [Conv2D(8, 3, Padding = 1), ReLU, Dropout(0.2)]
        [Flatten, Dense(32), ReLU, Dropout(0.3), Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class AfterLastConv;

        [Model(InputShape = new[] { 1, 12, 12 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1), ReLU, GlobalAvgPool, Dropout(0.2), Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class AfterGlobalPool;

        [Model(Input = 16, Seed = 1)]
        [Dense(16), ReLU, Dropout(0.2), Dense(16), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Mlp;
        """, generate: false);

    [Fact]
    public Task KLN0124_maxout_multiplies_the_layer_before_it() => Verify.AnalyzerAsync<MaxoutParametersAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1), Maxout([|2|]), Flatten]
        [Dense(16), Maxout([|pieces: 3|]), Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);

    [Fact]
    public Task KLN0124_no_maxout_no_info() => Verify.NoDiagnosticsAsync<MaxoutParametersAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1)]
        [Conv2D(8, 3, Padding = 1), ReLU, Flatten, Dense(16), ReLU, Dense(10), SoftmaxCrossEntropy]
        [Adam]
        public partial class M;
        """, generate: false);
}
