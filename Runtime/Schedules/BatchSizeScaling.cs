using System;

namespace Kiln.Schedules;

/// <summary>
/// The batch-size rule of thumb (docs/techniques.md#schedules): scale the initial learning rate with the batch size,
/// N× batch → N× learning rate (linear scaling). Large scaled rates are usually combined with a
/// linear <see cref="Warmup"/>.
/// </summary>
public static class BatchSizeScaling
{
    /// <summary>The learning rate for <paramref name="batch"/> given one tuned at <paramref name="baseBatch"/>: base × batch / baseBatch.</summary>
    /// <param name="baseLearningRate">Rate tuned at <paramref name="baseBatch"/> (positive, finite).</param>
    /// <param name="baseBatch">Batch size the rate was tuned at (&gt; 0).</param>
    /// <param name="batch">Batch size to train with (&gt; 0).</param>
    public static double Scale(double baseLearningRate, int baseBatch, int batch)
    {
        if (!(baseLearningRate > 0 && double.IsFinite(baseLearningRate)))
            throw new ArgumentOutOfRangeException(nameof(baseLearningRate), baseLearningRate,
                $"The base learning rate must be positive and finite (got {ScheduleChecks.Format(baseLearningRate)}).");
        if (baseBatch <= 0)
            throw new ArgumentOutOfRangeException(nameof(baseBatch), baseBatch, $"The base batch size must be positive (got {baseBatch}).");
        if (batch <= 0)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"The batch size must be positive (got {batch}).");
        return baseLearningRate * batch / baseBatch;
    }
}
