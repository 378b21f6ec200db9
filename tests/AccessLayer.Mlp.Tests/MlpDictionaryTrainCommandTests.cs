using AccessLayer.Benchmarks.Mlp;
using AccessLayer.Gateway.Mlp.Dictionaries;
using AccessLayer.Protocol.Compression;

namespace AccessLayer.Mlp.Tests;

public sealed class MlpDictionaryTrainCommandTests
{
    [Fact]
    public void Train_builds_a_loadable_dictionary_with_the_next_free_id_from_a_folder_of_samples()
    {
        var root = Path.Combine(Path.GetTempPath(), "mlp-train-" + Guid.NewGuid().ToString("N"));
        var samples = Directory.CreateDirectory(Path.Combine(root, "samples")).FullName;
        var outDir = Directory.CreateDirectory(Path.Combine(root, "dicts")).FullName;
        try
        {
            var i = 0;
            foreach (var call in WireBytesWorkload.Generate(5, 600))
                File.WriteAllBytes(Path.Combine(samples, $"{i++:D5}.bin"), call.Response.ToProtobuf());
            var output = new StringWriter();

            var first = MlpDictionaryTrainCommand.Run(["--samples", samples, "--out", Path.Combine(outDir, "a.dict"), "--size", "4096"], output, TextWriter.Null);
            var second = MlpDictionaryTrainCommand.Run(["--samples", samples, "--out", Path.Combine(outDir, "b.dict"), "--size", "4096"], output, TextWriter.Null);

            Assert.Equal(0, first);
            Assert.Equal(0, second);
            using var a = ZstdDictionary.Create(File.ReadAllBytes(Path.Combine(outDir, "a.dict")));
            using var b = ZstdDictionary.Create(File.ReadAllBytes(Path.Combine(outDir, "b.dict")));
            Assert.Equal(32768u, a.Id);
            Assert.Equal(32769u, b.Id);
            Assert.Contains("dictionary 32768", output.ToString());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("--samples")]
    [InlineData("--out", "x.dict")]
    [InlineData("--samples", "/nonexistent-folder", "--out", "x.dict")]
    [InlineData("--samples", ".", "--out", "x.dict", "--id", "5")]
    [InlineData("--bogus")]
    public void Bad_arguments_print_usage_and_exit_2(params string[] args)
    {
        var error = new StringWriter();
        Assert.Equal(2, MlpDictionaryTrainCommand.Run(args, TextWriter.Null, error));
        Assert.Contains("train", error.ToString());
    }
}
