namespace TorchLabs.Gradients;

public static partial class GradCheck
{
    sealed partial class Run
    {
        /// <summary>The steps of the one-sided differences: the check's step, then three times shorter by 4
        /// each.</summary>
        const int Steps = 4;

        /// <summary>Random directions of the nearby points, besides the four index-ordered ramps.</summary>
        const int RandomDirections = 4;

        /// <summary>At most this many input elements (rows) are diagnosed per block.</summary>
        const int MaxRowsDiagnosed = 64;

        /// <summary>
        /// Judges each mismatching entry (input element r, output element c) of a block whose input is real:
        /// <list type="number">
        /// <item>Along eᵣ, with steps h = eps, eps/4, eps/16, eps/64: D(h) = |f(x + h) − f(x − h)| that does not shrink
        /// with h is a jump: not continuous here, a backward error whatever it gives. The one-sided quotients L(h) =
        /// (f(x) − f(x − h))/h and R(h) = (f(x + h) − f(x))/h converge to one limit where f is smooth (R − L = h·f″ +
        /// O(h²) shrinks with h, rounding noise and curvature included) and to two at a kink (R − L stays): a kink
        /// needs |R − L| at the shortest step above both the tolerance and four times the rounding noise 8·ε·|f|/h, and
        /// above half its value at the longest step.</item>
        /// <item>Where the one-sided quotients agree within rounding noise and the mismatch is within that noise, the
        /// central difference could not resolve the slope: a note says so. Where the central difference at the shortest
        /// step agrees with backward, the check's step was too long (curvature, or a kink within the step): a note says
        /// so. Neither is a kink.</item>
        /// <item>Otherwise the backward's value must be a limit of true gradients nearby (one input element can move
        /// several kinks at once, so one axis is not enough): the gradients at x + δ·d (central differences,
        /// extrapolated to δ → 0 from δ and 2δ: 2g(δ) − g(2δ)) for index-ordered ramps d both ways (max and max_pool
        /// keep the first maximum, a stable sort keeps input order) and seeded random d, and the one-sided limits L and
        /// R. It is a valid generalized gradient (a <see cref="Kink"/>) when it lies in their hull, widened by atol +
        /// rtol·max|g|; else a backward error.</item>
        /// </list>
        /// Smooth mismatches whose size is within the rounding noise of the central difference get a note saying so.
        /// </summary>
        (List<Kink> Kinks, List<string> Notes) Judge(int k, int floatIndex, List<(long Row, long Col)> bad, double[,] a)
        {
            var kinks = new List<Kink>();
            var notes = new List<string>();
            int j = diffIn[k];
            double epsilon = RealDtype(inputs[j].dtype) == ScalarType.Float32 ? 1.1920929e-7 : 2.220446049250313e-16;
            var steps = Enumerable.Range(0, Steps).Select(m => o.Eps / Math.Pow(4, m)).ToArray();
            foreach (var row in bad.GroupBy(b => b.Row).Take(MaxRowsDiagnosed))
            {
                var around = steps.Select(h => AroundElement(fn, inputs, j, row.Key, _ => h, centre: true)).ToArray();
                Dictionary<long, double[]>? nearby = null;
                foreach (var (r, c) in row)
                {
                    var axis = new Axis(
                        [
                            .. around.Select(p =>
                                (p.Minus[floatIndex][c], p.Centre![floatIndex][c], p.Plus[floatIndex][c], p.H)
                            ),
                        ],
                        epsilon
                    );
                    double analytical = a[r, c];
                    if (axis.Jump is double jump)
                    {
                        notes.Add(
                            $"input element {r} → output element {c}: not continuous here (the output jumps by {G(jump)} across the point), so no derivative exists"
                        );
                        continue;
                    }
                    if (!axis.TwoLimits(o.Atol, o.Rtol) && axis.WithinNoise(analytical))
                    {
                        notes.Add(NoiseNote(r, c, axis));
                        continue;
                    }
                    if (axis.ShorterStepAgrees(analytical, o.Atol, o.Rtol))
                    {
                        notes.Add(ShortStepNote(r, c, axis));
                        continue;
                    }
                    nearby ??= NearbySlopes(k, r, floatIndex, [.. row.Select(e => e.Col)]);
                    double[] limits = [axis.Left, axis.Right, .. nearby[c]];
                    double tol = o.Atol + o.Rtol * limits.Max(Math.Abs);
                    if (analytical >= limits.Min() - tol && analytical <= limits.Max() + tol)
                        kinks.Add(new Kink(r, c, axis.Left, axis.Right, analytical));
                }
            }
            return (kinks, notes);
        }

        string ShortStepNote(long r, long c, Axis axis) =>
            $"input element {r} → output element {c}: the central difference at step {G(o.Eps / Math.Pow(4, Steps - 1))} agrees with backward ({G(axis.Central(Steps - 1))}); at step {G(o.Eps)} it is {G(axis.Central(0))}: the step is too long for the curvature here (or a kink lies within it), and a smaller Eps measures it better";

        string NoiseNote(long r, long c, Axis axis) =>
            $"input element {r} → output element {c}: the central difference is within the float's rounding noise here (|output| ≈ {G(axis.Scale)} with step {G(o.Eps)} resolves slopes to about {G(axis.Noise(0))}); a larger Eps measures it better";

        /// <summary>
        /// For each column: the gradient ∂y_c/∂x_r at nearby points x + δ·d, extrapolated to δ → 0, one per direction
        /// d. Every real input that requires grad moves (ties across inputs break too); δ = 16·N·eps for N moved
        /// elements, so that neighbours on a ramp stay 16 steps apart. The inputs are restored exactly after.
        /// </summary>
        Dictionary<long, double[]> NearbySlopes(int k, long r, int floatIndex, long[] cols)
        {
            var moved = diffIn.Where(j => !inputs[j].is_complex()).ToArray();
            long focus = r + moved.TakeWhile(j => j != diffIn[k]).Sum(j => inputs[j].numel());
            var original = moved.Select(j => Values(inputs[j])).ToArray();
            int n = original.Sum(v => v.Length);
            double delta = 16 * n * o.Eps;
            var slopes = cols.Distinct().ToDictionary(c => c, _ => new List<double>());
            foreach (double[] d in Directions(n, (int)focus))
            {
                var g = new double[2][];
                for (int s = 0; s < 2; s++)
                {
                    Shift(moved, original, d, (s + 1) * delta);
                    var (minus, _, plus, h) = AroundElement(fn, inputs, diffIn[k], r, _ => o.Eps, centre: false);
                    g[s] = [.. slopes.Keys.Select(c => (plus[floatIndex][c] - minus[floatIndex][c]) / (2 * h))];
                }
                int i = 0;
                foreach (var c in slopes.Keys)
                {
                    slopes[c].Add(2 * g[0][i] - g[1][i]);
                    i++;
                }
            }
            for (int m = 0; m < moved.Length; m++)
                Restore(inputs[moved[m]], original[m]);
            return slopes.ToDictionary(p => p.Key, p => p.Value.ToArray());
        }

        /// <summary>Sets the moved inputs to their original values plus <paramref name="size"/>·d (d over their
        /// elements in order).</summary>
        void Shift(int[] moved, double[][] original, double[] d, double size)
        {
            int offset = 0;
            for (int m = 0; m < moved.Length; m++)
            {
                var values = original[m].Select((v, e) => v + size * d[offset + e]).ToArray();
                Restore(inputs[moved[m]], values);
                offset += values.Length;
            }
        }

        /// <summary>Ramps up and down (dᵢ = (i + 1)/N and (N − i)/N), each both ways; a ramp with the element in focus
        /// moved to each rank (up to 8 ranks), so that it takes every place among ties (median, kthvalue); then seeded
        /// uniform directions in [−1, 1].</summary>
        static IEnumerable<double[]> Directions(int n, int focus)
        {
            double[] up = [.. Enumerable.Range(0, n).Select(i => (i + 1.0) / n)];
            double[] down = [.. up.Reverse()];
            yield return up;
            yield return down;
            yield return [.. up.Select(v => -v)];
            yield return [.. down.Select(v => -v)];
            int ranks = Math.Min(n, RanksTried);
            foreach (
                int rank in Enumerable.Range(0, ranks).Select(p => p * (n - 1) / Math.Max(1, ranks - 1)).Distinct()
            )
                yield return AtRank(n, focus, rank);
            var random = new Random(20260);
            for (int t = 0; t < RandomDirections; t++)
                yield return [.. Enumerable.Range(0, n).Select(_ => 2 * random.NextDouble() - 1)];
        }

        /// <summary>How many ranks the element in focus is moved to.</summary>
        const int RanksTried = 8;

        /// <summary>A ramp over the other elements in index order, with element <paramref name="focus"/> at place
        /// <paramref name="rank"/>: values (place + 1)/N, all distinct.</summary>
        static double[] AtRank(int n, int focus, int rank)
        {
            var d = new double[n];
            int slot = 0;
            for (int i = 0; i < n; i++)
            {
                if (i == focus)
                    continue;
                if (slot == rank)
                    slot++;
                d[i] = (slot + 1.0) / n;
                slot++;
            }
            d[focus] = (rank + 1.0) / n;
            return d;
        }
    }

    /// <summary>One output element along one input element's axis, at steps h₀ &gt; h₁ &gt; …: f(x − h), f(x), f(x +
    /// h).</summary>
    /// <param name="Epsilon">The machine epsilon of the input's dtype.</param>
    sealed record Axis((double Minus, double Centre, double Plus, double H)[] At, double Epsilon)
    {
        /// <summary>The largest |f| seen: the scale of the rounding noise.</summary>
        public double Scale => At.Max(p => Math.Max(Math.Abs(p.Centre), Math.Max(Math.Abs(p.Minus), Math.Abs(p.Plus))));

        /// <summary>How far rounding can move a one-sided quotient at step m: 8·ε·|f|/h.</summary>
        public double Noise(int m) => 8 * Epsilon * Scale / At[m].H;

        double LeftAt(int m) => (At[m].Centre - At[m].Minus) / At[m].H;

        double RightAt(int m) => (At[m].Plus - At[m].Centre) / At[m].H;

        double GapAt(int m) => Math.Abs(RightAt(m) - LeftAt(m));

        /// <summary>The one-sided limits, read at the shortest step.</summary>
        public double Left => LeftAt(At.Length - 1);
        public double Right => RightAt(At.Length - 1);

        /// <summary>|f(x + h) − f(x − h)| at the shortest step, when it does not shrink with h and is above rounding: a
        /// jump.</summary>
        public double? Jump
        {
            get
            {
                double first = Math.Abs(At[0].Plus - At[0].Minus),
                    last = Math.Abs(At[^1].Plus - At[^1].Minus);
                return last > 0.5 * first && first > 16 * Epsilon * Scale ? last : null;
            }
        }

        /// <summary>The one-sided quotients converge to two limits: their gap at the shortest step is above the
        /// tolerance and four times the rounding noise there, and has not shrunk to half its value at the longest
        /// step.</summary>
        public bool TwoLimits(double atol, double rtol)
        {
            int last = At.Length - 1;
            double gap = GapAt(last),
                tol = atol + rtol * Math.Max(Math.Abs(Left), Math.Abs(Right));
            return gap > tol && gap > 4 * Noise(last) && gap > 0.5 * GapAt(0);
        }

        /// <summary>(f(x + h) − f(x − h)) / 2h at step m.</summary>
        public double Central(int m) => (At[m].Plus - At[m].Minus) / (2 * At[m].H);

        /// <summary>The central difference at the shortest step is resolved (its rounding noise below the tolerance)
        /// and agrees with <paramref name="analytical"/>.</summary>
        public bool ShorterStepAgrees(double analytical, double atol, double rtol)
        {
            double c = Central(At.Length - 1),
                tol = atol + rtol * Math.Abs(c);
            return Noise(At.Length - 1) < tol && Math.Abs(analytical - c) <= tol;
        }

        /// <summary>The central difference at the check's step is within rounding noise of <paramref
        /// name="analytical"/>.</summary>
        public bool WithinNoise(double analytical)
        {
            double central = (At[0].Plus - At[0].Minus) / (2 * At[0].H);
            return Math.Abs(analytical - central) <= Noise(0);
        }
    }
}
