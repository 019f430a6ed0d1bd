# Regenerates UnicodeTables.Generated.cs from Python's unicodedata (run with the Python version whose
# Unicode data the goldens used: Python 3.11 = Unicode 14.0.0).
#   python3 UnicodeTables.py > UnicodeTables.Generated.cs
# It needs a list of the runtime's categories to compare against; produce it with the .NET snippet in the
# comment at the end of this file (CharUnicodeInfo.GetUnicodeCategory for every code point, one name a line).
import sys, unicodedata

NET_NAMES = ["Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Zs", "Zl", "Zp", "Cc", "Cf",
             "Cs", "Co", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Cn"]


def ranges_where(predicate):
    out, start = [], None
    for cp in range(0x110000):
        if predicate(cp):
            if start is None:
                start = cp
        elif start is not None:
            out.append((start, cp - 1))
            start = None
    return out


def fmt(rs):
    lines, line = [], "       "
    for a, b in rs:
        s = " 0x%X, 0x%X," % (a, b)
        if len(line) + len(s) > 110:
            lines.append(line)
            line = "       "
        line += s
    lines.append(line)
    return "\n".join(lines)


net = [l.strip() for l in open(sys.argv[1] if len(sys.argv) > 1 else "netcat.txt")]
py = lambda cp: unicodedata.category(chr(cp))
combining = ranges_where(lambda cp: unicodedata.combining(chr(cp)) != 0)
cn = ranges_where(lambda cp: py(cp) == "Cn" and net[cp] != "Cn")
mn = ranges_where(lambda cp: py(cp) == "Mn" and net[cp] != "Mn")
print("combining", len(combining), "cn", len(cn), "mn", len(mn), file=sys.stderr)
# (the C# template is the file header of UnicodeTables.Generated.cs; fill in fmt(combining), fmt(cn), fmt(mn))
print(fmt(combining)); print(); print(fmt(cn)); print(); print(fmt(mn))

# .NET snippet producing netcat.txt:
#   for (int cp = 0; cp < 0x110000; cp++) Console.WriteLine(cp is >= 0xD800 and <= 0xDFFF ? "Cs"
#       : names[(int)CharUnicodeInfo.GetUnicodeCategory(cp)]);
