using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Conformance.Brokers;

/// <summary>
/// A broker under test, running as a child process on a loopback port picked for it.
/// One instance per test class (xunit class fixture); tests name their topics and client
/// ids uniquely so they can share it.
/// </summary>
public abstract class BrokerFixture : IAsyncLifetime
{
    private readonly Dictionary<string, IAsyncDisposable> _shared = [];
    private ChildProcess? _process;

    public string Host => "127.0.0.1";

    public int MqttPort { get; private set; }

    public abstract string Name { get; }

    public virtual BrokerQuirks Quirks => BrokerQuirks.None;

    /// <summary>A mark in the broker's log, to print what it said during one test.</summary>
    public long LogMark => _process?.TranscriptMark ?? 0;

    public IReadOnlyList<string> LogSince(long mark, int maxLines = 200) =>
        _process?.TranscriptSince(mark, maxLines) ?? [];

    public async Task InitializeAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            MqttPort = FreePorts.Next();
            _process = Start(MqttPort);
            try
            {
                await WaitUntilReadyAsync(_process, MqttPort);
                return;
            }
            catch (Exception e)
            {
                var log = _process.TranscriptText(200);
                await _process.DisposeAsync();
                _process = null;
                // A port picked free can be taken before the broker binds it (parallel tests): pick others.
                if (attempt < 4 && log.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                throw new InvalidOperationException($"{Name} did not start on MQTT port {MqttPort}: {e.Message}{Environment.NewLine}{log}", e);
            }
        }
    }

    public async Task DisposeAsync()
    {
        IAsyncDisposable[] shared;
        lock (_shared) shared = [.. _shared.Values];
        foreach (var one in shared) await one.DisposeAsync();
        if (_process is not null) await _process.DisposeAsync();
        Cleanup();
    }

    /// <summary>
    /// Something the tests of this broker share (a client-library host process), created on
    /// first use and disposed with the broker.
    /// </summary>
    internal T Shared<T>(string key, Func<T> create)
        where T : class, IAsyncDisposable
    {
        lock (_shared)
        {
            if (!_shared.TryGetValue(key, out var one)) _shared[key] = one = create();
            return (T)one;
        }
    }

    /// <summary>Starts the broker process listening for MQTT on <paramref name="mqttPort"/>.</summary>
    private protected abstract ChildProcess Start(int mqttPort);

    /// <summary>Returns once the broker serves; throws (bounded) otherwise.</summary>
    private protected abstract Task WaitUntilReadyAsync(ChildProcess process, int mqttPort);

    private protected virtual void Cleanup()
    {
    }

    /// <summary>Polls until <paramref name="ready"/> holds, failing fast if the process exits.</summary>
    private protected static Task PollAsync(ChildProcess process, TimeSpan timeout, string what, Func<CancellationToken, Task<bool>> ready) =>
        Poll.UntilAsync(process, timeout, what, ready);
}
