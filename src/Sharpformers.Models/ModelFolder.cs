namespace Sharpformers.Models;

/// <summary>Where a model name or path points: the one place a Hub lookup can plug in later.</summary>
public static class ModelFolder
{
    /// <summary>The full path of a local model folder; FileNotFoundException when there is none.</summary>
    public static string Resolve(string pathOrName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrName);
        if (Directory.Exists(pathOrName)) return Path.GetFullPath(pathOrName);
        throw new FileNotFoundException(
            $"Model folder '{pathOrName}' was not found. Expected a local folder holding config.json and model.safetensors (as saved by save_pretrained).");
    }
}
