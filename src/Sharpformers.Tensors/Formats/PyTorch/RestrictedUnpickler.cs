using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Sharpformers.Tensors.Formats.PyTorch;

/// <summary>
/// A pickle virtual machine (protocols 0–5) that builds plain data only. It never imports or calls
/// anything: the few globals a torch state dict needs are recognised by name and interpreted here
/// (<c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c>,
/// <c>torch._utils._rebuild_parameter</c>, <c>torch.*Storage</c>); any other global, call or object
/// construction stops the load with an InvalidDataException naming it.
/// </summary>
internal sealed class RestrictedUnpickler
{
    public const string AllowedList =
        "collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and torch.*Storage";

    private const string NeverExecutes =
        "Sharpformers never executes code from a checkpoint; convert it to safetensors with a Python installation you trust.";

    /// <summary>The storage classes torch pickles, with the element type each holds.</summary>
    public static readonly IReadOnlyDictionary<string, DType> StorageTypes = new Dictionary<string, DType>(StringComparer.Ordinal)
    {
        ["FloatStorage"] = DType.F32,
        ["HalfStorage"] = DType.F16,
        ["BFloat16Storage"] = DType.BF16,
        ["DoubleStorage"] = DType.F64,
        ["LongStorage"] = DType.I64,
        ["IntStorage"] = DType.I32,
        ["ShortStorage"] = DType.I16,
        ["CharStorage"] = DType.I8,
        ["ByteStorage"] = DType.U8,
        ["BoolStorage"] = DType.Bool,
    };

    private static readonly HashSet<(string, string)> Callables =
    [
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        ("_codecs", "encode"),
    ];

    private readonly byte[] data;
    private readonly string source;
    private readonly Func<PickleTuple, object> persistentLoad;
    private readonly List<object?> stack = [];
    private readonly Stack<int> marks = new();
    private readonly Dictionary<long, object?> memo = [];
    private int position;
    private int opcodeStart;
    private byte opcode;

    /// <param name="data">The pickle bytes.</param>
    /// <param name="source">Names the pickle in messages, e.g. "'model.bin' (archive/data.pkl)".</param>
    /// <param name="persistentLoad">Turns a persistent id tuple into a value (torch's storage records).</param>
    public RestrictedUnpickler(byte[] data, string source, Func<PickleTuple, object> persistentLoad)
    {
        this.data = data;
        this.source = source;
        this.persistentLoad = persistentLoad;
    }

    public object? Load()
    {
        while (true)
        {
            opcodeStart = position;
            if (position >= data.Length)
            {
                throw new InvalidDataException(
                    $"{source}: the pickle is truncated (it ends at byte {position} without its STOP opcode). " +
                    "The file is incomplete or corrupted; download it again.");
            }
            opcode = ReadByte();
            switch (opcode)
            {
                case 0x80: // PROTO
                    int protocol = ReadByte();
                    if (protocol > 5) throw Malformed($"pickle protocol {protocol} is newer than the highest known (5)");
                    break;
                case 0x95: // FRAME: framing is only a buffering hint
                    ReadFixed(8);
                    break;
                case (byte)'.': // STOP
                    if (stack.Count != 1 || marks.Count != 0) throw Malformed($"STOP with {stack.Count} values on the stack (expected 1)");
                    return stack[0];

                case (byte)'(':
                    marks.Push(stack.Count);
                    break;
                case (byte)'0':
                    if (marks.Count > 0 && marks.Peek() == stack.Count) marks.Pop();
                    else Pop();
                    break;
                case (byte)'1':
                    PopMark();
                    break;
                case (byte)'2':
                    Push(Peek());
                    break;

                case (byte)'N':
                    Push(null);
                    break;
                case 0x88:
                    Push(true);
                    break;
                case 0x89:
                    Push(false);
                    break;
                case (byte)'J':
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadFixed(4)));
                    break;
                case (byte)'K':
                    Push((long)ReadByte());
                    break;
                case (byte)'M':
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadFixed(2)));
                    break;
                case (byte)'I':
                    Push(ParseIntLine(ReadLine()));
                    break;
                case (byte)'L':
                    Push(Normalize(ParseBigInteger(ReadLine().TrimEnd('L'))));
                    break;
                case 0x8A: // LONG1
                    Push(Normalize(new BigInteger(ReadFixed(ReadByte()), isUnsigned: false, isBigEndian: false)));
                    break;
                case 0x8B: // LONG4
                    Push(Normalize(new BigInteger(ReadFixed(ReadLength4()), isUnsigned: false, isBigEndian: false)));
                    break;
                case (byte)'G':
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadFixed(8)));
                    break;
                case (byte)'F':
                    Push(ParseDouble(ReadLine()));
                    break;

                case (byte)'X': // BINUNICODE
                    Push(DecodeUtf8(ReadFixed(ReadLength4())));
                    break;
                case 0x8C: // SHORT_BINUNICODE
                    Push(DecodeUtf8(ReadFixed(ReadByte())));
                    break;
                case 0x8D: // BINUNICODE8
                    Push(DecodeUtf8(ReadFixed(ReadLength8())));
                    break;
                case (byte)'V': // UNICODE (raw-unicode-escape)
                    Push(DecodeRawUnicodeEscape(ReadLine()));
                    break;
                case (byte)'T': // BINSTRING (Python 2 str; read as latin-1 text, as torch does with encoding="latin1")
                    Push(Encoding.Latin1.GetString(ReadFixed(ReadLength4())));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(Encoding.Latin1.GetString(ReadFixed(ReadByte())));
                    break;
                case (byte)'S': // STRING (protocol 0 repr)
                    Push(DecodeStringRepr(ReadLine()));
                    break;
                case (byte)'B': // BINBYTES
                    Push(ReadFixed(ReadLength4()).ToArray());
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(ReadFixed(ReadByte()).ToArray());
                    break;
                case 0x8E: // BINBYTES8
                case 0x96: // BYTEARRAY8
                    Push(ReadFixed(ReadLength8()).ToArray());
                    break;

                case (byte)')':
                    Push(new PickleTuple([]));
                    break;
                case 0x85:
                    Push(new PickleTuple([Pop()]));
                    break;
                case 0x86:
                {
                    object? b = Pop(), a = Pop();
                    Push(new PickleTuple([a, b]));
                    break;
                }
                case 0x87:
                {
                    object? c = Pop(), b = Pop(), a = Pop();
                    Push(new PickleTuple([a, b, c]));
                    break;
                }
                case (byte)'t':
                    Push(new PickleTuple(PopMark().ToArray()));
                    break;
                case (byte)']':
                    Push(new PickleList());
                    break;
                case (byte)'l':
                {
                    var list = new PickleList();
                    list.AddRange(PopMark());
                    Push(list);
                    break;
                }
                case (byte)'a':
                {
                    object? item = Pop();
                    PeekAs<PickleList>("APPEND").Add(item);
                    break;
                }
                case (byte)'e':
                {
                    var items = PopMark();
                    PeekAs<PickleList>("APPENDS").AddRange(items);
                    break;
                }
                case (byte)'}':
                    Push(new PickleDict());
                    break;
                case (byte)'d':
                {
                    var items = PopMark();
                    var dict = new PickleDict();
                    AddPairs(dict, items, "DICT");
                    Push(dict);
                    break;
                }
                case (byte)'s':
                {
                    object? value = Pop(), key = Pop();
                    PeekAs<PickleDict>("SETITEM").Set(CheckKey(key), value);
                    break;
                }
                case (byte)'u':
                {
                    var items = PopMark();
                    AddPairs(PeekAs<PickleDict>("SETITEMS"), items, "SETITEMS");
                    break;
                }
                case 0x8F: // EMPTY_SET
                    Push(new PickleList());
                    break;
                case 0x90: // ADDITEMS
                {
                    var items = PopMark();
                    PeekAs<PickleList>("ADDITEMS").AddRange(items);
                    break;
                }
                case 0x91: // FROZENSET
                {
                    var set = new PickleList();
                    set.AddRange(PopMark());
                    Push(set);
                    break;
                }

                case (byte)'p':
                    memo[ParseMemoIndex(ReadLine())] = Peek();
                    break;
                case (byte)'q':
                    memo[ReadByte()] = Peek();
                    break;
                case (byte)'r':
                    memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadFixed(4))] = Peek();
                    break;
                case 0x94: // MEMOIZE
                    memo[memo.Count] = Peek();
                    break;
                case (byte)'g':
                    Push(FromMemo(ParseMemoIndex(ReadLine())));
                    break;
                case (byte)'h':
                    Push(FromMemo(ReadByte()));
                    break;
                case (byte)'j':
                    Push(FromMemo(BinaryPrimitives.ReadUInt32LittleEndian(ReadFixed(4))));
                    break;

                case (byte)'c': // GLOBAL
                {
                    string module = ReadLine();
                    string name = ReadLine();
                    Push(ResolveGlobal(module, name));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    object? name = Pop(), module = Pop();
                    if (module is not string m || name is not string n) throw Malformed("STACK_GLOBAL needs two strings (module and name)");
                    Push(ResolveGlobal(m, n));
                    break;
                }
                case (byte)'R': // REDUCE
                {
                    object? args = Pop(), callable = Pop();
                    if (args is not PickleTuple arguments) throw Malformed($"REDUCE needs an argument tuple, got {Describe(args)}");
                    Push(Call(callable, arguments));
                    break;
                }
                case (byte)'b': // BUILD
                {
                    object? state = Pop();
                    object? target = Peek();
                    // state_dict() carries its _metadata as instance attributes of the OrderedDict: harmless, ignored.
                    if (target is PickleDict && state is PickleDict or null) break;
                    throw Refused($"the pickle sets the state of {Describe(target)} (BUILD), which is not allowed");
                }
                case (byte)'Q': // BINPERSID
                    Push(LoadPersistent(Pop()));
                    break;
                case (byte)'P': // PERSID
                    Push(LoadPersistent(ReadLine()));
                    break;

                case 0x81: // NEWOBJ
                case 0x92: // NEWOBJ_EX
                {
                    if (opcode == 0x92) Pop();
                    Pop();
                    object? cls = Pop();
                    throw Refused($"the pickle instantiates '{Describe(cls)}' ({OpcodeName(opcode)}), which is not allowed");
                }
                case (byte)'o': // OBJ
                {
                    var items = PopMark();
                    throw Refused($"the pickle instantiates '{(items.Count > 0 ? Describe(items[0]) : "?")}' (OBJ), which is not allowed");
                }
                case (byte)'i': // INST
                {
                    string module = ReadLine();
                    string name = ReadLine();
                    throw Refused($"the pickle instantiates '{module}.{name}' (INST), which is not allowed");
                }
                case 0x82:
                case 0x83:
                case 0x84: // EXT1/2/4
                {
                    int size = opcode == 0x82 ? 1 : opcode == 0x83 ? 2 : 4;
                    var code = ReadFixed(size);
                    long value = size == 1 ? code[0] : size == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(code) : BinaryPrimitives.ReadInt32LittleEndian(code);
                    throw Refused($"the pickle uses the copyreg extension registry ({OpcodeName(opcode)} code {value}), which is not allowed");
                }
                case 0x97: // NEXT_BUFFER
                case 0x98: // READONLY_BUFFER
                    throw Malformed($"{OpcodeName(opcode)} needs out-of-band buffers, which torch checkpoints never use");

                default:
                    throw new InvalidDataException(
                        $"{source}: unknown pickle opcode 0x{opcode:X2} at byte {opcodeStart}. This is not a pickle torch writes; " +
                        "the file is corrupted or not a PyTorch checkpoint.");
            }
        }
    }

    private object ResolveGlobal(string module, string name)
    {
        if (module == "torch" && StorageTypes.ContainsKey(name)) return new PickleGlobal(module, name);
        if (Callables.Contains((module, name))) return new PickleGlobal(module, name);
        if (module == "torch" && name.EndsWith("Storage", StringComparison.Ordinal))
        {
            throw new InvalidDataException(
                $"{source}: tensors of storage type 'torch.{name}' are not supported (supported: " +
                $"{string.Join(", ", StorageTypes.Keys.Select(k => "torch." + k))}).");
        }
        throw Refused($"the pickle references the global '{module}.{name}', which is not allowed (only {AllowedList} are)");
    }

    private object? Call(object? callable, PickleTuple args)
    {
        if (callable is not PickleGlobal global) throw Refused($"the pickle calls {Describe(callable)} (REDUCE), which is not an allowed function");
        switch (global.Module, global.Name)
        {
            case ("collections", "OrderedDict"):
            {
                var dict = new PickleDict();
                if (args.Count == 1 && args[0] is PickleList pairs)
                {
                    foreach (var pair in pairs)
                    {
                        if (pair is not PickleTuple { Count: 2 } kv) throw Malformed("OrderedDict() expects (key, value) pairs");
                        dict.Set(CheckKey(kv[0]), kv[1]);
                    }
                }
                else if (args.Count != 0)
                {
                    throw Malformed($"OrderedDict() called with {args.Count} unexpected arguments");
                }
                return dict;
            }
            case ("torch._utils", "_rebuild_tensor_v2"):
            case ("torch._utils", "_rebuild_tensor"):
                // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
                if (args.Count < 4) throw Malformed($"{global.FullName} expects at least 4 arguments, got {args.Count}");
                if (args[0] is not TorchStorage storage) throw Malformed($"{global.FullName}: the first argument must be a storage, got {Describe(args[0])}");
                return new TorchTensor(storage, AsLong(args[1], "storage_offset"), AsLongs(args[2], "size"), AsLongs(args[3], "stride"));
            case ("torch._utils", "_rebuild_parameter"):
            case ("torch._utils", "_rebuild_parameter_with_state"):
                if (args.Count < 1 || args[0] is not TorchTensor tensor) throw Malformed($"{global.FullName} expects a tensor as its first argument");
                return tensor;
            case ("_codecs", "encode"):
                if (args.Count == 2 && args[0] is string text && args[1] is "latin1" or "latin-1") return Encoding.Latin1.GetBytes(text);
                throw Malformed("_codecs.encode is only supported as encode(str, 'latin1'), the way protocol 2 pickles bytes");
            default:
                throw Refused($"the pickle calls '{global.FullName}' (REDUCE), which is only allowed as a storage type, not as a function");
        }
    }

    private object LoadPersistent(object? pid)
    {
        if (pid is not PickleTuple tuple) throw Malformed($"a persistent id must be a tuple, got {Describe(pid)}");
        return persistentLoad(tuple);
    }

    private void AddPairs(PickleDict dict, List<object?> items, string op)
    {
        if (items.Count % 2 != 0) throw Malformed($"{op} with an odd number of items ({items.Count})");
        for (int i = 0; i < items.Count; i += 2) dict.Set(CheckKey(items[i]), items[i + 1]);
    }

    private object? CheckKey(object? key) => key is PickleDict or PickleList
        ? throw Malformed($"a dict key is {Describe(key)}, which is unhashable")
        : key;

    private long AsLong(object? value, string what) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw Malformed($"tensor {what} must be an integer, got {Describe(value)}"),
    };

    private long[] AsLongs(object? value, string what) => value switch
    {
        PickleTuple t => t.Items.Select(v => AsLong(v, what)).ToArray(),
        PickleList l => l.Select(v => AsLong(v, what)).ToArray(),
        _ => throw Malformed($"tensor {what} must be a tuple of integers, got {Describe(value)}"),
    };

    public static string Describe(object? value) => value switch
    {
        null => "None",
        PickleGlobal g => g.FullName,
        string => "a str",
        long or BigInteger => "an int",
        double => "a float",
        bool => "a bool",
        byte[] => "bytes",
        PickleTuple => "a tuple",
        PickleList => "a list",
        PickleDict => "a dict",
        TorchStorage => "a storage",
        TorchTensor => "a tensor",
        _ => value.GetType().Name,
    };

    private InvalidDataException Refused(string what) => new($"{source} is not a plain PyTorch state dict: {what}. {NeverExecutes}");

    private InvalidDataException Malformed(string detail) =>
        new($"{source}: malformed pickle at byte {opcodeStart} ({OpcodeName(opcode)}): {detail}.");

    private InvalidDataException Truncated() =>
        new($"{source}: the pickle is truncated (it ends inside {OpcodeName(opcode)} at byte {opcodeStart}, before its STOP opcode). " +
            "The file is incomplete or corrupted; download it again.");

    private void Push(object? value) => stack.Add(value);

    private object? Pop()
    {
        int floor = marks.Count > 0 ? marks.Peek() : 0;
        if (stack.Count <= floor) throw Malformed("the stack is empty");
        object? value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private object? Peek()
    {
        int floor = marks.Count > 0 ? marks.Peek() : 0;
        if (stack.Count <= floor) throw Malformed("the stack is empty");
        return stack[^1];
    }

    private T PeekAs<T>(string op) where T : class =>
        Peek() as T ?? throw Malformed($"{op} applies to {Describe(Peek())}");

    private List<object?> PopMark()
    {
        if (marks.Count == 0) throw Malformed("no MARK to pop to");
        int mark = marks.Pop();
        var items = stack.GetRange(mark, stack.Count - mark);
        stack.RemoveRange(mark, stack.Count - mark);
        return items;
    }

    private object? FromMemo(long index) =>
        memo.TryGetValue(index, out var value) ? value : throw Malformed($"memo slot {index} was never stored");

    private byte ReadByte()
    {
        if (position >= data.Length) throw Truncated();
        return data[position++];
    }

    private ReadOnlySpan<byte> ReadFixed(long count)
    {
        if (count < 0 || count > data.Length - position) throw Truncated();
        var span = data.AsSpan(position, (int)count);
        position += (int)count;
        return span;
    }

    private long ReadLength4() => BinaryPrimitives.ReadUInt32LittleEndian(ReadFixed(4));

    private long ReadLength8()
    {
        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(ReadFixed(8));
        return length > (ulong)data.Length ? throw Truncated() : (long)length;
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(data, (byte)'\n', position);
        if (end < 0) throw Truncated();
        string line = Encoding.Latin1.GetString(data, position, end - position);
        position = end + 1;
        return line;
    }

    private string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed("a string is not valid UTF-8");
        }
    }

    private object ParseIntLine(string line)
    {
        // Protocol 0 spells booleans as INT 01 / 00.
        if (line == "01") return true;
        if (line == "00") return false;
        return Normalize(ParseBigInteger(line));
    }

    private BigInteger ParseBigInteger(string text) =>
        BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Malformed($"'{text}' is not an integer");

    private double ParseDouble(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : text switch
            {
                "inf" => double.PositiveInfinity,
                "-inf" => double.NegativeInfinity,
                "nan" => double.NaN,
                _ => throw Malformed($"'{text}' is not a float"),
            };

    private long ParseMemoIndex(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long index) ? index : throw Malformed($"'{text}' is not a memo index");

    private static object Normalize(BigInteger value) => value >= long.MinValue && value <= long.MaxValue ? (long)value : value;

    private string DecodeRawUnicodeEscape(string latin1)
    {
        var sb = new StringBuilder(latin1.Length);
        for (int i = 0; i < latin1.Length; i++)
        {
            if (latin1[i] == '\\' && i + 1 < latin1.Length && latin1[i + 1] is 'u' or 'U')
            {
                int digits = latin1[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits <= latin1.Length && int.TryParse(latin1.AsSpan(i + 2, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code)
                    && code <= 0x10FFFF)
                {
                    sb.Append(char.ConvertFromUtf32(code));
                    i += 1 + digits;
                    continue;
                }
            }
            sb.Append(latin1[i]);
        }
        return sb.ToString();
    }

    private string DecodeStringRepr(string repr)
    {
        if (repr.Length < 2 || repr[0] != repr[^1] || repr[0] is not ('\'' or '"')) throw Malformed("STRING needs a quoted string");
        string body = repr[1..^1];
        var sb = new StringBuilder(body.Length);
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\' || i + 1 >= body.Length)
            {
                sb.Append(c);
                continue;
            }
            char next = body[++i];
            switch (next)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '0': sb.Append('\0'); break;
                case 'x' when i + 2 < body.Length + 0 && int.TryParse(body.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int hex):
                    sb.Append((char)hex);
                    i += 2;
                    break;
                default: sb.Append(next); break;
            }
        }
        return sb.ToString();
    }

    public static string OpcodeName(byte op) => op switch
    {
        0x80 => "PROTO", 0x95 => "FRAME", (byte)'.' => "STOP", (byte)'(' => "MARK", (byte)'0' => "POP", (byte)'1' => "POP_MARK",
        (byte)'2' => "DUP", (byte)'N' => "NONE", 0x88 => "NEWTRUE", 0x89 => "NEWFALSE", (byte)'J' => "BININT", (byte)'K' => "BININT1",
        (byte)'M' => "BININT2", (byte)'I' => "INT", (byte)'L' => "LONG", 0x8A => "LONG1", 0x8B => "LONG4", (byte)'G' => "BINFLOAT",
        (byte)'F' => "FLOAT", (byte)'X' => "BINUNICODE", 0x8C => "SHORT_BINUNICODE", 0x8D => "BINUNICODE8", (byte)'V' => "UNICODE",
        (byte)'T' => "BINSTRING", (byte)'U' => "SHORT_BINSTRING", (byte)'S' => "STRING", (byte)'B' => "BINBYTES", (byte)'C' => "SHORT_BINBYTES",
        0x8E => "BINBYTES8", 0x96 => "BYTEARRAY8", (byte)')' => "EMPTY_TUPLE", 0x85 => "TUPLE1", 0x86 => "TUPLE2", 0x87 => "TUPLE3",
        (byte)'t' => "TUPLE", (byte)']' => "EMPTY_LIST", (byte)'l' => "LIST", (byte)'a' => "APPEND", (byte)'e' => "APPENDS",
        (byte)'}' => "EMPTY_DICT", (byte)'d' => "DICT", (byte)'s' => "SETITEM", (byte)'u' => "SETITEMS", 0x8F => "EMPTY_SET",
        0x90 => "ADDITEMS", 0x91 => "FROZENSET", (byte)'p' => "PUT", (byte)'q' => "BINPUT", (byte)'r' => "LONG_BINPUT", 0x94 => "MEMOIZE",
        (byte)'g' => "GET", (byte)'h' => "BINGET", (byte)'j' => "LONG_BINGET", (byte)'c' => "GLOBAL", 0x93 => "STACK_GLOBAL",
        (byte)'R' => "REDUCE", (byte)'b' => "BUILD", (byte)'Q' => "BINPERSID", (byte)'P' => "PERSID", 0x81 => "NEWOBJ", 0x92 => "NEWOBJ_EX",
        (byte)'o' => "OBJ", (byte)'i' => "INST", 0x82 => "EXT1", 0x83 => "EXT2", 0x84 => "EXT4", 0x97 => "NEXT_BUFFER", 0x98 => "READONLY_BUFFER",
        _ => $"opcode 0x{op:X2}",
    };
}
