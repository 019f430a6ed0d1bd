using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Sharpformers.Utils;

/// <summary>
/// A tqdm-style progress bar on standard error:
/// <c>Training  42%|████▏     | 420/1000 [00:12&lt;00:17, 34.52it/s, loss=0.1234]</c>.
/// On a terminal it redraws one line in place; when standard error is redirected (logs, CI) it writes
/// a plain line at most every <see cref="PlainLineInterval"/> so logs stay readable.
/// </summary>
public sealed class ProgressBar : IDisposable
{
    private const int BarWidth = 24;
    private readonly TextWriter writer;
    private readonly bool interactive;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly string description;
    private readonly string unit;
    private long total;
    private long current;
    private string postfix = "";
    private TimeSpan lastDraw = TimeSpan.MinValue;
    private bool finished;

    /// <param name="description">Shown before the bar.</param>
    /// <param name="total">Units of work, or 0 when unknown.</param>
    /// <param name="unit">"it", "B" (bytes: shown as kB/MB), "seq", …</param>
    /// <param name="writer">Defaults to standard error.</param>
    /// <param name="interactive">Defaults to "standard error is a terminal".</param>
    public ProgressBar(string description, long total, string unit = "it", TextWriter? writer = null, bool? interactive = null)
    {
        this.description = description;
        this.total = Math.Max(0, total);
        this.unit = unit;
        this.writer = writer ?? Console.Error;
        this.interactive = interactive ?? (writer is null && !Console.IsErrorRedirected);
    }

    /// <summary>Minimum time between two plain (non-terminal) lines.</summary>
    public TimeSpan PlainLineInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether the progress is drawn in place on a terminal.</summary>
    public bool IsInteractive => interactive;

    public long Current => Interlocked.Read(ref current);

    public void SetTotal(long value) => total = Math.Max(0, value);

    /// <summary>Key=value text shown after the rate, e.g. "loss=0.1234".</summary>
    public void SetPostfix(string text) => postfix = text;

    public void Advance(long amount = 1)
    {
        Interlocked.Add(ref current, amount);
        MaybeDraw(force: false);
    }

    public void Report(long value)
    {
        Interlocked.Exchange(ref current, value);
        MaybeDraw(force: false);
    }

    /// <summary>Draws the final state and ends the line.</summary>
    public void Finish()
    {
        if (finished) return;
        finished = true;
        MaybeDraw(force: true);
        if (interactive) writer.WriteLine();
        writer.Flush();
    }

    public void Dispose() => Finish();

    private void MaybeDraw(bool force)
    {
        var now = clock.Elapsed;
        var interval = interactive ? TimeSpan.FromMilliseconds(100) : PlainLineInterval;
        if (!force && lastDraw != TimeSpan.MinValue && now - lastDraw < interval) return;
        lastDraw = now;
        string line = Render(now);
        lock (writer)
        {
            if (interactive) writer.Write("\r" + line + "\u001b[K");
            else writer.WriteLine(line);
            writer.Flush();
        }
    }

    /// <summary>The text of the bar at the given elapsed time (public for tests).</summary>
    public string Render(TimeSpan elapsed)
    {
        long done = Current;
        var sb = new StringBuilder();
        if (description.Length > 0) sb.Append(description).Append(": ");
        double rate = elapsed.TotalSeconds > 0 ? done / elapsed.TotalSeconds : 0;
        if (total > 0)
        {
            double fraction = Math.Clamp((double)done / total, 0, 1);
            sb.Append(((int)(fraction * 100)).ToString(CultureInfo.InvariantCulture).PadLeft(3)).Append("%|");
            double cells = fraction * BarWidth;
            int full = (int)cells;
            sb.Append('█', full);
            if (full < BarWidth)
            {
                const string partials = " ▏▎▍▌▋▊▉";
                sb.Append(partials[(int)((cells - full) * 8)]);
                sb.Append(' ', BarWidth - full - 1);
            }
            sb.Append("| ").Append(FormatAmount(done)).Append('/').Append(FormatAmount(total));
            TimeSpan? remaining = rate > 0 ? TimeSpan.FromSeconds((total - done) / rate) : null;
            sb.Append(" [").Append(FormatTime(elapsed)).Append('<').Append(remaining is null ? "?" : FormatTime(remaining.Value));
        }
        else
        {
            sb.Append(FormatAmount(done)).Append(" [").Append(FormatTime(elapsed));
        }
        sb.Append(", ").Append(FormatRate(rate)).Append(']');
        if (postfix.Length > 0) sb.Append(' ').Append(postfix);
        return sb.ToString();
    }

    private string FormatAmount(long value) => unit == "B" ? FormatBytes(value) : value.ToString(CultureInfo.InvariantCulture);

    private string FormatRate(double rate) =>
        unit == "B" ? FormatBytes((long)rate) + "/s" : rate.ToString(rate >= 100 ? "F0" : "F2", CultureInfo.InvariantCulture) + unit + "/s";

    private static string FormatBytes(long bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB"];
        double value = bytes;
        int i = 0;
        while (value >= 1000 && i < units.Length - 1)
        {
            value /= 1000;
            i++;
        }
        return value.ToString(i == 0 ? "F0" : "F1", CultureInfo.InvariantCulture) + units[i];
    }

    private static string FormatTime(TimeSpan t) =>
        t.TotalHours >= 1
            ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}"
            : $"{t.Minutes:00}:{t.Seconds:00}";
}
