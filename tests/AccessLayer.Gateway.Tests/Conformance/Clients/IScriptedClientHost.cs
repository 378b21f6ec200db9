using System.Text.Json;
using System.Text.Json.Nodes;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>
/// Where a library's clients live: an agent process speaking JSON lines (<see cref="AgentHost"/>)
/// or, for a .NET library, this test process (<see cref="MqttNetHost"/>). Both take the same
/// commands and answer with the same results and events, so <see cref="ScriptedClient"/> and the
/// tests are one for every library.
/// </summary>
internal interface IScriptedClientHost : IAsyncDisposable
{
    ScriptedClientKind Kind { get; }

    string NewHandle();

    void Register(string handle, ScriptedClient client);

    void Unregister(string handle);

    /// <summary>Runs one command for one client and waits, bounded, for its result.</summary>
    Task<JsonElement> CallAsync(string handle, string op, JsonObject command, TimeSpan timeout);

    string TranscriptTail(int lines = 30);
}
