namespace Sharpformers.Hub;

/// <summary>
/// An exclusive lock on a file shared by processes: Python's <c>filelock</c> (what huggingface_hub
/// takes around each blob download) and .NET's <c>FileShare.None</c> both use <c>flock(LOCK_EX)</c>
/// on Linux and macOS, so Sharpformers and Python processes exclude each other; on Windows the
/// share mode does the same. The lock file is left in place, as filelock leaves it: deleting it
/// would let a third process lock a fresh inode while a second still holds the old one.
/// </summary>
public sealed class HubFileLock : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
    private readonly FileStream stream;

    private HubFileLock(FileStream stream) => this.stream = stream;

    public string Path => stream.Name;

    /// <summary>
    /// Blocks until the lock is held. <paramref name="onWaiting"/> is told every 10 s that another
    /// process holds it (like huggingface_hub's "Still waiting to acquire lock").
    /// </summary>
    public static async Task<HubFileLock> AcquireAsync(string path, Action<string>? onWaiting, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var waitingSince = DateTime.UtcNow;
        var lastLog = waitingSince;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                return new HubFileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
                var now = DateTime.UtcNow;
                if (now - lastLog >= LogInterval)
                {
                    lastLog = now;
                    onWaiting?.Invoke($"Still waiting for the lock {path}: another process is downloading the same file ({(int)(now - waitingSince).TotalSeconds} s).");
                }
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => stream.Dispose();

    /// <summary>
    /// A lock conflict, not a real I/O failure: EWOULDBLOCK from flock (11 on Linux, 35 on macOS) or
    /// a Windows sharing/lock violation. Other errors (permissions, disk) must surface, not spin.
    /// </summary>
    private static bool IsHeldByAnother(IOException e) => e.HResult is 11 or 35 or unchecked((int)0x80070020) or unchecked((int)0x80070021);
}
