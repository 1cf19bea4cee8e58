using Kiln;
using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Training;
using KilnCnn;

// Usage: dotnet run -c Release [-- --epochs N]   (a Debug build runs unoptimised code and says so)
int epochs = args.Length >= 2 && args[0] == "--epochs" ? int.Parse(args[1]) : 30;

// 1. Data. The 1,797 8×8 digits ship inside Kiln; keep a test split that training never sees, and hold out part of
//    the training split as validation data for choosing epochs and learning rates.
DataSplit split = EmbeddedData.DigitsSplit(trainFraction: 0.8, seed: 0);
DataSplit holdout = split.Train.ValidationSplit(0.15, seed: 1);
Dataset train = holdout.Train, validation = holdout.Test, test = split.Test;
#if (IncludeFashionMnist)
if (args.Contains("--fashion"))
{
    FashionData.TrainAndSave(epochs: 3);
    return;
}
#endif

// 2. Model and training. The input normalisation is fitted on the training data only and saved with the model.
var model = new DigitsCnn();
model.FitInputNormalization(train.Features, train.Count);
RunSummary run = Trainer.Fit(model, train, validation, epochs, batchSize: 32);
Console.WriteLine($"{epochs} epochs: validation accuracy {run.FinalValidationAccuracy:P2}, {run.SamplesPerSecond:N0} samples/s");

EvaluationResult result = Trainer.Evaluate(model, test);
Console.WriteLine($"Test accuracy: {result.Accuracy:P2} ({result.Count} images)");

// 3. Save a checkpoint (weights, normalisation, optimiser state) and load it into a fresh model.
string path = Path.Combine(AppContext.BaseDirectory, "digits-cnn.safetensors");
Checkpoint.Save(model, path);
var restored = new DigitsCnn();
Checkpoint.Load(restored, path);
Console.WriteLine($"Saved and reloaded {path}");

// 4. Predict one image: class probabilities from the reloaded model (inference mode).
var probabilities = new float[10];
restored.Predict(test.Row(0), probabilities, batch: 1);
int predicted = Array.IndexOf(probabilities, probabilities.Max());
Console.WriteLine($"First test image: predicted {predicted} (p = {probabilities[predicted]:F3}), label {test.Labels[0]}");
