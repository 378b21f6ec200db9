using System.Text;

namespace AccessLayer.Gateway.Mlp;

/// <summary>
/// One connection's recently decoded header names and short values as strings: a client repeats the same
/// fields on every request (indexed from the HPACK table), so the same string comes back instead of a new one.
/// Only the connection's reader uses it.
/// </summary>
internal sealed class MlpHeaderStrings
{
    private const int Slots = 16;
    private const int MaxCachedLength = 32;

    private readonly byte[]?[] _utf8 = new byte[Slots][];
    private readonly string?[] _strings = new string[Slots];
    private int _next;

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
            return string.Empty;
        if (utf8.Length > MaxCachedLength)
            return Encoding.UTF8.GetString(utf8);
        for (var i = 0; i < Slots; i++)
        {
            if (_utf8[i] is { } cached && utf8.SequenceEqual(cached))
                return _strings[i]!;
        }

        var value = Encoding.UTF8.GetString(utf8);
        _utf8[_next] = utf8.ToArray();
        _strings[_next] = value;
        _next = (_next + 1) % Slots;
        return value;
    }
}
