using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;
using Kiln.CodeFixes;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>KLN0120, KLN0220, KLN0320: hyper-parameter search spaces (Kiln.Tuning.SearchSpace).</summary>
public class SearchRuleTests
{
    [Fact]
    public Task KLN0120_learning_rate_and_weight_decay_on_a_linear_scale() => Verify.AnalyzerAsync<LinearScaleSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace()
                .[|Uniform("lr", 1e-4, 1e-1)|]
                .[|Uniform("weight_decay", 0, 1e-3)|]
                .[|Uniform(name: "scale", low: 1e-6, high: 1e-2)|]
                .Uniform("dropout", 0.1, 0.5);
        }
        """, generate: false);

    [Fact]
    public Task KLN0120_near_misses() => Verify.NoDiagnosticsAsync<LinearScaleSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space(double high) => new SearchSpace()
                .LogUniform("lr", 1e-4, 1e-1)
                .Uniform("learning_rate_fine", 1e-3, 5e-3)   // within one decade
                .Uniform("units", 32, 512)                   // not a scale parameter
                .Uniform("momentum", 0.5, 0.99)              // a β: KLN0220's business
                .Uniform("wd", 0, high);                     // bound unknown
        }
        """, generate: false);

    [Fact]
    public Task KLN0120_fix_samples_log_uniformly() => VerifyFix.FixAsync<LinearScaleSearchAnalyzer, LogScaleSearchCodeFix>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace().[|Uniform("lr", 1e-4, 1e-1)|].Choice("units", 64, 128);
        }
        """, """
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("units", 64, 128);
        }
        """);

    [Fact]
    public Task KLN0120_fix_all_in_document() => VerifyFix.FixAllAsync<LinearScaleSearchAnalyzer, LogScaleSearchCodeFix>(new[] { """
        public static class Search
        {
            public static SearchSpace A() => new SearchSpace().[|Uniform("lr", 1e-4, 1e-1)|];
            public static SearchSpace B() => new SearchSpace().[|Uniform("l2", 1e-5, 1e-2)|];
        }
        """ }, new[] { """
        public static class Search
        {
            public static SearchSpace A() => new SearchSpace().LogUniform("lr", 1e-4, 1e-1);
            public static SearchSpace B() => new SearchSpace().LogUniform("l2", 1e-5, 1e-2);
        }
        """ }, Microsoft.CodeAnalysis.CodeFixes.FixAllScope.Document);

    [Fact]
    public Task KLN0220_beta_near_one_on_a_linear_scale() => Verify.AnalyzerAsync<LinearBetaSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace()
                .[|Uniform("momentum", 0.8, 0.99)|]
                .[|Uniform("beta2", 0.99, 0.9999)|]
                .[|Uniform("smoothing", 0.9, 0.999)|];
        }
        """, generate: false);

    [Fact]
    public Task KLN0220_near_misses() => Verify.NoDiagnosticsAsync<LinearBetaSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace()
                .OneMinusLogUniform("momentum", 0.9, 0.999)
                .Uniform("momentum_low", 0.5, 0.9)
                .Uniform("dropout", 0.1, 0.5)
                .Uniform("keep", 0.5, 0.95);
        }
        """, generate: false);

    [Fact]
    public Task KLN0220_decides_from_what_the_sampled_value_feeds() => Verify.AnalyzerAsync<LinearBetaSearchAnalyzer>("""
        using Kiln.Kernels;

        public static class Search
        {
            // "decay" and "keep" say nothing: their values reach OptimizerStep's β1 and β2; low < 0.9, so no range rule either
            public static SearchSpace Space() => new SearchSpace()
                .[|Uniform("decay", 0.5, 0.99)|]
                .[|Uniform("keep", 0.8, 0.999)|]
                .[|Uniform("through_helper", 0.6, 0.95)|];

            public static OptimizerStep Direct(HyperParameters hp) =>
                new OptimizerStep(OptimizerKind.Momentum, 0.01f, (float)hp.GetDouble("decay"), 0f, 1e-8f, 1);

            public static OptimizerStep ThroughLocal(HyperParameters hp)
            {
                float b2 = (float)hp.GetDouble("keep");
                return new OptimizerStep(OptimizerKind.Adam, 1e-3f, 0.9f, b2, 1e-8f, 1);
            }

            public static OptimizerStep ThroughHelper(HyperParameters hp) => Make(hp.GetDouble("through_helper"));
            private static OptimizerStep Make(double r) => new OptimizerStep(OptimizerKind.Nesterov, 0.01f, (float)r, 0f, 1e-8f, 1);
        }
        """, generate: false);

    [Fact]
    public Task KLN0220_a_beta_name_that_feeds_something_else_is_not_a_beta() => Verify.NoDiagnosticsAsync<LinearBetaSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace()
                .Uniform("beta", 0.5, 0.99)
                .Uniform("momentum_keep", 0.8, 0.95);

            // both values end up as learning rates, not β
            public static TrainerOptions Options(HyperParameters hp, TrainerOptions options)
            {
                float rate = (float)hp.GetDouble("beta");
                return new TrainerOptions { LearningRate = rate } with { LearningRate = (float)(double)hp["momentum_keep"] };
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0220_fix_samples_one_minus_beta_log_uniformly() => VerifyFix.FixAsync<LinearBetaSearchAnalyzer, LogScaleSearchCodeFix>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace().[|Uniform("beta1", 0.8, 0.99)|];
        }
        """, """
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace().OneMinusLogUniform("beta1", 0.8, 0.99);
        }
        """);

    [Fact]
    public Task KLN0320_grid_over_three_parameters() => Verify.AnalyzerAsync<GridSearchAnalyzer>("""
        using System.Linq;

        public static class Search
        {
            public static int Count()
            {
                int n = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("units", 64, 128).Uniform("dropout", 0, 0.5).[|Grid(3)|].Count();
                var space = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).IntRange("layers", 1, 4);
                var bigger = space.OneMinusLogUniform("momentum", 0.9, 0.99);
                foreach (HyperParameters point in bigger.[|Grid(4)|]) n++;
                return n;
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0320_near_misses() => Verify.NoDiagnosticsAsync<GridSearchAnalyzer>("""
        using System.Linq;

        public static class Search
        {
            public static int Count(SearchSpace given)
            {
                int n = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("units", 64, 128).Grid(5).Count(); // two parameters
                var random = new KilnRandom(1);
                var three = new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("units", 64, 128).Uniform("dropout", 0, 0.5);
                HyperParameters sample = three.Sample(ref random);                                                // random search
                n += given.Grid(3).Count();                                                                       // unknown size
                var changed = new SearchSpace().LogUniform("lr", 1e-4, 1e-1);
                changed = three;
                n += changed.Grid(3).Count();                                                                     // reassigned: unknown
                return n;
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0320_space_returned_by_a_helper() => Verify.AnalyzerAsync<GridSearchAnalyzer>("""
        using System.Linq;

        public static class Search
        {
            private static SearchSpace Space() => new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("units", 64, 128).Uniform("dropout", 0, 0.5);

            private static SearchSpace Wider() => Space().IntRange("layers", 1, 4);

            private static SearchSpace Either(bool small)
            {
                if (small) return new SearchSpace().LogUniform("lr", 1e-4, 1e-1).IntRange("layers", 1, 4).Choice("units", 32, 64);
                var built = Space();
                return built.OneMinusLogUniform("beta2", 0.9, 0.999);
            }

            public static int Count(bool small)
            {
                int n = Space().[|Grid(3)|].Count();
                n += Wider().[|Grid(2)|].Count();
                var local = Space();
                n += local.[|Grid(2)|].Count();
                n += Either(small).[|Grid(2)|].Count();
                return n;
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0320_helper_near_misses() => Verify.NoDiagnosticsAsync<GridSearchAnalyzer>("""
        using System.Linq;

        public static class Search
        {
            private static SearchSpace Small() => new SearchSpace().LogUniform("lr", 1e-4, 1e-1).Choice("units", 64, 128);
            private static SearchSpace Extend(SearchSpace given) => given.Uniform("dropout", 0, 0.5);
            private static SearchSpace Recursive(int k) => k == 0 ? new SearchSpace() : Recursive(k - 1).Uniform("x" + k, 0, 1);
            private static SearchSpace Loop() => Loop();
            private static SearchSpace _stored = Small();

            public static int Count(SearchSpace outside)
            {
                int n = Small().Grid(3).Count();                 // two parameters
                n += Extend(outside).Grid(3).Count();            // the helper's input is not known
                n += Recursive(5).Grid(2).Count();               // recursion: not counted
                n += Loop().Grid(2).Count();
                var random = new KilnRandom(1);
                HyperParameters sample = Small().Uniform("dropout", 0, 0.5).Sample(ref random);  // random search
                return n;
            }
        }
        """, generate: false);
}
