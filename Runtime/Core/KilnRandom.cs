namespace Kiln;

/// <summary>
/// xoshiro256** with SplitMix64 seeding: small, fast, and identical on every platform, so a seed
/// reproduces initialisation, dropout masks and shuffles bit for bit.
/// </summary>
public struct KilnRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator whose whole sequence is determined by <paramref name="seed"/>.</summary>
    public KilnRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x); _s1 = SplitMix(ref x); _s2 = SplitMix(ref x); _s3 = SplitMix(ref x);
    }

    /// <summary>Writes the four state words (for checkpoints).</summary>
    public readonly void GetState(System.Span<ulong> state)
    {
        if (state.Length < 4) throw new System.ArgumentException("The state has four 64-bit words.", nameof(state));
        state[0] = _s0; state[1] = _s1; state[2] = _s2; state[3] = _s3;
    }

    /// <summary>A generator continuing exactly from a saved state.</summary>
    public static KilnRandom FromState(System.ReadOnlySpan<ulong> state)
    {
        if (state.Length != 4) throw new System.ArgumentException($"The state has four 64-bit words, not {state.Length}.", nameof(state));
        if ((state[0] | state[1] | state[2] | state[3]) == 0)
            throw new System.ArgumentException("An all-zero state is not a valid xoshiro256** state.", nameof(state));
        var random = default(KilnRandom);
        random._s0 = state[0]; random._s1 = state[1]; random._s2 = state[2]; random._s3 = state[3];
        return random;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Rotl(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>The next 64 uniformly distributed random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = Rotl(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = Rotl(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits (exact in float).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, bound) (Lemire's multiply-shift, unbiased enough for bound ≪ 2³²).</summary>
    public int NextInt(int bound) => (int)(((NextUInt64() >> 32) * (ulong)(uint)bound) >> 32);
}
