using System.Threading.Tasks;
using Kiln.Analyzers.Rules;
using Kiln.Analyzers.Tests.Harness;

namespace Kiln.Analyzers.Tests.Rules;

/// <summary>
/// The code rules on calls into the runtime: KLN0113, KLN0213, KLN0121, KLN0119. Each has positive cases and
/// near misses (names that almost match, the same calls on training data, legitimate patterns).
/// </summary>
public class CodeRuleTests
{
    /// <summary>A small generated model used by the cases (the generator adds TrainStep, Predict, ...).</summary>
    private const string Net = """
        [Model(Input = 4, Seed = 1, MaxBatch = 8)]
        [Dense(8, Bias = false), BatchNorm, ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Net;

        """;

    // ---------------------------------------------------------------- KLN0113

    [Fact]
    public Task KLN0113_training_calls_on_held_out_data() => Verify.AnalyzerAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public static class Training
        {
            public static void Run(Net model, DataSplit split, Dataset validation, float[] xTest, int[] yTest, System.Collections.Generic.List<float[]> testBatches, int[] labels)
            {
                [|model.TrainStep(xTest, yTest, 8)|];
                [|Trainer.Fit(model, split.Test, null, 1, 8)|];
                var valX = validation.Features;
                [|model.ComputeGradients(valX, labels, 8)|];
                foreach (float[] batch in testBatches)
                    [|model.TrainStep(batch, labels, 8)|];
                IKilnModel any = model;
                [|any.TrainStep(validation.Features.AsSpan(0, 32), validation.Labels.AsSpan(0, 8), 8)|];
                // The code scores the model on these: with that, their held-out names break the tie (a name alone does not).
                var scores = new float[16];
                model.Predict(xTest, scores, 8);
                model.Predict(testBatches[0], scores, 8);
                Trainer.Evaluate(model, validation);
            }
        }
        """);

    [Fact]
    public Task KLN0113_training_inside_an_evaluation_method() => Verify.AnalyzerAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public sealed class Harness
        {
            private readonly Net _model = new();

            public static double Evaluate(Net model, Dataset data)
            {
                [|model.TrainStep(data.Features, data.Labels, 8)|];
                return model.Evaluate(data.Features, data.Labels, data.Count).Accuracy;
            }

            public double ValidationScore(Dataset data)
            {
                [|Trainer.Fit(_model, data, null, 1, 8)|];
                return Trainer.Evaluate(_model, data).Accuracy;
            }
        }
        """);

    [Fact]
    public Task KLN0113_scoring_what_it_trains_on_whatever_the_method_is_called() => Verify.AnalyzerAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public sealed class Harness
        {
            private readonly Net _model = new();
            private readonly Dataset _held;

            public Harness(Dataset held) => _held = held;

            // neutral names: the model steps in training mode over the data it then scores
            public static float Check(Net model, Dataset d, float[] outputs)
            {
                float[] x = d.Features;
                [|model.TrainStep(x, d.Labels, 8)|];
                model.Predict(x, outputs, 8);
                return outputs[0];
            }

            public double Run()
            {
                [|Trainer.Fit(_model, _held, null, 1, 8)|];
                return Trainer.Evaluate(_model, _held).Accuracy;
            }
        }
        """);

    [Fact]
    public Task KLN0113_an_evaluate_method_that_trains_on_training_data() => Verify.NoDiagnosticsAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public static class Harness
        {
            // called Evaluate, but the data decide: it fits on the training part and scores the held-out part
            public static double Evaluate(Net model, DataSplit split)
            {
                Trainer.Fit(model, split.Train, null, 1, 8);
                return Trainer.Evaluate(model, split.Test).Accuracy;
            }

            public static double ScoreAfterFineTuning(Net model, float[] x, int[] y, Dataset other)
            {
                model.TrainStep(x, y, 8);                        // different data than the one scored, neutral name
                return Trainer.Evaluate(model, other).Accuracy;
            }
        }
        """);

    [Fact]
    public Task KLN0113_near_misses() => Verify.NoDiagnosticsAsync<TrainingOnHeldOutDataAnalyzer>(Net + """
        public sealed class FactAttribute : Attribute { }

        public static class Training
        {
            public static void Run(Net model, DataSplit split, float[] xTrain, int[] yTrain, float[] latest, float[] contest, int[] labels, float[] trainVal, float[] outputs, float[] xTest)
            {
                model.TrainStep(xTrain, yTrain, 8);
                Trainer.Fit(model, split.Train, split.Test, 1, 8);     // test data as the validation set: eval mode
                model.TrainStep(latest, labels, 8);                    // "latest" is not "test"
                model.TrainStep(contest, labels, 8);
                model.TrainStep(trainVal, labels, 8);                  // train+val after model selection
                model.Predict(xTest, outputs, 8);                      // inference on test data is what it is for
                var validationSplit = split.Train.Split(0.8, 1);
                model.TrainStep(validationSplit.Train.Features, labels, 8); // the nearest name decides: Train
            }

            public static double EvaluateTrial(Dataset train, Dataset val)
            {
                var trial = new Net();                                 // created here: a hyper-parameter trial
                Trainer.Fit(trial, train, val, 1, 8);
                return Trainer.Evaluate(trial, val).Accuracy;
            }

            public static void ValidateGradients(Net model, float[] x, int[] y) => model.ComputeGradients(x, y, 8); // a gradient check

            [Fact]
            public static void TestTrainStepLowersTheLoss(Net model, float[] x, int[] y) => model.TrainStep(x, y, 8);
        }
        """);

    // ---------------------------------------------------------------- KLN0213

    [Fact]
    public Task KLN0213_inference_on_a_fresh_model() => Verify.AnalyzerAsync<InferenceWithoutTrainingAnalyzer>(Net + """
        public static class Inference
        {
            public static float[] Run(float[] x)
            {
                var model = new Net();
                var outputs = new float[16];
                model.LearningRate = 0.1f;
                [|model.Predict(x, outputs, 8)|];
                model.Predict(x, outputs, 8);   // reported once, on the first call
                return outputs;
            }

            public static double Score(Dataset test)
            {
                Net fresh = new Net();
                return [|Trainer.Evaluate(fresh, test)|].Accuracy;
            }
        }
        """);

    [Fact]
    public Task KLN0213_near_misses() => Verify.NoDiagnosticsAsync<InferenceWithoutTrainingAnalyzer>(Net + """
        public static class Inference
        {
            public static void Trained(Dataset train, float[] x, float[] outputs)
            {
                var model = new Net();
                Trainer.Fit(model, train, null, 1, 8);
                model.Predict(x, outputs, 8);
            }

            public static void InitialLossCheck(Dataset train)
            {
                var model = new Net();
                var before = model.Evaluate(train.Features, train.Labels, train.Count); // ln C check, then training
                model.TrainStep(train.Features.AsSpan(0, 32), train.Labels.AsSpan(0, 8), 8);
            }

            public static void Loaded(float[] x, float[] outputs)
            {
                var model = new Net();
                Load(model);
                model.Predict(x, outputs, 8);
            }

            public static void WeightsWritten(float[] x, float[] outputs)
            {
                var model = new Net();
                model.TensorData(model.Tensors[0]).Fill(0.5f);
                model.Predict(x, outputs, 8);
            }

            public static void Given(Net model, float[] x, float[] outputs) => model.Predict(x, outputs, 8);

            private static void Load(IKilnModel model) { }
        }
        """);

    // ---------------------------------------------------------------- KLN0121

    [Fact]
    public Task KLN0121_preprocessing_fitted_on_held_out_data() => Verify.AnalyzerAsync<PreprocessingLeakageAnalyzer>("""
        public sealed class MinMaxScaler
        {
            public MinMaxScaler Fit(float[] values) => this;
        }

        public static class Prep
        {
            public static void Run(DataSplit split, Dataset validation, float[] xTest, IKilnModel model)
            {
                var standardizer = [|new Standardizer().Fit(split.Test)|];
                Standardizer other = new();
                [|other.Fit(validation)|];
                [|new MinMaxScaler().Fit(xTest)|];
                // The code scores a model on these: with that, their held-out names break the tie (a name alone does not).
                var scores = new float[8];
                model.Predict(xTest, scores, 1);
                Trainer.Evaluate(model, validation);
            }
        }
        """, generate: false);

    [Fact]
    public Task KLN0121_model_input_statistics_fitted_on_held_out_data() => Verify.AnalyzerAsync<PreprocessingLeakageAnalyzer>("""
        [Model(Input = 4, Seed = 1, MaxBatch = 8, Normalize = InputNormalization.PerFeature)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Net;

        public static class Prep
        {
            public static void Run(Net model, IKilnModel any, DataSplit split, Dataset train)
            {
                [|model.FitInputNormalization(split.Test.Features, split.Test.Count)|];
                model.FitInputNormalization(train.Features, train.Count);  // the training split: right
                [|any.FitInputNormalization(split.Test.Features, 10)|];
            }
        }
        """);

    [Fact]
    public Task KLN0121_near_misses() => Verify.NoDiagnosticsAsync<PreprocessingLeakageAnalyzer>("""
        public sealed class Summary
        {
            public Summary Fit(float[] values) => this;
        }

        public static class Prep
        {
            public static void Run(DataSplit split, float[] xTest)
            {
                var standardizer = new Standardizer().Fit(split.Train);
                var test = standardizer.Transform(split.Test);        // transforming held-out data is right
                new Summary().Fit(xTest);                              // not a preprocessing type
            }
        }
        """, generate: false);

    // ---------------------------------------------------------------- KLN0119

    private const string Scheduled = """
        [Model(Input = 4, Seed = 1, MaxBatch = 8)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Momentum(0.1), StepDecay(Milestones = new[] { 30, 60, 90 })]
        public partial class Stepped;

        [Model(Input = 4, Seed = 1, MaxBatch = 8)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam, CosineDecay(Epochs = 100)]
        public partial class Cosine;

        """;

    [Fact]
    public Task KLN0119_schedule_and_run_length_disagree() => Verify.AnalyzerAsync<ScheduleLengthMismatchAnalyzer>(Scheduled + """
        public static class Runs
        {
            public static void Run(Dataset train)
            {
                [|Trainer.Fit(new Stepped(), train, null, 50, 8)|];
                [|Trainer.Fit(new Cosine(), train, null, new TrainerOptions { Epochs = 10, BatchSize = 8 })|];
                [|Trainer.Fit(new Cosine(), train, null)|];
                IKilnModel any = new Cosine();                                           // followed to its creation
                [|Trainer.Fit(any, train, null, 10, 8)|];
                var options = new TrainerOptions { Epochs = 10 };
                [|Trainer.Fit(new Stepped(), train, null, options with { Schedule = new Kiln.Schedules.StepDecay(0.1, new[] { 5, 20 }) })|];
            }
        }
        """);

    [Fact]
    public Task KLN0119_near_misses() => Verify.NoDiagnosticsAsync<ScheduleLengthMismatchAnalyzer>(Scheduled + """
        public static class Runs
        {
            private static IKilnModel Some() => Environment.TickCount > 0 ? new Cosine() : new Stepped();

            public static void Run(Dataset train, int epochs, Kiln.Schedules.LearningRateSchedule custom)
            {
                Trainer.Fit(new Stepped(), train, null, 100, 8);
                Trainer.Fit(new Cosine(), train, null, 100, 8);
                Trainer.Fit(new Cosine(), train, null, epochs, 8);                       // not a constant
                Trainer.Fit(Some(), train, null, 10, 8);                                 // which model is unknown
                Trainer.Fit(new Cosine(), train, null, new TrainerOptions { Epochs = 10, Schedule = custom });
            }
        }
        """);
    private const string WarmedUp = """
        [Model(Input = 4, Seed = 1, MaxBatch = 64)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam, Warmup(Steps = 2000)]
        public partial class Warm;

        [Model(Input = 4, Seed = 1, MaxBatch = 64)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam, Warmup]
        public partial class WarmByDefault;

        [Model(Input = 4, Seed = 1, MaxBatch = 64)]
        [Dense(8), ReLU, Dense(2), SoftmaxCrossEntropy]
        [Adam]
        public partial class Plain;

        """;

    [Fact]
    public Task KLN0119_warmup_longer_than_the_run() => Verify.AnalyzerAsync<ScheduleLengthMismatchAnalyzer>(WarmedUp + """
        public static class Runs
        {
            private const int Samples = 64;

            private static Dataset Make(int n) => new Dataset(new float[n * 4], new int[n], 4);

            public static void Run(System.Collections.Generic.List<float[]> rows)
            {
                // 100 samples, batch 32: 4 steps an epoch, 20 in all, against 2000 warm-up steps
                [|Trainer.Fit(new Warm(), new Dataset(new float[400], new int[100], 4), null, 5, 32)|];

                // a constant count through a helper and a local; options in a local: 2 × 4 = 8 steps against the default 500
                var data = Make(Samples);
                var options = new TrainerOptions { Epochs = 2, BatchSize = 16 };
                [|Trainer.Fit(new WarmByDefault(), data, null, options)|];

                // the options' own warm-up, a FromRows set of 50 labels: 3 × 5 = 15 steps against 1000 and 300
                Dataset small = Dataset.FromRows(rows, new int[50]);
                [|Trainer.Fit(new Plain(), small, null, new TrainerOptions { Epochs = 3, BatchSize = 10, Schedule = Kiln.Schedules.Warmup.Linear(1000) })|];
                [|Trainer.Fit(new Plain(), small, null, new TrainerOptions { Epochs = 3, BatchSize = 10, Schedule = new Kiln.Schedules.Warmup(300, new Kiln.Schedules.ConstantSchedule()) })|];
            }
        }
        """);

    [Fact]
    public Task KLN0119_warmup_near_misses() => Verify.NoDiagnosticsAsync<ScheduleLengthMismatchAnalyzer>(WarmedUp + """
        public static class Runs
        {
            public static void Run(Dataset loaded, int batch, int[] labels, float[] features)
            {
                Trainer.Fit(new Warm(), loaded, null, 5, 32);                                  // size unknown: steps per epoch unknown
                Trainer.Fit(new Warm(), new Dataset(new float[400], new int[100], 4), null, 5, batch); // batch size unknown
                Trainer.Fit(new Warm(), new Dataset(features, labels, 4), null, 5, 32);        // labels from outside
                // 10 000 samples, batch 32: 313 steps an epoch, 3130 in 10 epochs, more than 2000
                Trainer.Fit(new Warm(), new Dataset(new float[40000], new int[10000], 4), null, 10, 32);
                // exactly as long as the run is fine: 2 epochs × 250 steps = 500
                Trainer.Fit(new WarmByDefault(), new Dataset(new float[2000], new int[500], 4), null, new TrainerOptions { Epochs = 2, BatchSize = 2 });
                Trainer.Fit(new Plain(), new Dataset(new float[400], new int[100], 4), null, new TrainerOptions { Epochs = 3, BatchSize = 10, Schedule = Kiln.Schedules.Warmup.Linear(30) });
            }
        }
        """);
}
