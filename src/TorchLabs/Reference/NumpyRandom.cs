namespace TorchLabs.Reference;

/// <summary>
/// NumPy's legacy RandomState, bit for bit: MT19937 (Matsumoto and Nishimura 1998) seeded from a 32-bit integer as
/// <c>np.random.seed(int)</c> does (init_genrand: mt[i] = 1812433253 (mt[i−1] ⊕ (mt[i−1] ≫ 30)) + i), <c>rand</c>
/// (random_sample: 53-bit doubles from two 32-bit draws, (a≫5 · 2²⁶ + b≫6) / 2⁵³) and <c>randn</c> (the legacy polar
/// Box–Muller, which returns f·x₂ and caches f·x₁ for the next call). Arrays are filled in C (row-major) order.
/// </summary>
public sealed class NumpyRandom
{
    const int N = 624,
        M = 397;
    const uint MatrixA = 0x9908b0df,
        UpperMask = 0x80000000,
        LowerMask = 0x7fffffff;
    readonly uint[] mt = new uint[N];
    int pos;
    bool hasGauss;
    double gauss;

    public NumpyRandom(uint seed) => Seed(seed);

    /// <summary>np.random.seed(seed): resets the state and drops any cached Gaussian.</summary>
    public void Seed(uint seed)
    {
        mt[0] = seed;
        for (int i = 1; i < N; i++)
            mt[i] = 1812433253u * (mt[i - 1] ^ (mt[i - 1] >> 30)) + (uint)i;
        pos = N;
        hasGauss = false;
        gauss = 0;
    }

    /// <summary>The next 32-bit output of MT19937 (with tempering).</summary>
    public uint NextUInt32()
    {
        if (pos >= N)
            Twist();
        uint y = mt[pos++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >> 18;
        return y;
    }

    void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (mt[i] & UpperMask) | (mt[(i + 1) % N] & LowerMask);
            mt[i] = mt[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? MatrixA : 0);
        }
        pos = 0;
    }

    /// <summary>random_sample(): a double in [0, 1) with 53 random bits.</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5,
            b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>The legacy standard normal: polar method, second value cached.</summary>
    public double NextGaussian()
    {
        if (hasGauss)
        {
            hasGauss = false;
            double cached = gauss;
            gauss = 0;
            return cached;
        }
        double x1,
            x2,
            r2;
        do
        {
            x1 = 2.0 * NextDouble() - 1.0;
            x2 = 2.0 * NextDouble() - 1.0;
            r2 = x1 * x1 + x2 * x2;
        } while (r2 >= 1.0 || r2 == 0.0);
        double f = Math.Sqrt(-2.0 * Math.Log(r2) / r2);
        gauss = f * x1;
        hasGauss = true;
        return f * x2;
    }

    /// <summary>np.random.rand(d0, d1, ...): the product of the dimensions, in C order.</summary>
    public double[] Rand(params int[] shape)
    {
        var a = new double[Count(shape)];
        for (int i = 0; i < a.Length; i++)
            a[i] = NextDouble();
        return a;
    }

    /// <summary>np.random.randn(d0, d1, ...): the product of the dimensions, in C order.</summary>
    public double[] Randn(params int[] shape)
    {
        var a = new double[Count(shape)];
        for (int i = 0; i < a.Length; i++)
            a[i] = NextGaussian();
        return a;
    }

    static int Count(int[] shape) => shape.Aggregate(1, (p, d) => checked(p * d));
}
