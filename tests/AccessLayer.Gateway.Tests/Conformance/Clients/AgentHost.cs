using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Harness;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>
/// One client-library process (tests/js/agent.mjs, tests/python/agent.py) hosting many named
/// clients: starting node per client costs ~0.6 s, more than most tests. Shared by the tests
/// of one broker fixture; each test's clients are killed when the test ends, and every
/// command is bounded in time, so a stuck client cannot hang a test.
/// </summary>
internal sealed class AgentHost : IScriptedClientHost
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly ConcurrentDictionary<string, ScriptedClient> _clients = new();
    private ChildProcess _process = null!;
    private int _nextId;
    private int _nextHandle;
    private volatile bool _ended;

    private AgentHost(ScriptedClientKind kind) => Kind = kind;

    public ScriptedClientKind Kind { get; }

    public static AgentHost For(ScriptedClientKind kind, BrokerFixture broker) =>
        broker.Shared($"agent-host:{kind}", () => Start(kind));

    public string NewHandle() => $"h{Interlocked.Increment(ref _nextHandle)}";

    public void Register(string handle, ScriptedClient client) => _clients[handle] = client;

    public void Unregister(string handle) => _clients.TryRemove(handle, out _);

    /// <summary>Sends one command for one client and waits, bounded, for its result.</summary>
    public async Task<JsonElement> CallAsync(string handle, string op, JsonObject command, TimeSpan timeout)
    {
        var id = Interlocked.Increment(ref _nextId);
        command["id"] = id;
        command["client"] = handle;
        command["op"] = op;
        var pending = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = pending;
        if (_ended) FailPending();
        await _process.WriteLineAsync(command.ToJsonString());
        try
        {
            return await pending.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _pending.TryRemove(id, out _);
            throw new TimeoutException($"{handle}: no answer to {op} in {timeout.TotalSeconds:0.#} s");
        }
    }

    public string TranscriptTail(int lines = 30) => _process.TranscriptText(lines);

    public async ValueTask DisposeAsync() => await _process.DisposeAsync();

    private static AgentHost Start(ScriptedClientKind kind)
    {
        var host = new AgentHost(kind);
        var options = new ChildProcessOptions
        {
            Lifetime = Timeout.InfiniteTimeSpan, // the broker fixture ends it
            RedirectStandardInput = true,
            MaxTranscriptLines = 2_000,
            OnStdoutLine = host.OnLine,
            OnStdoutClosed = host.OnEnded,
        };
        if (kind == ScriptedClientKind.MqttJs)
        {
            PeerPaths.RequireMqttJs();
            host._process = ChildProcess.Start($"{kind} host", PeerPaths.Node, [PeerPaths.JsAgent],
                options with { WorkingDirectory = Path.GetDirectoryName(PeerPaths.JsAgent) });
        }
        else
        {
            host._process = ChildProcess.Start($"{kind} host", PeerPaths.Python, ["-u", PeerPaths.PythonAgent], options);
        }
        return host;
    }

    private void OnLine(string line)
    {
        if (!line.StartsWith('{')) return;
        JsonElement e;
        using (var doc = JsonDocument.Parse(line)) e = doc.RootElement.Clone();
        if (e.GetProperty("ev").GetString() == "result")
        {
            if (_pending.TryRemove(e.GetProperty("id").GetInt32(), out var pending)) pending.TrySetResult(e);
        }
        else if (e.TryGetProperty("client", out var handle) && _clients.TryGetValue(handle.GetString()!, out var client))
        {
            client.OnEvent(e);
        }
    }

    private void OnEnded()
    {
        _ended = true;
        FailPending();
        foreach (var client in _clients.Values) client.OnHostEnded();
    }

    private void FailPending()
    {
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var pending))
                pending.TrySetException(new ScriptedClientException($"the {Kind} host process ended{Environment.NewLine}{TranscriptTail()}"));
        }
    }
}
