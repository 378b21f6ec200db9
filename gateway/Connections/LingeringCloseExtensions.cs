using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Connections;

internal static class LingeringCloseExtensions
{
    /// <summary>
    /// The lingering close for a listener on Kestrel's socket transport (MQTT over TLS, MQTT on the Kestrel
    /// engine, MLP over TCP): place it after the connection governance and before TLS, so it carries the raw bytes.
    /// </summary>
    public static TBuilder UseLingeringClose<TBuilder>(this TBuilder listen)
        where TBuilder : IConnectionBuilder
    {
        var time = listen.ApplicationServices.GetRequiredService<TimeProvider>();
        listen.Use(next => connection => LingeringSocketOutput.RunAsync(connection, next, time));
        return listen;
    }
}
