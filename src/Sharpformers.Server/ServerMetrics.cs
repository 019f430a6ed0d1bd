using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Sharpformers.Server;

/// <summary>
/// Counters and histograms for GET /metrics in Prometheus' text exposition format (version 0.0.4):
/// requests by route and status, errors by type, predict latency, batch sizes and forward-pass time,
/// and the queue depth.
/// </summary>
internal sealed class ServerMetrics
{
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] BatchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

    private readonly ConcurrentDictionary<(string Method, string Route, int Status), Counter> requests = new();
    private readonly ConcurrentDictionary<string, Counter> errors = new(StringComparer.Ordinal);
    private readonly Histogram predictDuration = new(LatencyBuckets);
    private readonly Histogram batchSize = new(BatchSizeBuckets);
    private readonly Histogram forwardDuration = new(LatencyBuckets);
    private readonly Counter inputs = new();
    private readonly Counter backendFailures = new();

    /// <summary>Requests waiting for the model (set by the batcher).</summary>
    public int QueueDepth { get; set; }

    public void RecordRequest(string method, string route, int status, string? errorType, double seconds, bool isPredict)
    {
        requests.GetOrAdd((method, route, status), static _ => new Counter()).Increment();
        if (errorType is not null) errors.GetOrAdd(errorType, static _ => new Counter()).Increment();
        if (isPredict) predictDuration.Observe(seconds);
    }

    /// <summary>Requests answered (or, for 499, abandoned by their client) with a status, over every route.</summary>
    public long CountWithStatus(int status) => requests.Where(r => r.Key.Status == status).Sum(r => r.Value.Value);

    public void RecordBatch(int size, double seconds)
    {
        batchSize.Observe(size);
        forwardDuration.Observe(seconds);
        inputs.Add(size);
    }

    public void RecordBackendFailure(Exception e) => backendFailures.Increment();

    /// <summary>The exposition text.</summary>
    public string Render()
    {
        var text = new StringBuilder(4096);
        Header(text, "sharpformers_requests_total", "counter", "HTTP requests answered, by method, route and status.");
        foreach (var ((method, route, status), counter) in requests.OrderBy(r => r.Key.Route, StringComparer.Ordinal).ThenBy(r => r.Key.Method).ThenBy(r => r.Key.Status))
        {
            text.Append(CultureInfo.InvariantCulture, $"sharpformers_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {counter.Value}\n");
        }
        Header(text, "sharpformers_request_errors_total", "counter", "Error responses, by error_type.");
        foreach (var (type, counter) in errors.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"sharpformers_request_errors_total{{error_type=\"{type}\"}} {counter.Value}\n");
        }
        Header(text, "sharpformers_request_duration_seconds", "histogram", "Latency of predict requests, from first byte read to response written.");
        predictDuration.Write(text, "sharpformers_request_duration_seconds");
        Header(text, "sharpformers_batch_size", "histogram", "Inputs per forward pass.");
        batchSize.Write(text, "sharpformers_batch_size");
        Header(text, "sharpformers_forward_duration_seconds", "histogram", "Time of one batched forward pass.");
        forwardDuration.Write(text, "sharpformers_forward_duration_seconds");
        Header(text, "sharpformers_inputs_total", "counter", "Inputs classified.");
        text.Append(CultureInfo.InvariantCulture, $"sharpformers_inputs_total {inputs.Value}\n");
        Header(text, "sharpformers_backend_failures_total", "counter", "Forward passes the model failed.");
        text.Append(CultureInfo.InvariantCulture, $"sharpformers_backend_failures_total {backendFailures.Value}\n");
        Header(text, "sharpformers_queue_depth", "gauge", "Requests waiting for the model.");
        text.Append(CultureInfo.InvariantCulture, $"sharpformers_queue_depth {QueueDepth}\n");
        return text.ToString();
    }

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append("\n# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private sealed class Counter
    {
        private long value;

        public long Value => Interlocked.Read(ref value);

        public void Increment() => Interlocked.Increment(ref value);

        public void Add(long amount) => Interlocked.Add(ref value, amount);
    }

    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] counts = new long[bounds.Length + 1]; // the last is +Inf
        private readonly Lock gate = new();
        private double sum;
        private long count;

        public void Observe(double value)
        {
            int bucket = Array.BinarySearch(bounds, value);
            if (bucket < 0) bucket = ~bucket; // first bound >= value; le is inclusive
            lock (gate)
            {
                counts[bucket]++;
                sum += value;
                count++;
            }
        }

        public void Write(StringBuilder text, string name)
        {
            long[] snapshot;
            double total;
            long n;
            lock (gate)
            {
                snapshot = (long[])counts.Clone();
                total = sum;
                n = count;
            }
            long cumulative = 0;
            for (int i = 0; i < bounds.Length; i++)
            {
                cumulative += snapshot[i];
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"{Number(bounds[i])}\"}} {cumulative}\n");
            }
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"+Inf\"}} {n}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_sum {Number(total)}\n");
            text.Append(CultureInfo.InvariantCulture, $"{name}_count {n}\n");
        }
    }
}
