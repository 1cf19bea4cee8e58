using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Kiln.Kernels;

/// <summary>
/// A residual join y = shortcut + branchScale·branch (branchScale &lt; 1 damps deep stacks at
/// initialisation). The shortcut's gradient is dy itself, the branch's is branchScale·dy.
/// </summary>
public static class Residual
{
    /// <summary>y[i] = shortcut[i] + branchScale·branch[i] for i in [start, end). y may alias either input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add<TIsa>(ReadOnlySpan<float> shortcut, ReadOnlySpan<float> branch, float branchScale, Span<float> y, int start, int end)
        where TIsa : struct, ISimdPath
    {
        Checks.Range(start, end, shortcut.Length, nameof(start), nameof(end));
        Checks.Length(branch.Length, end, nameof(branch));
        Checks.Length(y.Length, end, nameof(y));
        ref float ps = ref Unsafe.Add(ref MemoryMarshal.GetReference(shortcut), start);
        ref float pb = ref Unsafe.Add(ref MemoryMarshal.GetReference(branch), start);
        ref float py = ref Unsafe.Add(ref MemoryMarshal.GetReference(y), start);
        int n = end - start, i;
        var run = new AddRun { Shortcut = ref ps, Branch = ref pb, Scale = branchScale, Y = ref py, N = n };
        i = VectorPath.Run<TIsa, AddRun>(ref run);
        for (; i < n; i++) Unsafe.Add(ref py, i) = MathF.FusedMultiplyAdd(branchScale, Unsafe.Add(ref pb, i), Unsafe.Add(ref ps, i));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Add<TO, TV>(ref float shortcut, ref float branch, float scale, ref float y, int n) where TO : struct, IVectorOps<TV> where TV : struct
    {
        int w = TO.Count, i = 0;
        TV a = TO.Splat(scale);
        for (; i + w <= n; i += w) TO.Store(TO.Fma(a, TO.Load(ref branch, i), TO.Load(ref shortcut, i)), ref y, i);
        return i;
    }

    /// <summary>dbranch[i] = branchScale·dy[i] for i in [start, end) (dshortcut is dy itself). dbranch may alias dy.</summary>
    public static void ScaleGradient<TIsa>(ReadOnlySpan<float> dy, float branchScale, Span<float> dbranch, int start, int end)
        where TIsa : struct, ISimdPath
    {
        Checks.Range(start, end, dy.Length, nameof(start), nameof(end));
        Checks.Length(dbranch.Length, end, nameof(dbranch));
        Elementwise.Scale<TIsa>(dy[start..end], branchScale, dbranch[start..end]);
    }

    /// <summary>Add's arguments, run at the width <see cref="VectorPath"/> maps the path to.</summary>
    private ref struct AddRun : IVectorKernel
    {
        public ref float Shortcut;
        public ref float Branch;
        public float Scale;
        public ref float Y;
        public int N;

        int IVectorKernel.Run<TO, TV>() => Add<TO, TV>(ref Shortcut, ref Branch, Scale, ref Y, N);
    }
}
