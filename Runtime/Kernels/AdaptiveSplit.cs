using System;
using System.Diagnostics;
using System.Threading;

namespace Kiln.Kernels;

/// <summary>
/// Splits the units of one parallel stage (pixels, tiles) across its parts in proportion to how fast each part ran on
/// earlier calls, so that a thread whose core is slower for a while — on a virtual machine, another tenant on the same
/// physical core, or the other half of a cross-die pair — gets less of the work instead of holding up the stage.
/// </summary>
/// <remarks>
/// <para>Meant for small-batch inference stages (5–30 µs each), where an even split waits for the slowest thread and the
/// data moved by a shifted boundary is a few cache lines. On the 2-vCPU machine this was built on, a batch-1 Predict of
/// the benchmark CNN had one phase in which the worker's half of a stage took 2.2× as long as the caller's (29 against
/// 13 µs) while the FMA rate of each core alone was unchanged.</para>
/// <para>Protocol: every part calls <see cref="Range"/> (which also starts its clock) and <see cref="Finish"/> when done;
/// the caller calls <see cref="Learn"/> after the stage. Range only reads the shares, and each part writes only its own
/// slot (on its own cache lines), so parts never contend. Learn moves each share a quarter of the way towards the split
/// that would have made the last call's parts finish together (units per tick measured per part), keeping every share
/// at least <see cref="MinShare"/> (a fifth of an even share) so a part that was slow for a while can show it has recovered.</para>
/// </remarks>
public sealed class AdaptiveSplit
{
    /// <summary>How far each Learn moves the shares towards the measured balance.</summary>
    public const double Rate = 0.25;

    // Per part: [0] round of the last Range, [1] units, [2] start ticks, [3] elapsed ticks; 16 longs (128 bytes) apart.
    private const int Stride = 16;
    private readonly long[] _slots;
    // The shares without their floor: share = MinShare + (1 − Parts·MinShare)·weight, the weights adding up to 1.
    private readonly double[] _weights;
    private long _round = 1;

    /// <summary>A split for stages of <paramref name="parts"/> parts (the worker pool's parallelism), initially even.</summary>
    public AdaptiveSplit(int parts)
    {
        if (parts < 1) throw new ArgumentOutOfRangeException(nameof(parts), parts, "A split needs at least one part.");
        Parts = parts;
        MinShare = 0.2 / parts;
        _weights = new double[parts];
        Array.Fill(_weights, 1.0 / parts);
        _slots = new long[(parts + 1) * Stride];
    }

    /// <summary>The parts the shares are kept for.</summary>
    public int Parts { get; }

    /// <summary>Smallest share a part keeps: a fifth of an even share (0.1 of the units for two parts).</summary>
    public double MinShare { get; }

    /// <summary>The current share of part <paramref name="part"/> (they add up to 1).</summary>
    public double Share(int part) => MinShare + (1 - Parts * MinShare) * _weights[part];

    /// <summary>
    /// Units [Start, End) of <paramref name="total"/> for part <paramref name="part"/> of <paramref name="parts"/>, by the
    /// current shares (an even split when <paramref name="parts"/> is not <see cref="Parts"/>), and starts that part's clock.
    /// The parts' ranges tile [0, total) without overlap, and every boundary inside is a multiple of
    /// <paramref name="granule"/> (a pool row, say, whose partial products must not be cut).
    /// </summary>
    public (int Start, int End) Range(int total, int part, int parts, int granule = 1)
    {
        if (total < 0) throw new ArgumentOutOfRangeException(nameof(total), total, "The unit count must not be negative.");
        if (part < 0 || part >= parts) throw new ArgumentOutOfRangeException(nameof(part), part, $"Part must be within [0, {parts}).");
        if (granule < 1) throw new ArgumentOutOfRangeException(nameof(granule), granule, "The granule must be at least 1.");
        int start, end, grains = (total + granule - 1) / granule;
        if (parts != Parts)
            (start, end) = ((int)((long)grains * part / parts), (int)((long)grains * (part + 1) / parts));
        else
            (start, end) = (Boundary(grains, part), Boundary(grains, part + 1));
        start = Math.Min(total, start * granule);
        end = Math.Min(total, end * granule);
        if (parts == Parts)
        {
            int slot = (part + 1) * Stride;
            _slots[slot] = Volatile.Read(ref _round);
            _slots[slot + 1] = end - start;
            _slots[slot + 3] = 0;
            _slots[slot + 2] = Stopwatch.GetTimestamp();
        }
        return (start, end);
    }

    /// <summary>Stops part <paramref name="part"/>'s clock (after its units are done).</summary>
    public void Finish(int part)
    {
        if ((uint)part >= (uint)Parts) return;
        int slot = (part + 1) * Stride;
        _slots[slot + 3] = Math.Max(1, Stopwatch.GetTimestamp() - _slots[slot + 2]);
    }

    /// <summary>
    /// After a stage (on the calling thread, once every part has finished): moves the shares towards the balance the
    /// stage's timings call for. Does nothing unless every part measured at least one unit this round.
    /// </summary>
    public void Learn()
    {
        long round = _round;
        _round = round + 1;
        if (Parts == 1) return;
        Span<double> speed = stackalloc double[Parts];
        double sum = 0;
        for (int p = 0; p < Parts; p++)
        {
            int slot = (p + 1) * Stride;
            if (_slots[slot] != round || _slots[slot + 1] <= 0 || _slots[slot + 3] <= 0) return;
            speed[p] = (double)_slots[slot + 1] / _slots[slot + 3];
            sum += speed[p];
        }
        Adjust(speed, sum);
    }

    /// <summary>Test hook: records a part's units and elapsed ticks for the current round, as Range and Finish would.</summary>
    internal void Record(int part, long units, long elapsedTicks)
    {
        int slot = (part + 1) * Stride;
        _slots[slot] = _round;
        _slots[slot + 1] = units;
        _slots[slot + 3] = elapsedTicks;
    }

    private void Adjust(ReadOnlySpan<double> speed, double sum)
    {
        // The split that would have balanced the last call, as weights above the floor (clamped at 0), then a step of Rate.
        double room = 1 - Parts * MinShare, total = 0;
        Span<double> target = stackalloc double[Parts];
        for (int p = 0; p < Parts; p++)
        {
            target[p] = Math.Max(0, (speed[p] / sum - MinShare) / room);
            total += target[p];
        }
        for (int p = 0; p < Parts; p++)
            _weights[p] = (1 - Rate) * _weights[p] + Rate * (total > 0 ? target[p] / total : 1.0 / Parts);
    }

    /// <summary>The first unit of part <paramref name="part"/>: total times the shares of the parts before it, rounded.</summary>
    private int Boundary(int total, int part)
    {
        if (part <= 0) return 0;
        if (part >= Parts) return total;
        double before = 0;
        for (int p = 0; p < part; p++) before += Share(p);
        return Math.Clamp((int)Math.Round(total * before, MidpointRounding.AwayFromZero), 0, total);
    }
}
