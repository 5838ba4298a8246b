// Weakens one GNU symbol-version requirement of an ELF64 little-endian shared library, in place.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so was linked against a libstdc++ that provides
// GLIBCXX_3.4.32; Debian 12's stops at GLIBCXX_3.4.30, so the dynamic loader refuses the library
// and TorchSharp reports a misleading "doesn't contain a reference to libtorch-cpu-linux-x64".
// The only symbol behind that version is std::ios_base_library_init() (_ZSt21ios_base_library_initv),
// which older libstdc++ runs from its own static initialisers anyway. Marking the version
// requirement VER_FLG_WEAK and the symbol STB_WEAK lets the loader accept the library.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (Directory.Build.targets), and
// into the test project with TORCHLABS_NO_MSBUILD_TASK defined, so the same code is tested.
#nullable disable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace TorchLabs.Build
{
    /// <summary>What <see cref="ElfVersionWeakener.Weaken"/> found and did.</summary>
    public sealed class WeakenResult
    {
        public bool VersionFound { get; set; }
        public bool FlagChanged { get; set; }
        public int SymbolsWeakened { get; set; }
        public int SymbolsAlreadyWeak { get; set; }
        public bool Changed => FlagChanged || SymbolsWeakened > 0;
    }

    public static class ElfVersionWeakener
    {
        public const ushort VerFlgWeak = 0x2; // VER_FLG_WEAK in vna_flags
        public const byte StbWeak = 2; // STB_WEAK, the high nibble of st_info
        const uint ShtDynsym = 11;
        const uint ShtGnuVerneed = 0x6ffffffe;
        const uint ShtGnuVersym = 0x6fffffff;

        /// <summary>True when the file's bytes contain the version string (a libstdc++ that provides it).</summary>
        public static bool FileContainsString(string path, string text)
        {
            byte[] data = File.ReadAllBytes(path);
            byte[] needle = Encoding.ASCII.GetBytes(text + "\0");
            return IndexOf(data, needle) >= 0;
        }

        /// <summary>The system libstdc++.so.6, searched in the usual Linux library folders; null when none is
        /// found.</summary>
        public static string FindSystemLibStdCxx()
        {
            var dirs = new List<string>();
            string ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld))
                dirs.AddRange(ld.Split(':'));
            dirs.AddRange(
                new[]
                {
                    "/usr/lib/x86_64-linux-gnu",
                    "/lib/x86_64-linux-gnu",
                    "/usr/lib/aarch64-linux-gnu",
                    "/lib/aarch64-linux-gnu",
                    "/usr/lib64",
                    "/lib64",
                    "/usr/lib",
                    "/lib",
                }
            );
            foreach (string d in dirs)
            {
                if (string.IsNullOrEmpty(d))
                    continue;
                string p = Path.Combine(d, "libstdc++.so.6");
                if (File.Exists(p))
                    return p;
            }
            return null;
        }

        /// <summary>
        /// Sets VER_FLG_WEAK on the .gnu.version_r entry named <paramref name="version"/> and STB_WEAK on every
        /// undefined .dynsym symbol bound to that version. Idempotent: a second run changes no byte.
        /// </summary>
        public static WeakenResult Weaken(string path, string version)
        {
            byte[] b = File.ReadAllBytes(path);
            var result = new WeakenResult();
            if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
                throw new InvalidDataException(path + ": not an ELF file");
            if (b[4] != 2 || b[5] != 1)
                throw new InvalidDataException(path + ": expected a 64-bit little-endian ELF file");

            long shoff = (long)U64(b, 0x28);
            int shentsize = U16(b, 0x3A),
                shnum = U16(b, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > b.Length)
                throw new InvalidDataException(path + ": section header table out of range");

            int verneed = -1,
                dynsym = -1,
                versym = -1;
            for (int i = 0; i < shnum; i++)
            {
                uint type = U32(b, (int)(shoff + (long)i * shentsize) + 4);
                if (type == ShtGnuVerneed)
                    verneed = i;
                else if (type == ShtDynsym)
                    dynsym = i;
                else if (type == ShtGnuVersym)
                    versym = i;
            }
            if (verneed < 0 || dynsym < 0 || versym < 0)
                return result;

            int Sh(int idx) => (int)(shoff + (long)idx * shentsize);
            int vnOff = (int)U64(b, Sh(verneed) + 0x18);
            int strtab = (int)U32(b, Sh(verneed) + 0x28);
            int strOff = (int)U64(b, Sh(strtab) + 0x18);
            int vnCount = (int)U32(b, Sh(verneed) + 0x2C); // sh_info: number of Verneed entries

            int versionIndex = -1;
            int vn = vnOff;
            for (int n = 0; n < vnCount; n++)
            {
                int cnt = U16(b, vn + 2);
                int aux = vn + (int)U32(b, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    string name = CString(b, strOff + (int)U32(b, aux + 8));
                    if (name == version)
                    {
                        result.VersionFound = true;
                        versionIndex = U16(b, aux + 6) & 0x7fff; // vna_other
                        ushort flags = U16(b, aux + 4); // vna_flags
                        if ((flags & VerFlgWeak) == 0)
                        {
                            W16(b, aux + 4, (ushort)(flags | VerFlgWeak));
                            result.FlagChanged = true;
                        }
                    }
                    uint next = U32(b, aux + 12);
                    if (next == 0)
                        break;
                    aux += (int)next;
                }
                uint vnNext = U32(b, vn + 12);
                if (vnNext == 0)
                    break;
                vn += (int)vnNext;
            }
            if (versionIndex < 0)
                return result;

            int symOff = (int)U64(b, Sh(dynsym) + 0x18);
            int symSize = (int)U64(b, Sh(dynsym) + 0x20);
            int symEnt = Math.Max(24, (int)U64(b, Sh(dynsym) + 0x38));
            int vsOff = (int)U64(b, Sh(versym) + 0x18);
            for (int s = 0; s < symSize / symEnt; s++)
            {
                if ((U16(b, vsOff + 2 * s) & 0x7fff) != versionIndex)
                    continue;
                int sym = symOff + s * symEnt;
                if (U16(b, sym + 6) != 0)
                    continue; // st_shndx: only undefined (imported) symbols
                byte info = b[sym + 4];
                if (info >> 4 == StbWeak)
                {
                    result.SymbolsAlreadyWeak++;
                    continue;
                }
                b[sym + 4] = (byte)((StbWeak << 4) | (info & 0xf));
                result.SymbolsWeakened++;
            }

            if (result.Changed)
            {
                string tmp = path + ".patching";
                File.WriteAllBytes(tmp, b);
                File.Replace(tmp, path, null); // a rename: readers see the old file or the new, never half of one
            }
            return result;
        }

        /// <summary>Reads the vna_flags of a version requirement and the binding of the symbols bound to it.</summary>
        public static (ushort Flags, List<(string Name, int Binding)> Symbols) Inspect(string path, string version)
        {
            byte[] b = File.ReadAllBytes(path);
            long shoff = (long)U64(b, 0x28);
            int shentsize = U16(b, 0x3A),
                shnum = U16(b, 0x3C);
            int Sh(int idx) => (int)(shoff + (long)idx * shentsize);
            int verneed = -1,
                dynsym = -1,
                versym = -1;
            for (int i = 0; i < shnum; i++)
            {
                uint type = U32(b, Sh(i) + 4);
                if (type == ShtGnuVerneed)
                    verneed = i;
                else if (type == ShtDynsym)
                    dynsym = i;
                else if (type == ShtGnuVersym)
                    versym = i;
            }
            var symbols = new List<(string, int)>();
            if (verneed < 0)
                return (0, symbols);
            int strOff = (int)U64(b, Sh((int)U32(b, Sh(verneed) + 0x28)) + 0x18);
            int vn = (int)U64(b, Sh(verneed) + 0x18);
            ushort flagsFound = 0;
            int index = -1;
            for (int n = 0; n < (int)U32(b, Sh(verneed) + 0x2C); n++)
            {
                int aux = vn + (int)U32(b, vn + 8);
                for (int a = 0; a < U16(b, vn + 2); a++)
                {
                    if (CString(b, strOff + (int)U32(b, aux + 8)) == version)
                    {
                        flagsFound = U16(b, aux + 4);
                        index = U16(b, aux + 6) & 0x7fff;
                    }
                    aux += (int)U32(b, aux + 12);
                }
                vn += (int)U32(b, vn + 12);
            }
            int symOff = (int)U64(b, Sh(dynsym) + 0x18),
                symSize = (int)U64(b, Sh(dynsym) + 0x20);
            int dynstr = (int)U64(b, Sh((int)U32(b, Sh(dynsym) + 0x28)) + 0x18);
            int vsOff = (int)U64(b, Sh(versym) + 0x18);
            for (int s = 0; s < symSize / 24; s++)
                if ((U16(b, vsOff + 2 * s) & 0x7fff) == index)
                    symbols.Add((CString(b, dynstr + (int)U32(b, symOff + s * 24)), b[symOff + s * 24 + 4] >> 4));
            return (flagsFound, symbols);
        }

        static ushort U16(byte[] b, int o) => (ushort)(b[o] | b[o + 1] << 8);

        static uint U32(byte[] b, int o) => (uint)(b[o] | b[o + 1] << 8 | b[o + 2] << 16 | b[o + 3] << 24);

        static ulong U64(byte[] b, int o) => U32(b, o) | (ulong)U32(b, o + 4) << 32;

        static void W16(byte[] b, int o, ushort v)
        {
            b[o] = (byte)v;
            b[o + 1] = (byte)(v >> 8);
        }

        static string CString(byte[] b, int o)
        {
            int end = o;
            while (end < b.Length && b[end] != 0)
                end++;
            return Encoding.ASCII.GetString(b, o, end - o);
        }

        static int IndexOf(byte[] hay, byte[] needle)
        {
            for (int i = 0; i + needle.Length <= hay.Length; i++)
            {
                if (hay[i] != needle[0])
                    continue;
                int j = 1;
                while (j < needle.Length && hay[i + j] == needle[j])
                    j++;
                if (j == needle.Length)
                    return i;
            }
            return -1;
        }
    }

#if !TORCHLABS_NO_MSBUILD_TASK
    /// <summary>MSBuild task: weakens <see cref="Version"/> in each library when the system libstdc++ lacks
    /// it.</summary>
    public class PatchLibTorchSharp : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; }

        public string Version { get; set; } = "GLIBCXX_3.4.32";

        public override bool Execute()
        {
            string libstdcxx = ElfVersionWeakener.FindSystemLibStdCxx();
            if (libstdcxx == null)
            {
                Log.LogMessage(
                    Microsoft.Build.Framework.MessageImportance.Normal,
                    "TorchLabs: no system libstdc++.so.6 found; libLibTorchSharp.so left as is."
                );
                return true;
            }
            if (ElfVersionWeakener.FileContainsString(libstdcxx, Version))
            {
                Log.LogMessage(
                    Microsoft.Build.Framework.MessageImportance.Normal,
                    "TorchLabs: " + libstdcxx + " provides " + Version + "; no patch needed."
                );
                return true;
            }
            foreach (var item in Libraries)
            {
                string path = item.GetMetadata("FullPath");
                var r = ElfVersionWeakener.Weaken(path, Version);
                Log.LogMessage(
                    Microsoft.Build.Framework.MessageImportance.High,
                    "TorchLabs: "
                        + path
                        + ": "
                        + (
                            r.Changed
                                ? "weakened " + Version + " (" + r.SymbolsWeakened + " symbol(s))"
                                : "already weak, unchanged"
                        )
                );
            }
            return true;
        }
    }
#endif
}
