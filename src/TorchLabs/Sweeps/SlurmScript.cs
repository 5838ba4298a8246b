using System.Text.RegularExpressions;

namespace TorchLabs.Sweeps;

/// <summary>
/// The values a sweep writes into its sbatch script, checked against Slurm's own formats before a line is written, and
/// the paths written so that the shell and Slurm read them literally. Nothing from the command line reaches the script
/// unchecked: a newline or carriage return there would add a command that Slurm runs.
/// </summary>
public static partial class SlurmScript
{
    const string Name = @"[A-Za-z0-9_.\-]{1,64}";

    /// <summary>sbatch --time: minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes,
    /// days-hours:minutes:seconds, or UNLIMITED / INFINITE (sbatch(1), "-t, --time").</summary>
    [GeneratedRegex(
        @"^(?:[0-9]{1,9}(?::[0-9]{1,2}){0,2}|[0-9]{1,6}-[0-9]{1,2}(?::[0-9]{1,2}){0,2}|UNLIMITED|INFINITE)\z",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex TimeFormat();

    /// <summary>sbatch --mem: a whole number with an optional unit K, M, G or T (megabytes without one).</summary>
    [GeneratedRegex(@"^[0-9]{1,12}[KMGT]?\z", RegexOptions.CultureInvariant)]
    private static partial Regex MemoryFormat();

    /// <summary>sbatch --partition: one name or a comma list of names (letters, digits, '_', '-', '.').</summary>
    [GeneratedRegex("^" + Name + "(?:," + Name + "){0,31}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex PartitionFormat();

    /// <summary>sbatch --gres: a comma list of name[:type][:count] (gpu:1, gpu:a100:2).</summary>
    [GeneratedRegex(
        "^" + Name + "(?::" + Name + "){0,2}(?:," + Name + "(?::" + Name + "){0,2}){0,15}\\z",
        RegexOptions.CultureInvariant
    )]
    private static partial Regex GresFormat();

    static UsageException Bad(string option, string value, string expected) =>
        new($"{option} {Printable.Quote(value)}: expected {expected}");

    /// <summary>
    /// Throws <see cref="UsageException"/> naming the first value that is not in Slurm's format (the value escaped):
    /// the time limit, memory, partition and gres; and the sweep folder when it holds a character the script cannot
    /// carry literally.
    /// </summary>
    public static void Check(string time, string memory, string? partition, string? gres, string folder)
    {
        if (!TimeFormat().IsMatch(time))
            throw Bad(
                "‹slurm-time›",
                time,
                "minutes[:seconds], hours:minutes:seconds, days-hours[:minutes[:seconds]] or UNLIMITED"
            );
        if (!MemoryFormat().IsMatch(memory))
            throw Bad("‹slurm-mem›", memory, "a whole number with an optional unit K, M, G or T (4G, 500M)");
        if (partition is not null && !PartitionFormat().IsMatch(partition))
            throw Bad(
                "‹slurm-partition›",
                partition,
                "a partition name or a comma list of them (letters, digits, _ - .)"
            );
        if (gres is not null && !GresFormat().IsMatch(gres))
            throw Bad("‹slurm-gres›", gres, "name[:type][:count], comma-separated (gpu:1, gpu:a100:2)");
        if (folder.Any(c => c is '"' or '\\' || char.IsControl(c)))
            throw Bad(
                "‹out›",
                folder,
                "a sweep folder without '\"', '\\' or control characters (the script names it in #SBATCH ‹output›)"
            );
    }

    /// <summary>
    /// An #SBATCH filename option's value read literally: <paramref name="folder"/> with every '%' doubled (Slurm's
    /// escape of its filename patterns), in double quotes so that spaces stay in it, then <paramref name="pattern"/> as
    /// it is (slurm-%A_%a.out). <see cref="Check"/> has refused the folders that cannot be written so ('"', '\',
    /// control characters).
    /// </summary>
    public static string FilenameOption(string folder, string pattern) =>
        "\""
        + Path.TrimEndingDirectorySeparator(folder).Replace("%", "%%")
        + Path.DirectorySeparatorChar
        + pattern
        + "\"";

    /// <summary><paramref name="s"/> as one word for a POSIX shell: in single quotes, each ' written as '\''.</summary>
    public static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
