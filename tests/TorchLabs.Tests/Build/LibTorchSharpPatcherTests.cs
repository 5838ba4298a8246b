using System.Reflection;
using TorchLabs.Build;

namespace TorchLabs.Tests.Build;

public class LibTorchSharpPatcherTests
{
    const string Version = "GLIBCXX_3.4.32";
    const string Symbol = "_ZSt21ios_base_library_initv";

    static string OriginalLibrary =>
        typeof(LibTorchSharpPatcherTests)
            .Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "OriginalLibTorchSharp")
            .Value!;

    [Fact]
    public void Weaken_CopyOfPackageLibrary_SetsWeakFlagAndWeakBinding()
    {
        string dir = TestEnvironment.NewTempDir();
        string copy = Path.Combine(dir, "libLibTorchSharp.so");
        File.Copy(OriginalLibrary, copy);

        var before = ElfVersionWeakener.Inspect(copy, Version);
        Assert.Equal(0, before.Flags & ElfVersionWeakener.VerFlgWeak);
        Assert.Contains(before.Symbols, s => s.Name == Symbol && s.Binding == 1); // STB_GLOBAL as shipped

        var result = ElfVersionWeakener.Weaken(copy, Version);

        Assert.True(result.VersionFound);
        Assert.True(result.FlagChanged);
        Assert.Equal(1, result.SymbolsWeakened);
        var after = ElfVersionWeakener.Inspect(copy, Version);
        Assert.Equal(ElfVersionWeakener.VerFlgWeak, after.Flags & ElfVersionWeakener.VerFlgWeak);
        Assert.All(after.Symbols, s => Assert.Equal(ElfVersionWeakener.StbWeak, s.Binding));
        Assert.Contains(after.Symbols, s => s.Name == Symbol);

        // Only the flag word and the one st_info byte differ from the original.
        byte[] a = File.ReadAllBytes(OriginalLibrary),
            b = File.ReadAllBytes(copy);
        Assert.Equal(a.Length, b.Length);
        Assert.Equal(2, Enumerable.Range(0, a.Length).Count(i => a[i] != b[i]));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Weaken_SecondRun_ChangesNoByte()
    {
        string dir = TestEnvironment.NewTempDir();
        string copy = Path.Combine(dir, "libLibTorchSharp.so");
        File.Copy(OriginalLibrary, copy);
        ElfVersionWeakener.Weaken(copy, Version);
        byte[] once = File.ReadAllBytes(copy);

        var second = ElfVersionWeakener.Weaken(copy, Version);

        Assert.False(second.Changed);
        Assert.Equal(1, second.SymbolsAlreadyWeak);
        Assert.Equal(once, File.ReadAllBytes(copy));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Weaken_NotAnElfFile_Throws()
    {
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "fake.so");
        File.WriteAllText(path, "not a shared library, just text of some length to pass the header size check........");
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionWeakener.Weaken(path, Version));
        Assert.Contains("not an ELF file", e.Message);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void BuildOutput_LibraryIsPatchedExactlyWhenSystemLibStdCxxLacksVersion()
    {
        // The build is for this machine's runtime only: the native libraries sit at the output's root.
        string output = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(output), output);
        Assert.False(Directory.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes")), "every platform's natives");
        string? libstdcxx = ElfVersionWeakener.FindSystemLibStdCxx();
        Assert.NotNull(libstdcxx);
        bool systemHasVersion = ElfVersionWeakener.FileContainsString(libstdcxx!, Version);
        var inspected = ElfVersionWeakener.Inspect(output, Version);
        bool weak = (inspected.Flags & ElfVersionWeakener.VerFlgWeak) != 0;
        Assert.Equal(!systemHasVersion, weak);
        // And the package cache itself is never touched.
        Assert.Equal(0, ElfVersionWeakener.Inspect(OriginalLibrary, Version).Flags & ElfVersionWeakener.VerFlgWeak);
    }
}
