using Sharpformers.Cli.Infrastructure;
using Sharpformers.Tensors;
using Sharpformers.Tensors.Formats;
using Sharpformers.Utils;

namespace Sharpformers.Cli.Commands;

/// <summary>
/// `sharpformers convert --to safetensors DIR [--output OUT]`: rewrites a model folder's
/// pytorch_model.bin (or its shards and pytorch_model.bin.index.json) as model.safetensors (or as many
/// model-0000i-of-0000n.safetensors shards, grouped as the source's, with model.safetensors.index.json),
/// every tensor bit-identical in its own dtype and checked after writing. The pickle is read by the
/// restricted unpickler, so converting never runs code from the checkpoint. Without --output the
/// safetensors files are added beside the .bin files (which the loader then prefers); with --output a
/// new folder appears complete or not at all, holding the safetensors weights and a copy of the other
/// files (config.json, tokenizer files, …).
/// </summary>
public sealed class ConvertCommand : ICliCommand
{
    public string Name => "convert";

    public string Summary => "Convert a model folder's pytorch_model.bin (sharded or not) to safetensors, bit for bit.";

    public string Usage => "--to safetensors DIR [--output OUT]";

    public IReadOnlyList<CliOption> Options { get; } =
    [
        new("to", "FORMAT", "Target format: safetensors."),
        new("output", "OUT", "Write a new folder OUT (weights + the folder's other files) instead of adding model.safetensors to DIR."),
    ];

    public int Run(ParsedArguments args, CliContext context)
    {
        if (args.GetChoice("to", "safetensors") is null) throw new CliUsageException("missing required option '--to' (safetensors)");
        if (args.Positionals.Count != 1) throw new CliUsageException(args.Positionals.Count == 0 ? "missing DIR (the model folder to convert)" : "give one DIR");
        string folder = Path.GetFullPath(args.Positionals[0]);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder '{folder}' was not found.");
        string source = FindPyTorchWeights(folder);
        string? output = args.Get("output") is { } o ? Path.GetFullPath(o) : null;

        string written;
        if (output is null)
        {
            if (CheckpointFiles.Find(folder) is { } existing && CheckpointNames.FormatOf(existing) == CheckpointFormat.Safetensors)
            {
                throw new IOException(
                    $"'{folder}' already has {Path.GetFileName(existing)}, which loading prefers to {Path.GetFileName(source)}; pass --output OUT to convert into a new folder.");
            }
            written = Convert(source, folder);
        }
        else
        {
            if (output == folder) throw new CliUsageException("--output must differ from DIR (leave it out to add model.safetensors to DIR)");
            if (File.Exists(output) || (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any()))
            {
                throw new IOException($"'{output}' already exists and is not an empty folder; choose a new --output folder.");
            }
            string name = "";
            AtomicDirectory.Create(output, temp =>
            {
                name = Path.GetFileName(Convert(source, temp));
                CopyOtherFiles(folder, temp);
            });
            written = Path.Combine(output, name);
        }
        context.Out.WriteLine(written);
        return CliApp.Success;
    }

    /// <summary>pytorch_model.bin, else pytorch_model.bin.index.json, as loading would choose between them.</summary>
    private static string FindPyTorchWeights(string folder)
    {
        foreach (var candidate in CheckpointNames.Preference.Where(c => c.Format == CheckpointFormat.PyTorch))
        {
            string path = Path.Combine(folder, candidate.Name);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"'{folder}' has no PyTorch weights to convert: expected {CheckpointNames.PyTorchWeights} or {CheckpointNames.PyTorchIndex}.");
    }

    /// <summary>Writes the safetensors weights of <paramref name="source"/> into <paramref name="target"/>; returns the weights file (or index) written.</summary>
    private static string Convert(string source, string target)
    {
        using var reader = CheckpointFiles.OpenFile(source);
        if (!CheckpointNames.IsShardIndex(source))
        {
            string file = Path.Combine(target, CheckpointNames.SafetensorsWeights);
            WriteAndVerify(reader, reader.Tensors.Select(t => t.Name).ToList(), file);
            return file;
        }
        // Shards keep the source's grouping, so each output shard is about as large as its source shard.
        var index = ShardedCheckpointIndex.Read(source);
        var weightMap = new List<KeyValuePair<string, string>>();
        var written = new List<string>();
        try
        {
            for (int i = 0; i < index.ShardNames.Count; i++)
            {
                string shardName = CheckpointNames.ShardName(CheckpointNames.SafetensorsWeights, i + 1, index.ShardNames.Count);
                var names = index.WeightMap.Where(e => e.Value == index.ShardNames[i]).Select(e => e.Key).ToList();
                string file = Path.Combine(target, shardName);
                written.Add(file);
                WriteAndVerify(reader, names, file);
                weightMap.AddRange(names.Select(n => new KeyValuePair<string, string>(n, shardName)));
            }
            long totalSize = reader.Tensors.Sum(t => t.ElementCount * t.DType.SizeOf());
            // The index comes last: until it exists, a reader of the folder still finds only the .bin checkpoint.
            string indexPath = Path.Combine(target, CheckpointNames.SafetensorsIndex);
            ShardedCheckpointIndex.Write(indexPath, totalSize, weightMap);
            return indexPath;
        }
        catch
        {
            foreach (string file in written) File.Delete(file);
            throw;
        }
    }

    /// <summary>Writes the tensors (atomically), then reads the file back and checks every tensor's bytes against the source.</summary>
    private static void WriteAndVerify(ICheckpointReader reader, IReadOnlyList<string> names, string file)
    {
        SafetensorsWriter.Write(file, names.Select(n => new KeyValuePair<string, ITensor>(n, RawTensor.FromCheckpoint(reader, n))));
        try
        {
            using var check = SafetensorsReader.Open(file);
            if (check.Tensors.Count != names.Count) throw new InvalidDataException($"'{file}' was written with {check.Tensors.Count} tensors instead of {names.Count}.");
            foreach (string name in names)
            {
                var info = reader.GetInfo(name);
                var copy = check.GetInfo(name);
                byte[] expected = new byte[info.ElementCount * info.DType.SizeOf()];
                reader.ReadRaw(name, expected);
                if (copy.DType != info.DType || !copy.Shape.SequenceEqual(info.Shape) || !check.RawBytes(name).SequenceEqual(expected))
                {
                    throw new InvalidDataException($"'{file}': tensor '{name}' does not read back identical to the source; the file was removed.");
                }
            }
        }
        catch
        {
            File.Delete(file);
            throw;
        }
    }

    /// <summary>
    /// Copies the folder's top-level files other than weights (config.json, tokenizer files, README, …);
    /// the source's own weights, in either format, are not copied beside the converted ones.
    /// </summary>
    private static void CopyOtherFiles(string folder, string target)
    {
        foreach (string file in Directory.EnumerateFiles(folder))
        {
            string name = Path.GetFileName(file);
            if (IsWeights(name) || File.Exists(Path.Combine(target, name))) continue;
            File.Copy(file, Path.Combine(target, name));
        }
    }

    private static bool IsWeights(string name) =>
        name is CheckpointNames.PyTorchIndex or CheckpointNames.SafetensorsIndex
        || (name.StartsWith("pytorch_model", StringComparison.Ordinal) && name.EndsWith(".bin", StringComparison.Ordinal))
        || (name.StartsWith("model", StringComparison.Ordinal) && name.EndsWith(".safetensors", StringComparison.Ordinal));
}
