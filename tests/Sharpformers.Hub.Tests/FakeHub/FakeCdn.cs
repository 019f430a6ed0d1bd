using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sharpformers.Hub.Tests.FakeHub;

/// <summary>
/// The CDN that LFS downloads are redirected to: a minimal HTTP/1.1 server on its own loopback port
/// (127.0.0.1, port chosen by the OS), so it is another origin than the Hub, as the real CDN is.
/// It is written on raw sockets so a "network failure" can be exact: after N bytes it closes the
/// connection cleanly, the client having been promised the full Content-Length.
/// One request per connection (<c>Connection: close</c>).
/// </summary>
internal sealed class FakeCdn : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, byte[]?> content;
    private readonly Action<RecordedRequest> record;
    private readonly CancellationTokenSource stopping = new();
    private readonly Task acceptLoop;

    public FakeCdn(Func<string, byte[]?> content, Action<RecordedRequest> record)
    {
        this.content = content;
        this.record = record;
        listener.Start();
        acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>Returns the byte count after which to cut the next transfer of a sha, or null.</summary>
    public Func<string, long?> TakeDrop { get; set; } = _ => null;

    public TimeSpan ChunkDelay { get; set; } = TimeSpan.Zero;

    public async ValueTask DisposeAsync()
    {
        stopping.Cancel();
        listener.Stop();
        try
        {
            await acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                string head = await ReadHeadAsync(socket);
                string[] lines = head.Split("\r\n");
                string[] requestLine = lines[0].Split(' ');
                string method = requestLine[0];
                string path = requestLine[1].Split('?', 2)[0];
                string? range = Header(lines, "Range");
                record(new RecordedRequest(method, path, range, Header(lines, "Authorization")));

                string sha = path.StartsWith("/cdn/", StringComparison.Ordinal) ? path["/cdn/".Length..] : "";
                byte[]? body = content(sha);
                if (body is null)
                {
                    await SendAsync(socket, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }
                long start = 0;
                string status = "200 OK";
                string extra = "";
                if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
                {
                    start = long.Parse(range["bytes=".Length..^1]);
                    if (start >= body.Length)
                    {
                        await SendAsync(socket, $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{body.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                        return;
                    }
                    status = "206 Partial Content";
                    extra = $"Content-Range: bytes {start}-{body.Length - 1}/{body.Length}\r\n";
                }
                await SendAsync(socket,
                    $"HTTP/1.1 {status}\r\nContent-Length: {body.Length - start}\r\nAccept-Ranges: bytes\r\n{extra}Connection: close\r\n\r\n");
                if (method != "GET") return;
                long end = body.Length;
                if (TakeDrop(sha) is { } drop) end = Math.Min(end, start + drop);
                for (long offset = start; offset < end; offset += 16384)
                {
                    int count = (int)Math.Min(16384, end - offset);
                    await socket.SendAsync(body.AsMemory((int)offset, count), SocketFlags.None);
                    if (ChunkDelay > TimeSpan.Zero) await Task.Delay(ChunkDelay);
                }
                // A clean FIN: the client has every byte sent so far, then the stream ends early.
                socket.Shutdown(SocketShutdown.Send);
                byte[] drain = new byte[256];
                while (await socket.ReceiveAsync(drain, SocketFlags.None) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                // The client went away; nothing to serve.
            }
        }
    }

    private static async Task<string> ReadHeadAsync(Socket socket)
    {
        var received = new List<byte>();
        byte[] buffer = new byte[4096];
        while (true)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0) throw new IOException("client closed before sending a request");
            received.AddRange(buffer.AsSpan(0, n));
            string text = Encoding.ASCII.GetString(received.ToArray());
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0) return text[..end];
        }
    }

    private static string? Header(string[] lines, string name) =>
        lines.Skip(1).Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase)).Select(l => l[(name.Length + 1)..].Trim()).FirstOrDefault();

    private static async Task SendAsync(Socket socket, string text) => await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);
}
