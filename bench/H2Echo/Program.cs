using AccessLayer.H2Echo;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// The HTTP/2 peer of the MLP side-by-side: plain Kestrel, h2c with prior knowledge, POST /echo answers
// 200 with the request body. `--port P` picks the loopback port; `--stats FILE` gets "bytes_in bytes_out
// connections" (socket payload totals) rewritten whenever a connection ends. No routing, no logging on the hot path.
var port = 8090;
string? statsFile = null;
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--port" && int.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out var p))
    {
        port = p;
    }
    else if (args[i] == "--stats")
    {
        statsFile = args[i + 1];
    }
}

var counting = new CountingTransport(statsFile);

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
    kestrel.ListenLocalhost(port, listen =>
    {
        listen.Protocols = HttpProtocols.Http2;
        listen.Use(next => connection => counting.OnConnectionAsync(connection, next));
    });
});
var app = builder.Build();
app.Run(async context =>
{
    if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path != "/echo")
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return;
    }

    context.Response.ContentType = context.Request.ContentType;
    if (context.Request.ContentLength is { } length)
    {
        context.Response.ContentLength = length;
    }

    await context.Request.BodyReader.CopyToAsync(context.Response.BodyWriter, context.RequestAborted);
});
await app.RunAsync();
