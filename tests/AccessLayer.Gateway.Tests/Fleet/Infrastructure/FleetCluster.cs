using System.Net;
using System.Net.Http.Headers;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Gateway.Tests.Fleet.Infrastructure;

/// <summary>
/// A fleet for one test: a real <c>redis-server</c> and N real gateway processes joined to it
/// (<c>Fleet:Redis</c>, a <c>Fleet:ClusterId</c> of their own), each on its own loopback ports.
/// Nothing is shared with other tests. Disposal kills every process, removes Redis' directory and
/// writes each node's output tail to the test output (shown when the test fails).
/// </summary>
internal sealed class FleetCluster : IAsyncDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(2);

    private readonly ITestOutputHelper? _output;
    private readonly List<FleetNode> _nodes;
    private readonly HttpClient _http = new() { Timeout = RequestTimeout };

    private FleetCluster(RedisServerProcess redis, string clusterId, string managementToken, List<FleetNode> nodes, ITestOutputHelper? output)
    {
        Redis = redis;
        ClusterId = clusterId;
        ManagementToken = managementToken;
        _nodes = nodes;
        _output = output;
    }

    public RedisServerProcess Redis { get; }

    public string ClusterId { get; }

    /// <summary>Every node's <c>Management:Token</c>.</summary>
    public string ManagementToken { get; }

    public IReadOnlyList<FleetNode> Nodes => _nodes;

    /// <summary>
    /// Starts Redis, then <paramref name="nodeCount"/> nodes in parallel, and returns once every node is ready
    /// (<c>/readyz</c> 200, MQTT and MLP accepting). <paramref name="extraArgs"/> (<c>--Section:Key=value</c>) go to every node.
    /// </summary>
    public static async Task<FleetCluster> StartAsync(int nodeCount, IEnumerable<string>? extraArgs = null, ITestOutputHelper? output = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        var redis = await RedisServerProcess.StartAsync();
        var clusterId = "test-" + Guid.NewGuid().ToString("N")[..12];
        var token = Guid.NewGuid().ToString("N");
        string[] settings = [$"--Fleet:Redis={redis.Endpoint}", $"--Fleet:ClusterId={clusterId}", .. extraArgs ?? []];
        var starting = Enumerable.Range(0, nodeCount).Select(i => FleetNode.StartAsync(i, token, settings)).ToArray();
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            // The nodes that did start are killed; a failed one already disposed itself.
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            await redis.DisposeAsync();
            throw;
        }

        return new FleetCluster(redis, clusterId, token, [.. starting.Select(t => t.Result)], output);
    }

    /// <summary>
    /// Waits until every running node reports exactly <paramref name="count"/> active members
    /// (<c>GET /api/v1/fleet/nodes</c> on its management port), and returns one node's view.
    /// </summary>
    public async Task<IReadOnlyList<FleetMember>> WaitForMembersAsync(int count, TimeSpan timeout)
    {
        IReadOnlyList<FleetMember> agreed = [];
        var lastViews = "";
        try
        {
            await Poll.UntilAsync(null, timeout, $"{count} active members in every node's view", async ct =>
            {
                var views = new List<(FleetNode Node, bool NoEndpoint, IReadOnlyList<FleetMember>? Members)>();
                foreach (var node in _nodes.Where(n => n.IsRunning))
                {
                    var (noEndpoint, members) = await MembersAsync(node, ct);
                    views.Add((node, noEndpoint, members));
                }

                lastViews = string.Join(Environment.NewLine, views.Select(v => $"{v.Node.Name}: {(v.NoEndpoint ? "no fleet endpoint (404)" : v.Members is null ? "no answer" : string.Join(", ", v.Members))}"));
                if (views.Count == 0)
                {
                    return false;
                }

                if (views.Any(v => v.Members is null || v.Members.Count(m => m.IsActive) != count))
                {
                    return false;
                }

                agreed = views[0].Members!;
                return true;
            });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last views:{Environment.NewLine}{lastViews}{Environment.NewLine}{LogTails()}", e);
        }

        return agreed;
    }

    /// <summary>Every node's recent output, for a failure message.</summary>
    public string LogTails(int maxLines = 60) => string.Join(Environment.NewLine, _nodes.Select(n => n.LogTail(maxLines)));

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask()));
        if (_output is not null)
        {
            try
            {
                _output.WriteLine(LogTails(200));
            }
            catch (InvalidOperationException)
            {
                // The test is over and its output closed.
            }
        }

        await Redis.DisposeAsync();
        _http.Dispose();
    }

    /// <summary>
    /// The sum of the series of a metric on the node's <c>/metrics</c> (0 when it has none yet): every series of
    /// <paramref name="series"/>, or only those starting with it when it opens a label set (<c>name{reason="x"</c>).
    /// </summary>
    public async Task<double> MetricAsync(FleetNode node, string series)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.ManagementUri, "metrics"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ManagementToken);
        using var response = await _http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var sum = 0.0;
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.StartsWith(series, StringComparison.Ordinal) && line.Length > series.Length
                && (series.Contains('{', StringComparison.Ordinal) || line[series.Length] is ' ' or '{'))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>A node's view of the fleet: none when it has no fleet endpoint (404) or does not answer (yet).</summary>
    private async Task<(bool NoEndpoint, IReadOnlyList<FleetMember>? Members)> MembersAsync(FleetNode node, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node.ManagementUri, "api/v1/fleet/nodes"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ManagementToken);
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (response.StatusCode == HttpStatusCode.NotFound, null);
            }

            return (false, FleetMember.ParseList(await response.Content.ReadAsStringAsync(cancellationToken)));
        }
        catch (HttpRequestException)
        {
            return (false, null);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, null);
        }
    }
}
