using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>
/// The code rules following values (issue 16): each pitfall written directly, through a local/helper/options object, and in
/// a differently shaped spelling, plus near misses where names say one thing and the data's source another.
/// </summary>
public class FlowRuleTests
{
    private const string Net = """
        [Model(Input = 4, Seed = 1, MaxBatch = 8)]
        [Dense(8, Bias = false), BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Net;

        """;

    // ---------------------------------------------------------------- KLN0113

    [Fact]
    public Task KLN0113_follows_helpers_locals_and_deconstruction() => Verify.AnalyzerAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public static class Training
        {
            private static void Step(Net model, Dataset batch) => model.TrainStep(batch.Features, batch.Labels, batch.Count);
            private static void Epoch(Net model, Dataset d) => Step(model, d);

            public static void Run(Net model, Dataset data)
            {
                var split = data.Split(0.8, 1);
                [|Step(model, split.Test)|];                  // a helper called with the test split
                [|Epoch(model, split.Test)|];                 // two helpers deep
                var a = split.Test;                           // neutral names
                var b = a.Features;
                [|model.TrainStep(b, a.Labels, 8)|];
                var (train, other) = data.ValidationSplit(0.1, 2);
                [|Trainer.Fit(model, other, null, 1, 8)|];    // the validation part of a deconstructed split
                Step(model, train);
            }
        }
        """);

    [Fact]
    public Task KLN0113_sources_beat_names() => Verify.NoDiagnosticsAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public static class Training
        {
            private static void Step(Net model, Dataset batch) => model.TrainStep(batch.Features, batch.Labels, batch.Count);

            public static void Run(Net model, Dataset data)
            {
                var split = data.Split(0.8, 1);
                var test = split.Train;                       // named "test", holds the training split
                model.TrainStep(test.Features, test.Labels, 8);
                Step(model, split.Train);
                var (xTest, yTest) = data.Split(0.5, 3);      // first element: the training part
                Trainer.Fit(model, xTest, yTest, 1, 8);
            }
        }
        """);

    // ---------------------------------------------------------------- KLN0121

    [Fact]
    public Task KLN0121_fit_before_split_and_helpers() => Verify.AnalyzerAsync<PreprocessingLeakageAnalyzer>("""
        public static class Prep
        {
            private static Standardizer Scale(Dataset d) => new Standardizer().Fit(d);

            public static void Run(Dataset all, Dataset other)
            {
                var scaler = [|new Standardizer().Fit(all)|];         // fitted on everything, split below
                var split = all.Split(0.8, 1);
                var s2 = [|Scale(split.Test)|];                       // a helper fitting on the test split
                var copy = other;
                var t = [|new Standardizer().Fit(copy)|];             // split through a local
                var parts = copy.ValidationSplit(0.2, 1);
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0121_near_misses_fit_on_the_training_part() => Verify.NoDiagnosticsAsync<PreprocessingLeakageAnalyzer>("""
        public static class Prep
        {
            private static Standardizer Scale(Dataset d) => new Standardizer().Fit(d);

            public static void Run(Dataset all)
            {
                var split = all.Split(0.8, 1);
                var scaler = new Standardizer().Fit(split.Train);
                var test = split.Train;
                var s2 = Scale(test);                                   // named test, holds the training split
                var x = scaler.Transform(split.Test);
            }
        }
        """, generate: false);

    // ---------------------------------------------------------------- KLN0212

    [Fact]
    public Task KLN0212_neutral_names_decided_from_the_code() => Verify.AnalyzerAsync<UnscaledDropoutCodeAnalyzer>("""
        public sealed class Block
        {
            public void Forward(double[] y, Random rng, double p)
            {
                for (int i = 0; i < y.Length; i++)
                    if ([|rng.NextDouble() < p|]) y[i] = 0;
            }

            public void Copy(float[] x, float[] y, Random r, float q)
            {
                for (int j = 0; j < x.Length; j++) y[j] = [|r.NextSingle() < q ? x[j] : 0f|];
            }

            public void Span(Span<float> v, Random r, double q)
            {
                foreach (int k in new[] { 0, 1, 2 })
                    if ([|r.NextDouble() >= q|]) { v[k] = 0; }
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0212_near_misses_neutral_names() => Verify.NoDiagnosticsAsync<UnscaledDropoutCodeAnalyzer>("""
        public sealed class Block
        {
            public void Rescaled(double[] y, Random rng, double p)
            {
                for (int i = 0; i < y.Length; i++)
                    if (rng.NextDouble() < p) y[i] = 0; else y[i] /= 1 - p;
            }

            public double Once(Random rng, double p, double value)
            {
                double result = value;
                if (rng.NextDouble() < p) result = 0;            // one draw, not a mask over elements
                return result;
            }
        }
        """, generate: false);

    // ---------------------------------------------------------------- KLN0114 / KLN0118 / KLN0115 / KLN0116 through Trainer.Fit

    private const string Models = """
        [Model(Input = 4, Seed = 1, MaxBatch = 4096)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class A;

        [Model(Input = 4, Seed = 1, MaxBatch = 4096)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Momentum(0.1)]
        public partial class M;

        [Model(Input = 4, Seed = 1, MaxBatch = 64)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [AdaGrad(0.01)]
        public partial class G;

        [Model(Input = 4, Seed = 1, MaxBatch = 64)]
        [Dense(8), Tanh, Dense(2), SoftmaxCrossEntropy]
        [Lbfgs]
        public partial class L;

        """;

    [Fact]
    public Task KLN0114_learning_rate_in_the_options() => Verify.AnalyzerAsync<LearningRateRangeAnalyzer>(Models + """
        public static class Runs
        {
            private static TrainerOptions Fast() => new TrainerOptions { LearningRate = 0.5f };

            public static void Run(Dataset train)
            {
                [|Trainer.Fit(new A(), train, null, new TrainerOptions { LearningRate = 0.1f })|];
                var options = new TrainerOptions { Epochs = 3 };
                var faster = options with { LearningRate = 0.05f };
                IKilnModel model = new A();
                [|Trainer.Fit(model, train, null, faster)|];
                [|Trainer.Fit(new A(), train, null, Fast())|];
            }
        }
        """, generate: true);

    [Fact]
    public Task KLN0114_usual_rates_in_the_options() => Verify.NoDiagnosticsAsync<LearningRateRangeAnalyzer>(Models + """
        public static class Runs
        {
            public static void Run(Dataset train, float lr)
            {
                Trainer.Fit(new A(), train, null, new TrainerOptions { LearningRate = 1e-3f });
                Trainer.Fit(new M(), train, null, new TrainerOptions { LearningRate = 0.5f });   // SGD family: up to 1
                Trainer.Fit(new A(), train, null, new TrainerOptions { LearningRate = lr });     // unknown
            }
        }
        """);

    [Fact]
    public Task KLN0118_high_rate_for_the_batch_of_the_call() => Verify.AnalyzerAsync<LargeBatchWithoutWarmupAnalyzer>(Models + """
        public static class Runs
        {
            public static void Run(Dataset train)
            {
                [|Trainer.Fit(new M(), train, null, new TrainerOptions { BatchSize = 2048, LearningRate = 0.5f })|];
                var options = new TrainerOptions { BatchSize = 1024 };
                [|Trainer.Fit(new A(), train, null, options with { LearningRate = 3e-3f })|];
                IKilnModel m = new M();
                [|Trainer.Fit(m, train, null, new TrainerOptions { BatchSize = 4096, LearningRate = 0.8f })|];
                Trainer.Fit(new M(), train, null, 10, 4096);        // the model's 0.1 is below 0.1·√16
            }
        }
        """);

    [Fact]
    public Task KLN0118_warm_up_or_moderate_rate_is_fine() => Verify.NoDiagnosticsAsync<LargeBatchWithoutWarmupAnalyzer>(Models + """
        public static class Runs
        {
            public static void Run(Dataset train)
            {
                Trainer.Fit(new M(), train, null, new TrainerOptions { BatchSize = 2048, LearningRate = 0.5f, Schedule = Kiln.Schedules.Warmup.Linear(500) });
                Trainer.Fit(new M(), train, null, new TrainerOptions { BatchSize = 2048, LearningRate = 0.2f });   // below 0.1·√8
                Trainer.Fit(new M(), train, null, new TrainerOptions { BatchSize = 256, LearningRate = 0.5f });   // not a large batch
            }
        }
        """);

    [Fact]
    public Task KLN0115_warns_for_long_runs_only() => Verify.AnalyzerAsync<AdaGradLongRunAnalyzer>((Models + """
        public static class Runs
        {
            public static void Run(Dataset train, int epochs)
            {
                [|Trainer.Fit(new G(), train, null, 200, 32)|];
                var options = new TrainerOptions { Epochs = 150 };
                [|Trainer.Fit(new G(), train, null, options)|];
                Trainer.Fit(new G(), train, null, 5, 32);          // short: the attribute's info is enough
                Trainer.Fit(new G(), train, null, epochs, 32);     // unknown
                [|Trainer.Fit(new G(), train.Subset(0, 64000), null, 10, 32)|];   // 10 × 2000 steps
            }
        }
        """).Replace("[AdaGrad(0.01)]", "[{|KLN0115:AdaGrad(0.01)|}]"));

    [Fact]
    public Task KLN0116_mini_batch_lbfgs() => Verify.AnalyzerAsync<LbfgsWithNoiseAnalyzer>(Net.Replace("public partial class Net;", "public partial class Net;\n\n[Model(Input = 4, Seed = 1, MaxBatch = 8)]\n[Dense(8), Tanh, Dropout(0.2), Dense(2), SoftmaxCrossEntropy]\n[Adam]\npublic partial class D;\n") + Models + """
        public static class Runs
        {
            public static void Run(Dataset train)
            {
                [|Trainer.Fit(new L(), train, null, 1, 8)|];
                IKilnModel l = new L();
                [|l.TrainStep(train.Features, train.Labels, 8)|];
                for (int i = 0; i < 10; i++)
                {
                    var batch = train.Subset(i * 8, 8);
                    [|Lbfgs.Minimize(new Net(), batch)|];
                }
                [|Lbfgs.Minimize(new D(), train)|];
            }
        }
        """);

    [Fact]
    public Task KLN0116_full_batch_lbfgs_is_fine() => Verify.NoDiagnosticsAsync<LbfgsWithNoiseAnalyzer>(Net + Models + """
        public static class Runs
        {
            public static void Run(Dataset train)
            {
                Lbfgs.Minimize(new L(), train);
                for (int restart = 0; restart < 3; restart++) Lbfgs.Minimize(new Net(), train);   // same data each time
                Trainer.Fit(new Net(), train, null, 1, 8);
            }
        }
        """);

    // ---------------------------------------------------------------- KLN0130

    [Fact]
    public Task KLN0130_selection_on_the_test_split() => Verify.AnalyzerAsync<ModelSelectionOnTestDataAnalyzer>(Net + """
        public static class Runs
        {
            public static void Run(Net model, Dataset data, string dir)
            {
                var split = data.Split(0.8, 1);
                [|Trainer.Fit(model, split.Train, split.Test, new TrainerOptions { EarlyStopping = new EarlyStopping() })|];
                var options = new TrainerOptions { Epochs = 5 } with { RunDirectory = dir };
                var (tr, held) = data.Split(0.9, 2);
                [|Trainer.Fit(model, tr, held, options)|];
                double best = 0;
                for (int epoch = 0; epoch < 10; epoch++)
                {
                    Trainer.Fit(model, split.Train, null, 1, 8);
                    var score = [|Trainer.Evaluate(model, split.Test)|];
                    if (score.Accuracy > best) best = score.Accuracy;
                }
            }
        }
        """);

    [Fact]
    public Task KLN0130_validation_splits_and_reporting_only_are_fine() => Verify.NoDiagnosticsAsync<ModelSelectionOnTestDataAnalyzer>(Net + """
        public static class Runs
        {
            public static void Run(Net model, Dataset data)
            {
                var split = data.Split(0.8, 1);
                var inner = split.Train.ValidationSplit(0.1, 2);
                Trainer.Fit(model, inner.Train, inner.Test, new TrainerOptions { EarlyStopping = new EarlyStopping() });
                Trainer.Fit(model, split.Train, split.Test, new TrainerOptions { Epochs = 3 });   // reported, not selected on
                var test = inner.Test;                                                          // named test: validation data
                Trainer.Fit(model, inner.Train, test, new TrainerOptions { EarlyStopping = new EarlyStopping() });
                double final = Trainer.Evaluate(model, split.Test).Accuracy;
            }
        }
        """);

    // ---------------------------------------------------------------- KLN0131

    [Fact]
    public Task KLN0131_noise_on_evaluation_data() => Verify.AnalyzerAsync<TrainingNoiseAtEvaluationAnalyzer>("""
        using Kiln.Augmentation;

        public static class Eval
        {
            private static void Corrupt(float[] values, Random rng, double p)
            {
                for (int i = 0; i < values.Length; i++)
                    if (rng.NextDouble() < p) values[i] = 0;
            }

            public static void Run(Dataset data, ImageShape shape)
            {
                var split = data.Split(0.8, 1);
                var flip = new HorizontalFlip(shape);
                var rng = new KilnRandom(1);
                [|flip.Apply(split.Test.Features, split.Test.Labels, default, split.Test.Count, 2, ref rng)|];
                var held = split.Test.Features;
                [|Corrupt(held, new Random(1), 0.5)|];
                IBatchAugmentation aug = flip;
                [|aug.Apply(data.ValidationSplit(0.1, 1).Test.Features, default, default, 1, 2, ref rng)|];
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0131_training_noise_on_training_data_is_fine() => Verify.NoDiagnosticsAsync<TrainingNoiseAtEvaluationAnalyzer>("""
        using Kiln.Augmentation;

        public static class Eval
        {
            private static void Corrupt(float[] values, Random rng, double p, bool training)
            {
                if (training)
                    for (int i = 0; i < values.Length; i++)
                        if (rng.NextDouble() < p) values[i] = 0;
            }

            public static void Run(Dataset data, ImageShape shape)
            {
                var split = data.Split(0.8, 1);
                var flip = new HorizontalFlip(shape);
                var rng = new KilnRandom(1);
                flip.Apply(split.Train.Features, split.Train.Labels, default, split.Train.Count, 2, ref rng);
                Corrupt(split.Test.Features, new Random(1), 0.5, training: false);   // guarded by a training switch
                var test = split.Train.Features;
                flip.Apply(test, default, default, 1, 2, ref rng);                    // named test, training data
            }
        }
        """, generate: false);

    // ---------------------------------------------------------------- KLN0132

    [Fact]
    public Task KLN0132_unshuffled_training() => Verify.AnalyzerAsync<UnshuffledTrainingDataAnalyzer>(Net + """
        public static class Runs
        {
            private static TrainerOptions Ordered() => new TrainerOptions { Epochs = 2, [|Shuffle = false|] };

            public static void Run(Net model, Dataset train)
            {
                Trainer.Fit(model, train, null, new TrainerOptions { [|Shuffle = false|] });
                Trainer.Fit(model, train, null, Ordered());
                var options = new TrainerOptions();
                Trainer.Fit(model, train, null, options with { [|Shuffle = false|] });
                for (int epoch = 0; epoch < 5; epoch++)
                    for (int start = 0; start + 8 <= train.Count; start += 8)
                        [|model.TrainStep(train.Features.AsSpan(start * 4, 32), train.Labels.AsSpan(start, 8), 8)|];
            }
        }
        """);

    [Fact]
    public Task KLN0132_shuffled_training_is_fine() => Verify.NoDiagnosticsAsync<UnshuffledTrainingDataAnalyzer>(Net + """
        public static class Runs
        {
            public static void Run(Net model, Dataset train, bool shuffle)
            {
                Trainer.Fit(model, train, null, new TrainerOptions { Shuffle = true });
                Trainer.Fit(model, train, null, new TrainerOptions { Shuffle = shuffle });
                var rng = new Random(1);
                int[] order = new int[train.Count];
                for (int epoch = 0; epoch < 5; epoch++)
                {
                    rng.Shuffle(order);
                    for (int start = 0; start + 8 <= train.Count; start += 8)
                    {
                        var batch = train.Subset(order.AsSpan(start, 8));
                        model.TrainStep(batch.Features, batch.Labels, 8);
                    }
                }
            }
        }
        """);

    // ---------------------------------------------------------------- KLN0133

    [Fact]
    public Task KLN0133_batchnorm_at_batch_one() => Verify.AnalyzerAsync<BatchNormBatchOneTrainingAnalyzer>(Net + """
        public static class Runs
        {
            public static void Run(Dataset train)
            {
                [|Trainer.Fit(new Net(), train, null, 3, 1)|];
                IKilnModel model = new Net();
                var options = new TrainerOptions { BatchSize = 1 };
                [|Trainer.Fit(model, train, null, options)|];
                const int one = 1;
                [|model.TrainStep(train.Features.AsSpan(0, 4), train.Labels.AsSpan(0, 1), one)|];
            }
        }
        """);

    [Fact]
    public Task KLN0133_larger_batches_or_no_batchnorm_are_fine() => Verify.NoDiagnosticsAsync<BatchNormBatchOneTrainingAnalyzer>(Net + """
        [Model(Input = 4, Seed = 1, MaxBatch = 8)]
        [Dense(8), LayerNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Layered;

        public static class Runs
        {
            public static void Run(Dataset train, int batch)
            {
                Trainer.Fit(new Net(), train, null, 3, 8);
                Trainer.Fit(new Layered(), train, null, 3, 1);
                Trainer.Fit(new Net(), train, null, 3, batch);
            }
        }
        """);

    // ---------------------------------------------------------------- KLN0213 through locals

    [Fact]
    public Task KLN0213_model_reached_through_other_locals() => Verify.AnalyzerAsync<InferenceWithoutTrainingAnalyzer>(Net + """
        public static class Inference
        {
            public static void Interface(float[] x, float[] outputs)
            {
                Net m = new();
                IKilnModel any = m;
                [|any.Predict(x, outputs, 8)|];
            }

            public static double Cast(Dataset test)
            {
                IKilnModel created = new Net();
                var concrete = (Net)created;
                return [|Trainer.Evaluate(concrete, test)|].Accuracy;
            }

            public static void AssignedLater(float[] x, float[] outputs)
            {
                Net late;
                late = new Net();
                var copy = late;
                [|copy.Predict(x, outputs, 8)|];
            }
        }
        """);

    [Fact]
    public Task KLN0213_aliases_that_are_trained_or_escape_are_fine() => Verify.NoDiagnosticsAsync<InferenceWithoutTrainingAnalyzer>(Net + """
        public static class Inference
        {
            public static void TrainedThroughTheOriginal(Dataset train, float[] x, float[] outputs)
            {
                Net m = new();
                IKilnModel any = m;
                Trainer.Fit(m, train, null, 1, 8);
                any.Predict(x, outputs, 8);
            }

            public static void TrainedThroughTheAlias(Dataset train, float[] x, float[] outputs)
            {
                Net m = new();
                IKilnModel any = m;
                any.TrainStep(train.Features.AsSpan(0, 32), train.Labels.AsSpan(0, 8), 8);
                m.Predict(x, outputs, 8);
            }

            public static void LoadedThroughTheAlias(float[] x, float[] outputs)
            {
                var m = new Net();
                IKilnModel any = m;
                Load(any);
                m.Predict(x, outputs, 8);
            }

            public static void Reassigned(Net trained, float[] x, float[] outputs)
            {
                Net m = new();
                IKilnModel any = m;
                any = trained;
                any.Predict(x, outputs, 8);
            }

            public static void FromAParameter(IKilnModel given, float[] x, float[] outputs)
            {
                IKilnModel any = given;
                any.Predict(x, outputs, 8);
            }

            private static void Load(IKilnModel model) { }
        }
        """);

    // ---------------------------------------------------------------- names are only a tie-breaker (KLN0113, KLN0220)

    [Fact]
    public Task KLN0113_a_held_out_name_needs_the_code_to_agree() => Verify.AnalyzerAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public static class Training
        {
            public static double Named(Net model, Dataset testSet)
            {
                [|Trainer.Fit(model, testSet, null, 1, 8)|];   // named test AND scored below: the name breaks the tie
                return Trainer.Evaluate(model, testSet).Accuracy;
            }

            public static void Neutral(Net model, Dataset d, float[] outputs)
            {
                var (fit, p) = d.Split(0.8, 1);                 // neutral names: the split says p is the test part
                [|model.TrainStep(p.Features, p.Labels, p.Count)|];
                model.Predict(fit.Features, outputs, 8);
            }
        }
        """);

    [Fact]
    public Task KLN0113_a_held_out_name_alone_decides_nothing() => Verify.NoDiagnosticsAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public static class Training
        {
            // Named like test data, but nothing in the code treats it as held out (it is never scored on): no finding.
            public static void Misleading(Net model, float[] xTest, int[] yTest, Dataset validationLike)
            {
                model.TrainStep(xTest, yTest, 8);
                Trainer.Fit(model, validationLike, null, 1, 8);
            }
        }
        """);

    [Fact]
    public Task KLN0133_conv_net_with_batchnorm_through_a_helper() => Verify.AnalyzerAsync<BatchNormBatchOneTrainingAnalyzer>("""
        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1, MaxBatch = 8)]
        [Conv2D(4, 3, Padding = 1, Bias = false), BatchNorm, ReLU, GlobalAvgPool, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class ConvNet;

        [Model(InputShape = new[] { 1, 8, 8 }, Seed = 1, MaxBatch = 8)]
        [Conv2D(4, 3, Padding = 1, Bias = false), GroupNorm(2), ReLU, GlobalAvgPool, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class GroupNet;

        public static class Runs
        {
            private static TrainerOptions OneAtATime() => new TrainerOptions { Epochs = 2, BatchSize = 1 };

            public static void Run(Dataset train)
            {
                [|Trainer.Fit(new ConvNet(), train, null, OneAtATime())|];
                Trainer.Fit(new GroupNet(), train, null, OneAtATime());   // GroupNorm: per-sample statistics, fine at batch 1
                Trainer.Fit(new ConvNet(), train, null, OneAtATime() with { BatchSize = 8 });
            }
        }
        """);

    [Fact]
    public Task KLN0121_a_held_out_name_alone_decides_nothing() => Verify.NoDiagnosticsAsync<PreprocessingLeakageAnalyzer>("""
        public static class Prep
        {
            // Named like held-out data, but nothing scores a model on them: the names alone do not decide.
            public static Standardizer Run(Dataset testData, float[] xVal) => new Standardizer().Fit(testData);
        }
        """, generate: false);

    [Fact]
    public Task KLN0220_neutral_name_caught_by_the_range() => Verify.AnalyzerAsync<LinearBetaSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace()
                .[|Uniform("p3", 0.9, 0.999)|]
                .[|Uniform("x", 0.99, 0.9999)|];
        }
        """, generate: false);

    [Fact]
    public Task KLN0220_a_beta_name_alone_decides_nothing() => Verify.NoDiagnosticsAsync<LinearBetaSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space() => new SearchSpace()
                .Uniform("beta1", 0.85, 0.95)      // named β, but less than a decade of 1 − β: linear is fine
                .Uniform("momentum", 0.1, 0.5)     // named momentum, nowhere near 1
                .Uniform("ema", 0.5, 0.9);         // does not reach above 0.9
        }
        """, generate: false);
}

/// <summary>The KLN0132 fix.</summary>
public class UnshuffledFixTests
{
    [Fact]
    public Task KLN0132_fix_removes_Shuffle_false() => VerifyFix.FixAsync<UnshuffledTrainingDataAnalyzer, Kiln.CodeFixes.RemoveShuffleFalseCodeFix>("""
        public static class Runs
        {
            public static void Run(IKilnModel model, Dataset train) =>
                Trainer.Fit(model, train, null, new TrainerOptions { Epochs = 3, [|Shuffle = false|], BatchSize = 8 });
        }
        """, """
        public static class Runs
        {
            public static void Run(IKilnModel model, Dataset train) =>
                Trainer.Fit(model, train, null, new TrainerOptions { Epochs = 3, BatchSize = 8 });
        }
        """);
}

/// <summary>KLN0120/KLN0220 read bounds through locals, fields and helper methods.</summary>
public class SearchFlowTests
{
    [Fact]
    public Task KLN0120_bounds_through_locals_fields_and_helpers() => Verify.AnalyzerAsync<LinearScaleSearchAnalyzer>("""
        public static class Search
        {
            private static readonly double Lowest = 1e-5;
            private static double Highest() => 1e-1;

            public static SearchSpace Space()
            {
                double low = 1e-4, high = 1e-1;
                return new SearchSpace()
                    .[|Uniform("lr", low, high)|]
                    .[|Uniform("wd", Lowest, 1e-2)|]
                    .[|Uniform("eta", 1e-3, Highest())|];
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0220_bounds_through_a_local() => Verify.AnalyzerAsync<LinearBetaSearchAnalyzer>("""
        public static class Search
        {
            public static SearchSpace Space(bool wide)
            {
                double top = 0.999;
                double unknown = wide ? 0.999 : 0.95;
                return new SearchSpace().[|Uniform("beta2", 0.9, top)|].Uniform("momentum", 0.5, unknown);
            }
        }
        """, generate: false);

}
