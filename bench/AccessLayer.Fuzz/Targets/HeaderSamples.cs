using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Fuzz.Targets;

/// <summary>Header lists like an app's requests and responses: pseudo-headers, repeats, a long value, non-ASCII.</summary>
internal static class HeaderSamples
{
    public static readonly HeaderField[][] Lists =
    [
        [new(":service", "feed"), new(":operation", "list"), new("timeout-ms", "3000"), new("content-type", "application/json")],
        [new(":service", "feed"), new(":operation", "like"), new("x-trace-id", "4bf92f3577b34da6a3ce929d0e0e4736"), new("authorization", "Bearer abc.def.ghi")],
        [new(":service", "chat"), new(":operation", "send"), new("x-trace-id", "00f067aa0ba902b7"), new("accept-language", "zh-CN,zh;q=0.9")],
        [new(":status", "200"), new("content-type", "application/json"), new("cache-control", "no-cache"), new("set-cookie", "a=b; Path=/; HttpOnly")],
        [new(":method", "GET"), new(":path", "/index.html"), new(":authority", "example.com"), new("user-agent", new string('u', 300))],
        [new("x-unicode", "天気予報"), new("x-empty", ""), new("x-repeat", "1"), new("x-repeat", "2"), new("x-repeat", "3")],
    ];
}
