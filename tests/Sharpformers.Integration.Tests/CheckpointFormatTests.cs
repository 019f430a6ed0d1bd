using Sharpformers.Hub;
using Sharpformers.Models;
using Sharpformers.Models.Configuration;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;
using Sharpformers.TestSupport;
using Sharpformers.Tokenizers;
using Sharpformers.Utils;
using static Sharpformers.Pipelines.PipelineFactory;

namespace Sharpformers.Integration.Tests;

/// <summary>
/// Issue 5's acceptance for folders on disk: pytorch_model.bin, sharded safetensors and torch.save
/// shards, fp16/bf16 copies, Hugging Face's file preference, git clones without LFS and missing shards,
/// each loaded through AutoModel, AutoModelForSequenceClassification and Pipeline and checked against
/// the tiny-bert goldens.
/// </summary>
public sealed class CheckpointFormatTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("integration-formats-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static Dictionary<string, float[]> SafetensorsOutputs() => GoldenChecks.Outputs(Fixtures.Model(GoldenChecks.Fixture)).Values;

    [Fact]
    public void TinyBertBin_ThroughTheAutoClassesAndThePipeline_MatchesTheTinyBertGoldens()
    {
        string folder = Fixtures.Model("tiny-bert-bin");
        var resolved = PretrainedFiles.ResolveCheckpoint(folder);
        Assert.Equal(CheckpointFormat.PyTorch, resolved.Format);
        Assert.Equal(CheckpointNames.PyTorchWeights, Path.GetFileName(resolved.Path));

        var fromBin = GoldenChecks.AssertMatchesGoldens(folder, "tiny-bert-bin (pytorch_model.bin)");

        // Its weights equal tiny-bert's bit for bit, so every output is the safetensors model's, bit for bit.
        GoldenChecks.AssertIdentical(SafetensorsOutputs(), fromBin, "tiny-bert-bin vs tiny-bert outputs");
    }

    [Fact]
    public void ShardedSafetensors_AnIndexAndTwoShards_MatchTheGoldens()
    {
        string folder = TinyBertCopies.ShardedSafetensors(root);
        var resolved = PretrainedFiles.ResolveCheckpoint(folder);
        Assert.Equal(CheckpointFormat.Safetensors, resolved.Format);
        Assert.Equal(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], resolved.ShardPaths.Select(Path.GetFileName));

        var sharded = GoldenChecks.AssertMatchesGoldens(folder, "sharded safetensors (index + 2 shards)");

        GoldenChecks.AssertIdentical(SafetensorsOutputs(), sharded, "sharded safetensors vs model.safetensors outputs");
        using var model = AutoModelForSequenceClassification.FromPretrained(folder);
        Assert.True(model.LoadReport!.IsExactMatch, model.LoadReport.Warning);
    }

    [Fact]
    public void ShardedPytorchBin_AnIndexAndTwoTorchSaveShards_MatchTheGoldens()
    {
        string folder = TinyBertCopies.ShardedPyTorch(root);
        var resolved = PretrainedFiles.ResolveCheckpoint(folder);
        Assert.Equal(CheckpointFormat.PyTorch, resolved.Format);
        Assert.Equal(["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"], resolved.ShardPaths.Select(Path.GetFileName));

        var sharded = GoldenChecks.AssertMatchesGoldens(folder, "sharded pytorch_model.bin (index + 2 shards)");

        GoldenChecks.AssertIdentical(SafetensorsOutputs(), sharded, "sharded pytorch_model.bin vs model.safetensors outputs");
    }

    /// <summary>
    /// A half-precision copy holds round(w) instead of w. Widening fp16/bf16 to float32 is exact, so the
    /// loaded model must be exactly the float32 model whose weights are round(w): checked bit for bit
    /// (stronger than the 1e-5 asked). Against the goldens (computed from w) the outputs then move by the
    /// rounding errors propagated through the network. The bound is derived from the model itself: four
    /// probes perturb every weight by ±(half an ulp of the format at that weight) with random signs — the
    /// largest error rounding can make, with random signs as rounding errors have — and the largest output
    /// change any probe causes, M, measures how far the format's precision can move each output. The
    /// tolerance is 1e-5 (what the fp32 engine is held to) + 2·M, per output tensor.
    /// </summary>
    [Theory]
    [InlineData("F16")]
    [InlineData("BF16")]
    public void HalfPrecisionCopies_AreTheFp32ModelOnRoundedWeights_AndMatchTheGoldensWithinTheFormatsPrecision(string dtypeName)
    {
        var dtype = Enum.Parse<DType>(dtypeName);
        string half = TinyBertCopies.HalfPrecision(root, dtype);
        using (var reader = SafetensorsReader.Open(Path.Combine(half, CheckpointNames.SafetensorsWeights)))
        {
            Assert.All(reader.Tensors, t => Assert.Equal(dtype, t.DType));
        }

        var (fromHalf, halfLabels) = GoldenChecks.Outputs(half);
        var (fromRounded, _) = GoldenChecks.Outputs(TinyBertCopies.RoundedThrough(root, dtype));
        GoldenChecks.AssertIdentical(fromRounded, fromHalf, $"{dtype} copy vs fp32 model on {dtype}-rounded weights");

        var fp32 = SafetensorsOutputs();
        var sensitivity = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int probe = 0; probe < 4; probe++)
        {
            var random = new Random(1234 + probe);
            string perturbed = TinyBertCopies.Perturbed(root, $"probe-{dtype}-{probe}",
                (_, _, w) => (float)(w + (random.Next(2) == 0 ? -1 : 1) * TinyBertCopies.HalfUlp(w, dtype)));
            foreach (var (name, diff) in GoldenChecks.Diffs(fp32, GoldenChecks.Outputs(perturbed).Values))
            {
                sensitivity[name] = Math.Max(diff, sensitivity.GetValueOrDefault(name));
            }
        }

        Assert.Equal(GoldenChecks.ExpectedLabels(), halfLabels);
        var diffs = GoldenChecks.Diffs(GoldenChecks.Expected(), fromHalf);
        foreach (var (name, diff) in diffs)
        {
            double bound = 1e-5 + 2 * sensitivity[name];
            Assert.True(diff <= bound, $"{dtype} {name}: |diff| {diff:E3} > bound {bound:E3}");
        }
        Figures.Record($"{dtype} copy vs goldens (max |diff|)", diffs.Values.Max());
        Figures.Record($"{dtype} derived bound (max over outputs of 1e-5 + 2·M)", diffs.Keys.Max(n => 1e-5 + 2 * sensitivity[n]));
        Figures.Record($"{dtype} worst ratio |diff| / bound", diffs.Max(d => d.Value / (1e-5 + 2 * sensitivity[d.Key])));
        foreach (string name in new[] { "base_model.batch.last_hidden_state", "sequence_classification.batch.logits", "pipeline.top_k_none" })
        {
            Figures.Record($"{dtype} copy vs goldens: {name} (bound {1e-5 + 2 * sensitivity[name]:E2})", diffs[name]);
        }
        // The check is not vacuous: the rounding does move the outputs, by more than fp32's 1e-5.
        Assert.True(diffs.Values.Max() > 1e-5, $"{dtype}: the outputs did not move ({diffs.Values.Max():E3}); were the weights rounded?");
    }

    [Fact]
    public void FolderWithEveryFormat_LoadsThemInHuggingFacesOrder()
    {
        // Each format holds tiny-bert with a different classifier.bias, so the loaded bias says which file was read.
        string folder = TinyBertCopies.FolderWithoutWeights(root, "every-format");
        float[] bias = MiniBias();
        TinyBertCopies.WriteSafetensors(folder, BiasPlus(1));
        TinyBertCopies.WriteShardedSafetensors(folder, BiasPlus(2));
        TinyBertCopies.WritePyTorch(Path.Combine(folder, CheckpointNames.PyTorchWeights), BiasPlus(3));
        TinyBertCopies.WriteShardedPyTorch(folder, BiasPlus(4));

        (string File, float Offset)[] expected =
        [
            (CheckpointNames.SafetensorsWeights, 1), (CheckpointNames.SafetensorsIndex, 2), (CheckpointNames.PyTorchWeights, 3), (CheckpointNames.PyTorchIndex, 4),
        ];
        foreach (var (file, offset) in expected)
        {
            Assert.Equal(file, Path.GetFileName(PretrainedFiles.ResolveCheckpoint(folder).Path));
            Assert.Equal(Path.Combine(folder, file), CheckpointFiles.Find(folder));
            using (var model = AutoModelForSequenceClassification.FromPretrained(folder))
            {
                Assert.Equal(bias.Select(b => b + offset), model.Parameters["classifier.bias"].Value.ToArray());
            }
            File.Delete(Path.Combine(folder, file));
        }
    }

    [Fact]
    public void GitCloneWithoutLfs_EveryLoaderSaysHowToFetchTheContent()
    {
        // What `git clone` leaves without git-lfs: ~130-byte pointers where the LFS files should be.
        string clone = TinyBertCopies.FolderWithoutWeights(root, "clone");
        string weights = Path.Combine(clone, CheckpointNames.SafetensorsWeights);
        File.WriteAllText(weights, Pointer(TinyBertCopies.SafetensorsPath));
        string expected =
            $"'{weights}' is a Git LFS pointer file, not the file's content (the real file is 203604 bytes, " +
            "sha256:3c16c1016c445b528c6f360efe1be1a87f35f3589f72ff14006b8d8747c98c96): the repository was cloned without Git LFS. " +
            "Run `git lfs install && git lfs pull` inside the clone, or download the model with `sharpformers download REPO_ID` instead of git.";

        Assert.Equal(expected, Assert.Throws<InvalidDataException>(() => AutoModelForSequenceClassification.FromPretrained(clone)).Message);
        Assert.Equal(expected, Assert.Throws<InvalidDataException>(() => AutoModel.FromPretrained(clone)).Message);
        Assert.Equal(expected, Assert.Throws<InvalidDataException>(() => Pipeline("text-classification", model: clone)).Message);

        // The same for a torch.save checkpoint, a tokenizer file and config.json.
        string binClone = Path.Combine(root, "bin-clone");
        Directory.CreateDirectory(binClone);
        foreach (string file in Directory.GetFiles(Fixtures.Model("tiny-bert-bin"))) File.Copy(file, Path.Combine(binClone, Path.GetFileName(file)));
        string bin = Path.Combine(binClone, CheckpointNames.PyTorchWeights);
        File.WriteAllText(bin, Pointer(bin));
        Assert.StartsWith($"'{bin}' is a Git LFS pointer file, not the file's content (the real file is 212076 bytes, sha256:",
            Assert.Throws<InvalidDataException>(() => AutoModelForSequenceClassification.FromPretrained(binClone)).Message);
        string vocab = Path.Combine(clone, "vocab.txt");
        File.WriteAllText(vocab, Pointer(vocab));
        Assert.StartsWith($"'{vocab}' is a Git LFS pointer file, not the file's content (the real file is 5009 bytes, sha256:",
            Assert.Throws<InvalidDataException>(() => AutoTokenizer.FromPretrained(clone)).Message);
        string config = Path.Combine(clone, "config.json");
        File.WriteAllText(config, Pointer(config));
        Assert.StartsWith($"'{config}' is a Git LFS pointer file",
            Assert.Throws<InvalidDataException>(() => AutoConfig.FromPretrained(clone)).Message);
    }

    [Fact]
    public void MissingShard_IsReportedWithTheIndexAndTheShard_ByTheResolverAndByTheReader()
    {
        string folder = TinyBertCopies.ShardedSafetensors(root);
        string index = Path.Combine(folder, CheckpointNames.SafetensorsIndex);
        string missing = Path.Combine(folder, "model-00002-of-00002.safetensors");
        File.Delete(missing);
        string expected =
            $"The sharded checkpoint index '{index}' lists the shard 'model-00002-of-00002.safetensors', but '{missing}' does not exist: " +
            "the checkpoint is incomplete. Copy or download every shard the index names (`sharpformers download REPO_ID` fetches a whole repository).";

        Assert.Equal(expected, Assert.Throws<FileNotFoundException>(() => AutoModelForSequenceClassification.FromPretrained(folder)).Message);
        Assert.Equal(expected, Assert.Throws<FileNotFoundException>(() => CheckpointFiles.Open(folder)).Message);
    }

    [Fact]
    public void PathsThatAreNotFolders_AreNotTakenForRepoIds()
    {
        foreach (string path in new[] { "./no/such/model", Path.Combine(root, "no-such-model"), "a/b/c" })
        {
            string expected = $"'{path}' is neither a model folder on disk nor a valid Hub repo id ('name' or 'org/name'). Check the path, or give the repository's id.";
            Assert.Equal(expected, Assert.Throws<DirectoryNotFoundException>(() => AutoConfig.FromPretrained(path)).Message);
            Assert.Equal(expected, Assert.Throws<DirectoryNotFoundException>(() => AutoModelForSequenceClassification.FromPretrained(path)).Message);
            Assert.Equal(expected, Assert.Throws<DirectoryNotFoundException>(() => AutoTokenizer.FromPretrained(path)).Message);
            Assert.Equal(expected, Assert.Throws<DirectoryNotFoundException>(() => Pipeline("text-classification", model: path)).Message);
        }
        string file = Path.Combine(Fixtures.Model(GoldenChecks.Fixture), "vocab.txt");
        Assert.Equal(
            $"'{file}' is a file; AutoModel.FromPretrained expects the folder that holds config.json and the weights, or a Hub repo id ('org/name').",
            Assert.Throws<ArgumentException>(() => AutoModel.FromPretrained(file)).Message);
    }

    private static float[] MiniBias()
    {
        using var reader = SafetensorsReader.Open(TinyBertCopies.SafetensorsPath);
        return reader.ReadTensor("classifier.bias").ToArray();
    }

    private static Func<string, int, float, float> BiasPlus(float offset) => (name, _, value) => name == "classifier.bias" ? value + offset : value;

    private static string Pointer(string path)
    {
        byte[] content = File.ReadAllBytes(path);
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
        return $"version https://git-lfs.github.com/spec/v1\noid sha256:{sha}\nsize {content.Length}\n";
    }
}
