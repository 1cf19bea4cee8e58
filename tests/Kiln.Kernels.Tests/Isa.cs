using System;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Kiln.Kernels;

namespace Kiln.Kernels.Tests;

/// <summary>Runs a generic test body on each ISA path: every kernel is checked on all three.</summary>
internal static class Isa
{
    public static TheoryData<IsaPath> Paths => new() { IsaPath.Avx512, IsaPath.Avx2, IsaPath.Portable };

    public static Type Marker(IsaPath path)
    {
        // Forcing a path the CPU lacks would silently test something else (or fault): this suite
        // requires a machine that runs all three, and says so instead of skipping.
        Assert.True(KilnIsa.IsSupported(path), $"This machine cannot run the {path} path (best: {KilnIsa.Best}); the kernel tests need all three.");
        return path switch
        {
            IsaPath.Avx512 => typeof(Avx512Path),
            IsaPath.Avx2 => typeof(Avx2Path),
            _ => typeof(PortablePath),
        };
    }

    /// <summary>Calls the generic method <paramref name="method"/> of <paramref name="target"/> with the given type arguments.</summary>
    public static void Invoke(object target, string method, Type[] typeArguments, params object?[] args)
    {
        MethodInfo generic = target.GetType().GetMethod(method, BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
            ?? throw new MissingMethodException(target.GetType().Name, method);
        MethodInfo closed = generic.MakeGenericMethod(typeArguments);
        try
        {
            closed.Invoke(closed.IsStatic ? null : target, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        }
    }

    public static void Invoke(object target, string method, IsaPath path, params object?[] args) =>
        Invoke(target, method, new[] { Marker(path) }, args);
}
