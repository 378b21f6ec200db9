using System.Globalization;
using AccessLayer.Protocol.Compression;

namespace AccessLayer.Gateway.Mlp.Dictionaries;

/// <summary>
/// <c>gateway train --samples DIR --out FILE [--id N] [--size BYTES]</c>: trains a zstd dictionary
/// from a folder of sample payloads (one body per file) and writes it where <c>Mlp:DictionaryPath</c>
/// can load it. Without <c>--id</c> the id is one above the highest <c>*.dict</c> id in the output
/// folder (at least 32768), so ids are never reused.
/// </summary>
public static class MlpDictionaryTrainCommand
{
    public const string Name = "train";

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        string? samples = null, outFile = null;
        uint id = 0;
        var size = 16 * 1024;
        for (var i = 0; i < args.Count; i++)
        {
            var value = i + 1 < args.Count ? args[i + 1] : null;
            switch (args[i])
            {
                case "--samples" when value is not null: samples = value; i++; break;
                case "--out" when value is not null: outFile = value; i++; break;
                case "--id" when value is not null && uint.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out id): i++; break;
                case "--size" when value is not null && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out size): i++; break;
                default:
                    error.WriteLine($"train: unexpected argument '{args[i]}'.");
                    error.WriteLine("usage: train --samples DIR --out FILE [--id N] [--size BYTES]");
                    return 2;
            }
        }

        if (samples is null || outFile is null || !Directory.Exists(samples))
        {
            error.WriteLine("usage: train --samples DIR --out FILE [--id N] [--size BYTES]  (DIR must exist)");
            return 2;
        }

        if (id != 0 && id is < ZstdDictionaryTrainer.MinPrivateDictionaryId or > ZstdDictionaryTrainer.MaxDictionaryId)
        {
            error.WriteLine($"train: --id must be within {ZstdDictionaryTrainer.MinPrivateDictionaryId}..{ZstdDictionaryTrainer.MaxDictionaryId}.");
            return 2;
        }

        size = Math.Clamp(size, 256, ZstdDictionaryTrainer.MaxDictionarySize);
        var bodies = Directory.EnumerateFiles(samples).Order(StringComparer.Ordinal)
            .Select(f => (ReadOnlyMemory<byte>)File.ReadAllBytes(f)).Where(b => b.Length > 0).ToList();
        if (id == 0)
            id = NextId(Path.GetDirectoryName(Path.GetFullPath(outFile))!);

        byte[] dictionary;
        try
        {
            dictionary = ZstdDictionaryTrainer.Train(bodies, size, id);
        }
        catch (ZstdException ex)
        {
            error.WriteLine($"train: {ex.Message} ({bodies.Count} samples; zstd wants many small samples, at least ~10x the dictionary size in total).");
            return 1;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outFile))!);
        File.WriteAllBytes(outFile, dictionary);
        output.WriteLine($"dictionary {id}: {dictionary.Length} bytes from {bodies.Count} samples ({bodies.Sum(b => (long)b.Length)} bytes) -> {outFile}");
        return 0;
    }

    /// <summary>One above the highest id among the folder's dictionaries, never below the private range.</summary>
    public static uint NextId(string folder)
    {
        var highest = ZstdDictionaryTrainer.MinPrivateDictionaryId - 1;
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.dict"))
            {
                var head = new byte[8];
                using (var stream = File.OpenRead(file))
                {
                    if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length)
                        continue;
                }

                highest = Math.Max(highest, ZstdDictionary.GetId(head));
            }
        }

        return highest + 1;
    }
}
