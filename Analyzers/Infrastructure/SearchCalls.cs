using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace Kiln.Analyzers;

/// <summary>Reading calls of Kiln.Tuning.SearchSpace for the KLN0x20 rules.</summary>
public static class SearchCalls
{
    private static readonly string[] BetaWords = { "momentum", "beta", "beta1", "beta2", "b1", "b2", "rho", "ema", "β", "β1", "β2" };
    private static readonly string[] ScaleWords = { "lr", "eta", "wd", "l1", "l2", "lambda", "reg", "regularization", "regularisation", "penalty" };

    /// <summary>A dimension-adding method of SearchSpace.</summary>
    public static bool IsDimension(IMethodSymbol method) => method.Name is "LogUniform" or "Uniform" or "OneMinusLogUniform" or "Choice" or "IntRange";

    public static bool IsSearchSpaceMethod(IMethodSymbol method, KilnTypes types, string name) =>
        method.Name == name && types.SearchSpace is not null && SymbolEqualityComparer.Default.Equals(method.ContainingType, types.SearchSpace);

    /// <summary>
    /// The constant name, low and high of a Uniform(name, low, high) call, following locals, fields and helpers with
    /// <paramref name="cache"/> when given; false when low or high is not constant.
    /// </summary>
    public static bool TryReadRange(IInvocationOperation invocation, out string name, out double low, out double high, FlowCache? cache = null, System.Threading.CancellationToken cancellationToken = default)
    {
        name = "";
        low = high = 0;
        IArgumentOperation? nameArgument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "name");
        IArgumentOperation? lowArgument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "low");
        IArgumentOperation? highArgument = invocation.Arguments.FirstOrDefault(a => a.Parameter?.Name == "high");
        if (lowArgument is null || highArgument is null) return false;
        name = Operations.ConstantString(nameArgument?.Value) ?? (nameArgument is null ? "" : Operations.Text(nameArgument.Value));
        if (cache is null)
            return Operations.TryGetNumber(Operations.Unwrap(lowArgument.Value), out low) && Operations.TryGetNumber(Operations.Unwrap(highArgument.Value), out high)
                && low < high;
        if (ValueFlow.Number(lowArgument.Value, cache, cancellationToken) is not { } l || ValueFlow.Number(highArgument.Value, cache, cancellationToken) is not { } h) return false;
        low = l;
        high = h;
        return low < high;
    }

    /// <summary>A momentum or β name (β1, beta2, rho, momentum, ema…).</summary>
    public static bool IsBetaName(string name) => Words.ContainsAny(name, BetaWords);

    /// <summary>A learning-rate or weight-decay name (lr, learning_rate, eta, wd, weight_decay, l2, lambda, reg…).</summary>
    public static bool IsScaleName(string name)
    {
        string squashed = Words.Squashed(name);
        return Words.ContainsAny(name, ScaleWords) || squashed.Contains("learningrate") || squashed.Contains("weightdecay");
    }

    /// <summary>
    /// A β-like range. What the sampled value feeds decides (<see cref="SearchKeyUses"/>): a β argument or option makes any range
    /// reaching above 0.9 inside [0, 1) β-like, and a key that only feeds other settings is never one, whatever its name. Where
    /// no use is seen, the range itself must look like a β's — it reaches above 0.9 and spans at least a decade of 1 − β
    /// (<see cref="SpansADecadeNearOne"/>) — and then either lies wholly in [0.9, 1) or, as the tie-breaker, is named like a β.
    /// A name alone never decides.
    /// </summary>
    public static bool IsBetaRange(string name, double low, double high, KeyUse use)
    {
        if (!(low >= 0 && high < 1)) return false;
        if ((use & KeyUse.Beta) != 0) return high > 0.9;
        if (use == KeyUse.Other) return false;
        return SpansADecadeNearOne(low, high) && (low >= 0.9 || IsBetaName(name));
    }

    /// <summary>High above 0.9 and 1 − low at least ten times 1 − high: sampled linearly, the range's top decade of 1/(1 − β) gets almost no samples.</summary>
    public static bool SpansADecadeNearOne(double low, double high) => high > 0.9 && (1 - low) >= 10 * (1 - high) * (1 - 1e-9);
}
