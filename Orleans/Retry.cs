using System;
using System.Threading;
using System.Threading.Tasks;
using Orleans.Runtime;

namespace Kiln.Orleans;

/// <summary>
/// Grain calls that ride out a silo's death: while the cluster has not yet declared a dead silo dead, calls to grains it
/// held fail or time out; they succeed again once the grains re-activate elsewhere (from storage). Errors the grains
/// throw on purpose (bad arguments) are not retried.
/// </summary>
internal static class Retry
{
    /// <summary>How long calls are retried before the error is passed on.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(200);

    public static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellation)
    {
        DateTime giveUp = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception e) when (IsTransient(e) && DateTime.UtcNow < giveUp && !cancellation.IsCancellationRequested)
            {
                await Task.Delay(Pause, cancellation).ConfigureAwait(false);
            }
        }
    }

    public static Task CallAsync(Func<Task> call, CancellationToken cancellation) =>
        CallAsync(async () => { await call().ConfigureAwait(false); return true; }, cancellation);

    /// <summary>Blocks the calling thread (a trial thread or the scheduler's caller, never a grain) on <see cref="CallAsync{T}"/>.</summary>
    public static T Call<T>(Func<Task<T>> call, CancellationToken cancellation) => CallAsync(call, cancellation).GetAwaiter().GetResult();

    /// <summary>Blocks on a call with no result.</summary>
    public static void Call(Func<Task> call, CancellationToken cancellation) => CallAsync(call, cancellation).GetAwaiter().GetResult();

    /// <summary>Failures of the cluster rather than of the call: a silo gone, a message lost or refused, a time-out.</summary>
    public static bool IsTransient(Exception e) => e is OrleansException or TimeoutException or System.Net.Sockets.SocketException or System.IO.IOException;
}
