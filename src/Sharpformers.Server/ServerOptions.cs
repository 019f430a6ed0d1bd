using System.Net;

namespace Sharpformers.Server;

/// <summary>How an <see cref="InferenceServer"/> listens, batches and limits requests. Defaults suit one CPU model server.</summary>
public sealed record ServerOptions
{
    /// <summary>The address to bind: an IP address or "localhost". Loopback by default, so nothing outside the machine can connect.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (see <see cref="InferenceServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Most inputs in one forward pass. Concurrent requests are batched together up to this size.</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>
    /// How long the batcher waits for more inputs once a batch has started and is not full. Longer waits
    /// give fuller batches under light concurrency at the cost of that much latency; zero never waits.
    /// </summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Most requests waiting for the model; one more is answered 503 with Retry-After.</summary>
    public int MaxQueue { get; init; } = 512;

    /// <summary>Most inputs in one request (text-embeddings-inference's max_client_batch_size); more is a 413.</summary>
    public int MaxInputsPerRequest { get; init; } = 256;

    /// <summary>Largest request body in bytes (text-embeddings-inference's payload limit, 2 MB); larger is a 413.</summary>
    public long MaxBodyBytes { get; init; } = 2_000_000;

    /// <summary>How long a graceful stop waits for requests in flight before cutting them off.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The model id /info reports; null derives it from the folder (a Hub cache snapshot gives "org/name").</summary>
    public string? ModelId { get; init; }

    /// <summary>Write one line per request (method, path, status, latency) to <see cref="Log"/>.</summary>
    public bool LogRequests { get; init; } = true;

    /// <summary>Also route ASP.NET Core's own logging (Kestrel, hosting) to <see cref="Log"/>.</summary>
    public bool Verbose { get; init; }

    /// <summary>Where request lines and warnings go; null: standard error.</summary>
    public TextWriter? Log { get; init; }

    /// <summary>
    /// How the model multiplies by its linear layers: float32 (default) or opt-in dynamic int8
    /// quantization (faster, within a fraction of a point of float32's accuracy; see BENCHMARKS.md).
    /// </summary>
    public Nn.Inference.InferencePrecision Precision { get; init; } = Nn.Inference.InferencePrecision.Float32;

    /// <summary>Checks every limit, naming the option that is out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("Host must be an IP address or \"localhost\".", nameof(Host));
        if (!Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(Host, out _))
        {
            throw new ArgumentException($"Host must be an IP address (such as 127.0.0.1) or \"localhost\"; got '{Host}'.", nameof(Host));
        }
        if (Port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(Port), Port, "Port must be between 0 and 65535.");
        if (MaxBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "MaxBatchSize must be at least 1.");
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWait), MaxWait, "MaxWait must be between 0 and 10 seconds.");
        }
        if (MaxQueue < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueue), MaxQueue, "MaxQueue must be at least 1.");
        if (MaxInputsPerRequest < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxInputsPerRequest), MaxInputsPerRequest, "MaxInputsPerRequest must be at least 1.");
        }
        if (MaxBodyBytes < 64) throw new ArgumentOutOfRangeException(nameof(MaxBodyBytes), MaxBodyBytes, "MaxBodyBytes must be at least 64.");
        if (ShutdownTimeout < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "ShutdownTimeout must not be negative.");
    }
}
