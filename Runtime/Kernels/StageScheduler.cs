using System;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Kiln.Kernels;

/// <summary>
/// Decides, per parallel stage of one model, whether the stage runs on all the pool's threads ("wide") or on the calling
/// thread alone ("narrow"), by timing both online: two threads must never be slower than one (docs/threads.md).
/// </summary>
/// <remarks>
/// <para>Every call of a stage is timed (two timestamps) and feeds an estimate of its time per unit of work on the arm it
/// ran: the arm in use is measured on every call for free. The other arm is measured in an <em>exploration batch</em>,
/// in which every stage runs on the arm it is not using; the next exploration comes once the stages have run for
/// <see cref="ExploreBudget"/>⁻¹ times what the last one cost (its time beyond the arms in use), at least
/// <see cref="MinExploreInterval"/> batches and at most <see cref="MaxExploreTicks"/> of stage time later, so exploring
/// costs about 2% where the arms differ much and happens often where they are close. A stage switches to narrow when its
/// wide estimate exceeds the narrow one by <see cref="ToNarrow"/> and back to wide when it falls below it by
/// <see cref="ToWide"/> (hysteresis: a stage does not flap between arms that are equally fast); a narrow stage goes wide
/// only after a wide sample, never because a narrow call was slow against an older wide estimate.</para>
/// <para>Estimates are exponentially weighted means of time per work unit (<see cref="Rate"/> for the arm in use,
/// <see cref="ExploreRate"/> for an exploration sample, which is rarer and must carry a phase change quickly); a sample
/// is first clipped at <see cref="SpikeClip"/> times the estimate so that one descheduled call (a few ms on a loaded
/// machine) does not flip a decision alone. An exploration sample that needed an OS wake-up of a sleeping worker
/// measures the wake-up, not the stage, and is dropped (the exploration batch first wakes sleeping workers and waits, up
/// to <see cref="NudgeWait"/>, until they poll); so is a stage's first call, which measures the JIT compiling it.</para>
/// <para>An inference batch (<see cref="BeginInferenceBatch"/> … <see cref="EndBatch"/>) decides <em>jointly</em>: all its
/// parallel stages run on one arm, kept per batch size (exactly up to <see cref="JointExactRows"/> rows, by powers of two
/// above), and the sample is the whole batch's time from its first parallel stage to its end. A batch-1 Predict is a chain
/// of stages of 5–20 µs each that hand their outputs to one another, so a stage's time on two threads depends on where the
/// stage before it ran (its output is in one core's cache or split over both): per-stage decisions locked into a mix — one
/// convolution on two threads, the next on one — whose explorations, flipping every stage, measured only the opposite mix.
/// A joint exploration runs two batches on the other arm and counts only the second: the first moves the data and wakes
/// the worker, which a switch would pay once, not on every call (docs/threads.md).</para>
/// <para>Which arm a stage runs on never changes its results: every stage gives the same bits on any number of parts
/// (docs/architecture.md, "Reductions"), so the decisions are free to follow the machine.</para>
/// <para>Not thread-safe: a model runs one batch operation at a time (its same-instance guard), and the scheduler is the model's.</para>
/// </remarks>
internal sealed class StageScheduler
{
    /// <summary>The environment variable that turns the adaptation off (0): every stage then runs wide, as before it existed.</summary>
    public const string AdaptEnvironmentVariable = "KILN_POOL_ADAPT";

    /// <summary>The environment variable that prints each decision change and, every few seconds, a per-stage table on standard error (1).</summary>
    public const string TraceEnvironmentVariable = "KILN_POOL_TRACE";

    /// <summary>Wide estimate above narrow × (1 + ToNarrow): the stage moves to one thread.</summary>
    public const double ToNarrow = 0.03;

    /// <summary>Wide estimate below narrow × (1 − ToWide): the stage moves back to every thread.</summary>
    public const double ToWide = 0.08;

    /// <summary>Weight of a sample of the arm in use.</summary>
    public const double Rate = 0.25;

    /// <summary>Weight of an exploration sample.</summary>
    public const double ExploreRate = 0.5;

    /// <summary>A sample is clipped at this multiple of the estimate before it is averaged in.</summary>
    public const double SpikeClip = 3.0;

    /// <summary>The share of stage time exploration may cost.</summary>
    public const double ExploreBudget = 0.02;

    /// <summary>The first exploration comes at this batch: by then a stage's code has been called ~30 times, the JIT's
    /// threshold for its final tier, so the first decision is not made on tier-0 code.</summary>
    public const int FirstExploreBatch = 32;

    /// <summary>Batches between two explorations, at least.</summary>
    public const int MinExploreInterval = 8;

    /// <summary>Stage time between two explorations, at most: 2 s.</summary>
    public static readonly long MaxExploreTicks = 2 * Stopwatch.Frequency;

    /// <summary>How long an exploration batch waits for sleeping workers to wake up before its first stage: 200 µs.</summary>
    public static readonly TimeSpan NudgeWait = TimeSpan.FromMicroseconds(200);

    /// <summary>Inference batches of up to this many rows each have their own joint arm; larger ones share one per power of two.</summary>
    public const int JointExactRows = 16;

    private const int JointKeys = JointExactRows + 1 + 32;

    /// <summary>Stage time between two trace tables: 5 s.</summary>
    private static readonly long TraceInterval = 5 * Stopwatch.Frequency;

    private readonly WorkerPool _pool;
    private readonly Func<long> _clock;
    private readonly bool _adapt;
    private readonly string? _traceName;
    private Stage[] _stages = new Stage[16];
    private readonly Stage[] _joints = new Stage[JointKeys];
    private readonly Explorer[] _jointExplorers = new Explorer[JointKeys];
    private Explorer _explorer; // the per-stage (training) batches'

    private long _batches;
    private bool _exploring;   // the current batch runs the arms not in use
    private bool _measuring;   // its samples count (false in a joint exploration's first batch)
    private int _joint = -1;   // the current batch's joint key; -1: per-stage decisions
    private int _jointRuns;    // parallel stages of the current joint batch so far
    private long _jointStart, _jointWork;
    private bool _jointVoid;   // a wide run of the current joint batch measured nothing about the wide arm
    private long _nextTraceTicks = TraceInterval;
    private long _ticks;

    /// <summary>When the batches of one decision (the per-stage ones, or one joint key's) explore next.</summary>
    private struct Explorer
    {
        public long Batches, LastExplore, TicksSince, Cost;
        public bool WarmingUp; // the last batch began a joint exploration: this one measures it
    }

    /// <summary>Per stage: the two arms' estimates (ticks per work unit; NaN until measured) and the current choice.</summary>
    internal struct Stage
    {
        public double Wide, Narrow;
        public bool UseNarrow, Seen;
        public long WideSamples, NarrowSamples, Switches, Dropped;
        public long Work;
    }

    /// <summary>A scheduler for the stages a model runs on <paramref name="pool"/>.</summary>
    /// <param name="pool">The pool the wide arm runs on.</param>
    /// <param name="clock">Timestamps in <see cref="Stopwatch"/> ticks (tests pass a fake clock); null: <see cref="Stopwatch.GetTimestamp"/>.</param>
    /// <param name="adapt">False: every stage always runs wide.</param>
    /// <param name="traceName">When not null, decision changes and a periodic per-stage table go to standard error under this name.</param>
    internal StageScheduler(WorkerPool pool, Func<long>? clock = null, bool adapt = true, string? traceName = null)
    {
        _pool = pool;
        _clock = clock ?? Stopwatch.GetTimestamp;
        _adapt = adapt && pool.Parallelism > 1;
        _traceName = traceName;
    }

    /// <summary>A scheduler configured from the environment: <see cref="AdaptEnvironmentVariable"/> and <see cref="TraceEnvironmentVariable"/>.</summary>
    internal static StageScheduler FromEnvironment(WorkerPool pool, string modelName) => new(pool, clock: null,
        adapt: Environment.GetEnvironmentVariable(AdaptEnvironmentVariable)?.Trim() != "0",
        traceName: Environment.GetEnvironmentVariable(TraceEnvironmentVariable)?.Trim() is "1" or "true" ? modelName : null);

    /// <summary>Test hook: when set, decides each call's arm instead of the policy (true: narrow); arguments are the stage and the batch number.</summary>
    internal Func<int, long, bool>? Override { get; set; }

    /// <summary>Whether the current batch explores (every stage runs on the arm it is not using).</summary>
    internal bool Exploring => _exploring;

    /// <summary>Batches begun so far.</summary>
    internal long Batches => _batches;

    /// <summary>The state of stage <paramref name="stage"/> (default when it never ran).</summary>
    internal Stage StateOf(int stage) => stage < _stages.Length ? _stages[stage] : default;

    /// <summary>Whether stage <paramref name="stage"/> currently runs on one thread (in training batches).</summary>
    internal bool IsNarrow(int stage) => StateOf(stage).UseNarrow;

    /// <summary>The joint state of inference batches of <paramref name="rows"/> rows (its Work: the last batch's).</summary>
    internal Stage JointStateOf(int rows) => _joints[JointKey(rows)];

    /// <summary>Whether inference batches of <paramref name="rows"/> rows currently run every stage on one thread.</summary>
    internal bool IsJointNarrow(int rows) => JointStateOf(rows).UseNarrow;

    /// <summary>The joint key of an inference batch of <paramref name="rows"/> rows: the rows up to <see cref="JointExactRows"/>, then one per power of two.</summary>
    internal static int JointKey(int rows) =>
        rows <= JointExactRows ? Math.Max(rows, 0) : JointExactRows + 1 + (System.Numerics.BitOperations.Log2((uint)rows) - System.Numerics.BitOperations.Log2(JointExactRows));

    /// <summary>Starts a training batch: each stage runs on its own arm; decides whether the batch explores.</summary>
    internal void BeginBatch() => Begin(-1);

    /// <summary>
    /// Starts an inference batch of <paramref name="rows"/> rows: all its stages run on the joint arm of that batch size,
    /// measured as a whole until <see cref="EndBatch"/>.
    /// </summary>
    internal void BeginInferenceBatch(int rows) => Begin(JointKey(rows));

    private void Begin(int joint)
    {
        _batches++;
        _exploring = false;
        _measuring = true;
        _joint = joint;
        _jointRuns = 0;
        _jointWork = 0;
        _jointVoid = false;
        if (!_adapt) return;
        ref Explorer e = ref joint < 0 ? ref _explorer : ref _jointExplorers[joint];
        e.Batches++;
        if (e.WarmingUp)
        {
            // The second batch of a joint exploration: the same arm again, now measured.
            e.WarmingUp = false;
            _exploring = true;
            if (_joints[joint].UseNarrow) _pool.Nudge(NudgeWait);
            return;
        }
        if (e.Batches < FirstExploreBatch || e.Batches - e.LastExplore < MinExploreInterval) return;
        if (e.TicksSince < MaxExploreTicks && e.TicksSince * ExploreBudget < e.Cost) return;
        _exploring = true;
        e.LastExplore = e.Batches;
        e.TicksSince = 0;
        e.Cost = 0;
        if (joint >= 0)
        {
            e.WarmingUp = true;
            _measuring = false;
        }
        // Stages that run narrow will run wide: wake sleeping workers now (waiting up to NudgeWait, a few times less than
        // the budget allows), so that they are polling when the first such stage comes and its time is the stage's.
        bool anyNarrow = joint >= 0 && _joints[joint].UseNarrow;
        for (int i = 0; joint < 0 && i < _stages.Length; i++)
            if (_stages[i].UseNarrow) { anyNarrow = true; break; }
        if (anyNarrow) _pool.Nudge(NudgeWait);
    }

    /// <summary>Ends the batch operation's batch: an inference batch's joint arm learns from the batch's time.</summary>
    internal void EndBatch()
    {
        int joint = _joint;
        _joint = -1;
        if (joint < 0 || _jointRuns == 0) return;
        long ticks = _clock() - _jointStart;
        bool narrow = _joints[joint].UseNarrow ^ _exploring;
        Record(ref _joints[joint], ref _jointExplorers[joint], -1 - joint, narrow, _jointVoid, ticks, Math.Max(1, _jointWork));
    }

    /// <summary>Runs stage <paramref name="stage"/> of <paramref name="body"/> on the arm the policy picks and learns from its time.</summary>
    /// <param name="body">The stages.</param>
    /// <param name="stage">The stage to run.</param>
    /// <param name="work">The stage's work (any unit proportional to its time on one thread; at least 1).</param>
    internal void Execute(IParallelStages body, int stage, long work)
    {
        if (!_adapt && Override is null)
        {
            _pool.Run(body, stage);
            return;
        }
        bool joint = _joint >= 0 && Override is null;
        if (stage >= _stages.Length) Array.Resize(ref _stages, Math.Max(stage + 1, _stages.Length * 2));
        ref Stage s = ref _stages[stage];
        bool narrow = Override is { } decide ? decide(stage, _batches) : (joint ? _joints[_joint].UseNarrow : s.UseNarrow) ^ _exploring;
        long t0 = _clock();
        WorkerPool.RunKind kind = WorkerPool.RunKind.Inline;
        if (narrow) body.RunStage(stage, 0, 1);
        else kind = _pool.RunMeasured(body, stage);
        // A "wide" run that went inline (another caller owned the workers) measured nothing about the wide arm; an
        // exploration sample that waited for the OS to wake a worker measured the wake-up.
        bool voided = !narrow && (kind == WorkerPool.RunKind.Inline || (_exploring && Override is null && kind == WorkerPool.RunKind.SharedAfterWake));
        if (joint)
        {
            // Learned as a whole at EndBatch, from this stage's start on.
            if (_jointRuns++ == 0) _jointStart = t0;
            _jointWork += Math.Max(1, work);
            _jointVoid |= voided;
            return;
        }
        Record(ref s, ref _explorer, stage, narrow, voided, _clock() - t0, Math.Max(1, work));
    }

    /// <summary>Learns from one sample of stage (or joint key) <paramref name="index"/> (≥ 0: a stage; −1 − key: a joint key).</summary>
    private void Record(ref Stage s, ref Explorer e, int index, bool narrow, bool voided, long ticks, long work)
    {
        e.TicksSince += ticks;
        _ticks += ticks;
        s.Work = work;
        if (!s.Seen)
        {
            // A stage's first call compiles it (tens to hundreds of ms): that measures the JIT, not an arm.
            s.Seen = true;
            s.Dropped++;
            return;
        }
        bool explored = _exploring && Override is null;
        if (explored)
        {
            // What exploring cost beyond the arm in use, dropped samples and a joint exploration's first batch included.
            double other = narrow ? s.Wide : s.Narrow;
            if (!double.IsNaN(other) && other > 0 && (narrow ? s.WideSamples : s.NarrowSamples) > 0)
                e.Cost += Math.Max(0, ticks - (long)(other * work));
        }
        if (voided || !_measuring)
        {
            s.Dropped++;
            return;
        }
        double x = (double)ticks / work;
        ref double estimate = ref narrow ? ref s.Narrow : ref s.Wide;
        if (narrow) s.NarrowSamples++; else s.WideSamples++;
        bool first = (narrow ? s.NarrowSamples : s.WideSamples) == 1;
        double rate = explored ? ExploreRate : Rate;
        estimate = first ? x : estimate + rate * (Math.Min(x, SpikeClip * estimate) - estimate);
        Decide(ref s, index, wideSample: !narrow);
        if (_traceName is not null) TraceTable();
    }

    private static string Name(int index) => index >= 0
        ? string.Create(CultureInfo.InvariantCulture, $"stage {index}")
        : $"inference batches of {JointRows(-1 - index)}";

    private static string JointRows(int key) => key <= JointExactRows
        ? string.Create(CultureInfo.InvariantCulture, $"{key} row{(key == 1 ? "" : "s")}")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(JointExactRows + 1, 1L << (key - JointExactRows - 1 + 4))}–{(1L << (key - JointExactRows + 4)) - 1} rows");

    private void Decide(ref Stage s, int stage, bool wideSample)
    {
        if (s.WideSamples == 0 || s.NarrowSamples == 0 || Override is not null) return;
        // A narrow stage goes wide only on fresh evidence about the wide arm: a one-thread call that was slow (a loaded
        // moment) against a wide estimate from the last exploration would flip it only to flip back a call later.
        if (s.UseNarrow && !wideSample) return;
        bool narrow = s.UseNarrow
            ? !(s.Wide < s.Narrow * (1 - ToWide))
            : s.Wide > s.Narrow * (1 + ToNarrow);
        if (narrow == s.UseNarrow) return;
        s.UseNarrow = narrow;
        s.Switches++;
        if (_traceName is not null)
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kiln-pool: {_traceName} {Name(stage)}: {_pool.Parallelism} threads {Us(s.Wide, s.Work)} µs, 1 thread {Us(s.Narrow, s.Work)} µs → {(narrow ? "1 thread" : $"{_pool.Parallelism} threads")} (batch {_batches})"));
    }

    private static string Us(double ticksPerWork, long work) =>
        (ticksPerWork * work * 1e6 / Stopwatch.Frequency).ToString("F1", CultureInfo.InvariantCulture);

    private void TraceTable()
    {
        if (_ticks < _nextTraceTicks) return;
        _nextTraceTicks = _ticks + TraceInterval;
        Console.Error.Write(Describe());
    }

    /// <summary>A per-stage table of both arms' estimates and the pool's counters (KILN_POOL_TRACE).</summary>
    internal string Describe()
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"kiln-pool: {_traceName} after {_batches} batches; pool: {_pool.ParallelStages} shared stages, {_pool.ColdStages} woke a sleeping worker, {_pool.StolenParts} parts stolen, {_pool.CallerBlocks} caller blocks, caller waited {_pool.CallerWaitTicks * 1e3 / Stopwatch.Frequency:F1} ms\n");
        b.Append("kiln-pool:   stage  wide µs  narrow µs  speedup  arm    samples(w/n)  switches  dropped\n");
        for (int i = 0; i < _stages.Length; i++)
            if (_stages[i].Seen) AppendRow(b, i.ToString(CultureInfo.InvariantCulture), _stages[i]);
        for (int k = 0; k < _joints.Length; k++)
            if (_joints[k].Seen) AppendRow(b, $"inference, {JointRows(k)} (every stage)", _joints[k]);
        return b.ToString();
    }

    private void AppendRow(StringBuilder b, string name, Stage s)
    {
        double speedup = s.Wide > 0 && s.Narrow > 0 ? s.Narrow / s.Wide : double.NaN;
        b.Append(CultureInfo.InvariantCulture,
            $"kiln-pool:   {name,5}  {Us(s.Wide, s.Work),7}  {Us(s.Narrow, s.Work),9}  {speedup,7:F2}  {(s.UseNarrow ? "1" : _pool.Parallelism.ToString(CultureInfo.InvariantCulture)),3}    {s.WideSamples,6}/{s.NarrowSamples,-6}  {s.Switches,8}  {s.Dropped,7}\n");
    }
}
