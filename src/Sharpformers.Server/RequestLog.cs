using System.Globalization;
using System.Text;
using System.Threading.Channels;

namespace Sharpformers.Server;

/// <summary>
/// Writes log lines from a background task, so request threads never wait on a slow standard error.
/// Bounded: under a flood the newest lines are dropped (and counted) rather than memory growing.
/// </summary>
internal sealed class RequestLog : IAsyncDisposable
{
    private const int Capacity = 10_000;

    private readonly TextWriter writer;
    private readonly Channel<string> lines = Channel.CreateBounded<string>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.DropWrite,
    });
    private readonly Task pump;
    private long dropped;

    public RequestLog(TextWriter writer)
    {
        this.writer = writer;
        pump = Task.Run(PumpAsync);
    }

    public void Write(string line)
    {
        if (!lines.Writer.TryWrite(line)) Interlocked.Increment(ref dropped);
    }

    /// <summary>One request: time, method, path, status, latency, and the error type of an error.</summary>
    public void Request(string method, string path, int status, double seconds, string? errorType)
    {
        var line = new StringBuilder(96);
        line.Append(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(' ')
            .Append(method).Append(' ').Append(Printable(path)).Append(' ')
            .Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append((seconds * 1000).ToString("0.0", CultureInfo.InvariantCulture)).Append(" ms");
        if (errorType is not null) line.Append(' ').Append(errorType);
        Write(line.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        lines.Writer.TryComplete();
        await pump.ConfigureAwait(false);
        long lost = Interlocked.Read(ref dropped);
        if (lost > 0)
        {
            writer.WriteLine($"warning: {lost} log lines were dropped because standard error could not keep up");
            writer.Flush();
        }
    }

    private async Task PumpAsync()
    {
        var reader = lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line)) writer.WriteLine(line);
            writer.Flush();
        }
    }

    /// <summary>A path fit for one log line: control characters escaped (no forged lines), long paths cut.</summary>
    private static string Printable(string path)
    {
        if (path.Length > 200) path = path[..200] + "...";
        if (!path.Any(char.IsControl)) return path;
        var sb = new StringBuilder(path.Length);
        foreach (char c in path) sb.Append(char.IsControl(c) ? $"\\x{(int)c:X2}" : c);
        return sb.ToString();
    }
}
