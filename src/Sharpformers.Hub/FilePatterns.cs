using System.Text;
using System.Text.RegularExpressions;

namespace Sharpformers.Hub;

/// <summary>
/// Python's <c>fnmatch</c> as <c>huggingface_hub.utils.filter_repo_objects</c> uses it: <c>*</c>
/// matches anything (including '/'), <c>?</c> one character, <c>[seq]</c> / <c>[!seq]</c> a set;
/// case-sensitive; a pattern ending in '/' means everything under that folder.
/// </summary>
public static class FilePatterns
{
    /// <summary>Whether <paramref name="path"/> matches the fnmatch <paramref name="pattern"/>.</summary>
    public static bool IsMatch(string path, string pattern) => ToRegex(pattern).IsMatch(path);

    /// <summary>
    /// The items kept by <c>filter_repo_objects</c>: matching at least one allow pattern (all when
    /// none are given) and no ignore pattern.
    /// </summary>
    public static IEnumerable<string> Filter(IEnumerable<string> items, IReadOnlyList<string>? allowPatterns, IReadOnlyList<string>? ignorePatterns)
    {
        var allow = (allowPatterns ?? []).Select(p => ToRegex(AddWildcardToDirectory(p))).ToList();
        var ignore = (ignorePatterns ?? []).Select(p => ToRegex(AddWildcardToDirectory(p))).ToList();
        foreach (string item in items)
        {
            if (allow.Count > 0 && !allow.Any(r => r.IsMatch(item))) continue;
            if (ignore.Any(r => r.IsMatch(item))) continue;
            yield return item;
        }
    }

    private static string AddWildcardToDirectory(string pattern) => pattern.EndsWith('/') ? pattern + "*" : pattern;

    /// <summary>fnmatch.translate: the whole string must match.</summary>
    private static Regex ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    int j = i + 1;
                    if (j < pattern.Length && pattern[j] == '!') j++;
                    if (j < pattern.Length && pattern[j] == ']') j++;
                    while (j < pattern.Length && pattern[j] != ']') j++;
                    if (j >= pattern.Length)
                    {
                        sb.Append(@"\[");
                        break;
                    }
                    string set = pattern[(i + 1)..j];
                    i = j;
                    bool negate = set.StartsWith('!');
                    if (negate) set = set[1..];
                    sb.Append('[').Append(negate ? "^" : "").Append(set.Replace(@"\", @"\\").Replace("^", @"\^").Replace("[", @"\[")).Append(']');
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        sb.Append('$');
        return new Regex(sb.ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }
}
