using System;

namespace Kiln;

// Learning-rate schedules (docs/techniques.md#schedules). A model declares at most one decay schedule, optionally
// combined with [Warmup] and/or [ReduceOnPlateau]; the factors multiply. The trainer sets
// model.LearningRate = base × factor before every step and logs it.

/// <summary>Base of every schedule attribute.</summary>
public abstract class ScheduleAttribute : Attribute { }

/// <summary>A constant learning rate (the default when no schedule is declared).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConstantScheduleAttribute : ScheduleAttribute { }

/// <summary>
/// Step decay: multiply by <see cref="Factor"/> every <see cref="Every"/> epochs, or at each epoch
/// listed in <see cref="Milestones"/> (multi-step, e.g. ResNet's 30, 60, 90).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class StepDecayAttribute : ScheduleAttribute
{
    /// <summary>Multiplier applied at each decay point (default 0.1).</summary>
    public double Factor { get; set; } = 0.1;
    /// <summary>Decay every this many epochs (0: use <see cref="Milestones"/> instead).</summary>
    public int Every { get; set; }
    /// <summary>Epochs at which to decay (multi-step decay), instead of <see cref="Every"/>.</summary>
    public int[]? Milestones { get; set; }
}

/// <summary>Cosine: α_t = α0·(m + (1 − m)·½(1 + cos(πt/T))), m = MinFactor; T in steps or epochs (one of them).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class CosineDecayAttribute : ScheduleAttribute
{
    /// <summary>Length T of the decay in steps (set this or <see cref="Epochs"/>).</summary>
    public int Steps { get; set; }
    /// <summary>Length T of the decay in epochs (set this or <see cref="Steps"/>).</summary>
    public int Epochs { get; set; }
    /// <summary>Floor m of the factor, as a fraction of the base rate (default 0).</summary>
    public double MinFactor { get; set; }
}

/// <summary>Linear: α_t = α0·(1 − t/T), floored at MinFactor; T in steps or epochs.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LinearDecayAttribute : ScheduleAttribute
{
    /// <summary>Length T of the decay in steps (set this or <see cref="Epochs"/>).</summary>
    public int Steps { get; set; }
    /// <summary>Length T of the decay in epochs (set this or <see cref="Steps"/>).</summary>
    public int Epochs { get; set; }
    /// <summary>Floor of the factor, as a fraction of the base rate (default 0).</summary>
    public double MinFactor { get; set; }
}

/// <summary>Inverse square root: α_t = α0/sqrt(max(t, 1)), t the step number.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InverseSqrtDecayAttribute : ScheduleAttribute { }

/// <summary>SGDR warm restarts (Loshchilov &amp; Hutter): cosine from α0 within each period; the first period is <see cref="Epochs"/> long and each next one <see cref="Multiplier"/> times longer.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class WarmRestartsAttribute : ScheduleAttribute
{
    /// <summary>Length of the first period in epochs (default 10).</summary>
    public int Epochs { get; set; } = 10;
    /// <summary>Each period is this many times longer than the one before (default 2).</summary>
    public double Multiplier { get; set; } = 2;
    /// <summary>Floor of the factor at the end of each period (default 0).</summary>
    public double MinFactor { get; set; }
}

/// <summary>Linear warm-up from 0 to the scheduled rate over the first <see cref="Steps"/> steps (prevents early loss explosions).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class WarmupAttribute : ScheduleAttribute
{
    /// <summary>Number of warm-up steps (default 500).</summary>
    public int Steps { get; set; } = 500;
}

/// <summary>Multiply the rate by <see cref="Factor"/> when the validation loss has not improved by <see cref="Threshold"/> (relative) for <see cref="Patience"/> epochs.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReduceOnPlateauAttribute : ScheduleAttribute
{
    /// <summary>Multiplier applied on each plateau (default 0.1).</summary>
    public double Factor { get; set; } = 0.1;
    /// <summary>Epochs without improvement before the rate is reduced (default 10).</summary>
    public int Patience { get; set; } = 10;
    /// <summary>Relative improvement of the validation loss that counts as progress (default 1e-4).</summary>
    public double Threshold { get; set; } = 1e-4;
    /// <summary>The factor never falls below this (default 0).</summary>
    public double MinFactor { get; set; }
}
