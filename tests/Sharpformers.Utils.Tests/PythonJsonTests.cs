using System.Globalization;
using Sharpformers.Utils;

namespace Sharpformers.Utils.Tests;

/// <summary>Expected strings were produced by CPython 3.11 (repr, round, json.dumps).</summary>
public sealed class PythonJsonTests
{
    [Theory]
    [InlineData(5e-05, "5e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(3.0, "3.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(1.0 / 3, "0.3333333333333333")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(123456789.123, "123456789.123")]
    [InlineData(2.5e-07, "2.5e-07")]
    [InlineData(0.6931, "0.6931")]
    [InlineData(1.1917299032211304, "1.1917299032211304")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(1e22, "1e+22")]
    [InlineData(12345678901234567890.0, "1.2345678901234567e+19")]
    [InlineData(0.000123, "0.000123")]
    [InlineData(100.0, "100.0")]
    [InlineData(3.096160888671875, "3.096160888671875")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.NegativeInfinity, "-Infinity")]
    public void FloatsAreWrittenAsPythonRepr(double value, string python) => Assert.Equal(python, PythonJson.FormatFloat(value));

    [Theory]
    [InlineData(0.125, 2, "0.12")]
    [InlineData(2.675, 2, "2.67")]
    [InlineData(0.5, 0, "0.0")]
    [InlineData(1.5, 0, "2.0")]
    [InlineData(2.5, 0, "2.0")]
    [InlineData(0.69314718, 4, "0.6931")]
    [InlineData(1.00005, 4, "1.0001")]
    [InlineData(0.00015, 4, "0.0001")]
    [InlineData(12.3456789, 3, "12.346")]
    [InlineData(-0.125, 2, "-0.12")]
    [InlineData(1234.5, -1, "1230.0")]
    public void RoundMatchesPython(double value, int digits, string python)
    {
        Assert.Equal(double.Parse(python, CultureInfo.InvariantCulture), PythonJson.Round(value, digits));
    }

    [Fact]
    public void DumpsMatchesPythonIndentSortKeysAndAsciiEscapes()
    {
        var value = new Dictionary<string, object?>
        {
            ["b"] = 1,
            ["a"] = new object?[] { 1.0, 5e-05, null, true },
            ["c"] = new Dictionary<string, object?>(),
            ["d"] = Array.Empty<object>(),
            ["é"] = "naïve \u2028 \"q\" \\ \n tab\t",
            ["nan"] = double.NaN,
            ["inf"] = double.PositiveInfinity,
        };
        const string python = "{\n  \"a\": [\n    1.0,\n    5e-05,\n    null,\n    true\n  ],\n  \"b\": 1,\n  \"c\": {},\n  \"d\": [],\n  \"inf\": Infinity,\n  \"nan\": NaN,\n  \"\\u00e9\": \"na\\u00efve \\u2028 \\\"q\\\" \\\\ \\n tab\\t\"\n}";
        Assert.Equal(python, PythonJson.Serialize(value, indent: 2, sortKeys: true));
    }

    [Fact]
    public void PythonSpecialFloatsSurviveStrictParsing()
    {
        string strict = PythonJson.ToStrictJson("{\"a\": NaN, \"b\": [-Infinity, Infinity], \"c\": \"NaN in text\"}");
        using var document = System.Text.Json.JsonDocument.Parse(strict);
        Assert.True(double.IsNaN(PythonJson.SpecialFloat(document.RootElement.GetProperty("a").GetString()!)!.Value));
        Assert.Equal(double.NegativeInfinity, PythonJson.SpecialFloat(document.RootElement.GetProperty("b")[0].GetString()!));
        Assert.Equal("NaN in text", document.RootElement.GetProperty("c").GetString());
        Assert.Null(PythonJson.SpecialFloat("NaN in text"));
    }
}
