using System.Diagnostics;
using AccessLayer.Gateway.Connections;
using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Telemetry;
using AccessLayer.Protocol.Hpack;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace AccessLayer.Benchmarks.Telemetry;

/// <summary>
/// The MLP request span with nobody listening (no <c>Otlp:Endpoint</c>: the default) and with a tracer provider
/// sampling every trace (no exporter: the span is made and dropped); and a connection's logging scope, begun
/// once per connection.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class TelemetrySpanBenchmarks
{
    private static readonly HeaderField[] Headers = [new("content-type", "application/x-protobuf"), new("accept-language", "en")];
    private TracerProvider? _tracing;
    private ILoggerFactory _logging = null!;
    private ILogger _logger = null!;
    private static readonly Action<ILogger, Exception?> Line = LoggerMessage.Define(LogLevel.Information, new EventId(1), "connected");
    private ILogger _connectionLogger = null!;

    [Params(false, true)]
    public bool Traced { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Traced)
            _tracing = Sdk.CreateTracerProviderBuilder().AddSource(GatewayTelemetry.SourceName).SetSampler(new AlwaysOnSampler()).Build();
        // The gateway's console logger: it takes the factory's scopes, so a scope is pushed whatever the level.
        _logging = LoggerFactory.Create(b => b.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        _logger = _logging.CreateLogger("bench");
        _connectionLogger = new Scope(_logger);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tracing?.Dispose();
        _logging.Dispose();
    }

    [Benchmark(Description = "MLP request span start + end")]
    public void RequestSpan() => MlpRequestSpan.End(MlpRequestSpan.Start("orders", "create", "link", "device-1", Headers), 200);

    [Benchmark(Description = "a line through a connection's logger (its scope opened for the line)")]
    public void ConnectionLine() => Line(_connectionLogger, null);

    private sealed class Scope(ILogger inner) : ConnectionLogScope(inner)
    {
        protected override string IdKey => "ClientId";

        protected override string? Id => "device-1";

        protected override string ConnectionId => "0HN1";

        protected override string NodeId => "S127.0.0.1:11111:1";
    }
}
