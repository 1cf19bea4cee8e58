using Kiln.Checkpoints;
using Kiln.Data;
using Kiln.Training;

namespace KilnMlp;

/// <summary>Trains <see cref="FashionMlp"/> on Fashion-MNIST (IDX files, e.g. from Debian's dataset-fashion-mnist).</summary>
public static class FashionData
{
    /// <summary>Directory with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz] and the t10k-* files.</summary>
    public static string Directory =>
        Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") ?? Idx.DefaultFashionMnistDirectory;

    /// <summary>Loads the data set, trains for <paramref name="epochs"/> epochs, reports test accuracy and saves a checkpoint.</summary>
    public static void TrainAndSave(int epochs)
    {
        DataSplit split = Idx.LoadFashionMnist(Directory);                     // 60,000 train, 10,000 test, pixels scaled to [0, 1]
        DataSplit holdout = split.Train.ValidationSplit(0.1, seed: 1);
        var model = new FashionMlp();
        model.FitInputNormalization(holdout.Train.Features, holdout.Train.Count);
        RunSummary run = Trainer.Fit(model, holdout.Train, holdout.Test, epochs, batchSize: 256);
        Console.WriteLine($"Fashion-MNIST, {epochs} epochs: validation accuracy {run.FinalValidationAccuracy:P2}");
        Console.WriteLine($"Test accuracy: {Trainer.Evaluate(model, split.Test).Accuracy:P2}");
        Checkpoint.Save(model, Path.Combine(AppContext.BaseDirectory, "fashion-mlp.safetensors"));
    }
}
