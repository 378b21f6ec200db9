using System.Diagnostics;
using System.Net;
using System.Text;
using AccessLayer.Bots.Cli;
using AccessLayer.Bots.Metrics;
using AccessLayer.Client;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// The MLP connections of one run: SDK clients (<see cref="MlpClient"/>) over plain TCP, connected at the
/// paced rate with bounded handshakes in flight, each timed from TCP connect to WELCOME.
/// </summary>
internal sealed class MlpFleet : IAsyncDisposable
{
    private readonly BotOptions _options;
    private readonly BotStats _stats;
    private readonly MlpClient?[] _clients;

    public MlpFleet(BotOptions options, BotStats stats, string runId)
    {
        _options = options;
        _stats = stats;
        RunId = runId;
        _clients = new MlpClient?[options.Count];
    }

    public string RunId { get; }

    /// <summary>The user id every device of the run shares when tokens are minted (push fan-out by user).</summary>
    public string UserId => $"{_options.ClientPrefix}-user-{RunId}";

    public IReadOnlyList<MlpClient?> Clients => _clients;

    public int Established => _clients.Count(c => c is not null);

    public static string DeviceId(BotOptions options, string runId, int index) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{options.ClientPrefix}-{runId}-{index}");

    /// <summary>Connects every client; failures are counted by kind and leave a null slot.</summary>
    public async Task ConnectAsync(Func<int, Func<MlpPush, CancellationToken, ValueTask>?> onPush, CancellationToken cancellationToken)
    {
        var endpoint = new Uri($"tcp://{FormatHost(_options.Host)}:{_options.Port}");
        var interval = _options.ConnectRate > 0 ? Stopwatch.Frequency / _options.ConnectRate : 0;
        var start = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, _options.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, _options.ConnectConcurrency), CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var due = start + (long)(i * interval);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), token);
                }

                var deviceId = DeviceId(_options, RunId, i);
                var client = new MlpClient(new MlpClientOptions
                {
                    Endpoint = endpoint,
                    DeviceId = deviceId,
                    DeviceToken = MintToken(_options, deviceId, UserOf(_options, RunId, i)),
                    Platform = "bots",
                    EnableCompression = _options.Compress,
                    MaxFrameSize = Math.Max(MlpLimits.DefaultMaxFrameSize, _options.PayloadSize + 4096),
                    MaxBodySize = Math.Max(MlpLimits.DefaultMaxBodySize, _options.PayloadSize + 4096),
                    OnPush = onPush(i),
                });
                _stats.ConnectAttempt();
                var began = Stopwatch.GetTimestamp();
                try
                {
                    await client.ConnectAsync(token);
                    _stats.ConnectSucceeded(Stopwatch.GetTimestamp() - began);
                    _clients[i] = client;
                }
                catch (Exception e) when (e is MlpException or IOException or TimeoutException or System.Net.Sockets.SocketException)
                {
                    _stats.ConnectFailed(ErrorKind(e));
                    await client.DisposeAsync();
                }
            });
    }

    /// <summary>A short, stable error name: mlp_{code}, timeout, socket_{error}, io.</summary>
    public static string ErrorKind(Exception e) => e switch
    {
        MlpException m => "mlp_" + m.Code.ToString().ToLowerInvariant(),
        TimeoutException => "timeout",
        System.Net.Sockets.SocketException s => "socket_" + s.SocketErrorCode.ToString().ToLowerInvariant(),
        IOException { InnerException: System.Net.Sockets.SocketException s } => "socket_" + s.SocketErrorCode.ToString().ToLowerInvariant(),
        IOException => "io",
        _ => e.GetType().Name,
    };

    /// <summary>The user id of device <paramref name="index"/>: the run's one user, or its own with --user-per-device.</summary>
    public static string UserOf(BotOptions options, string runId, int index) => options.UserPerDevice
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{options.ClientPrefix}-user-{runId}-{index}")
        : $"{options.ClientPrefix}-user-{runId}";

    /// <summary>A day-long device token signed with --token-secret; empty (anonymous HELLO) without one.</summary>
    public static string MintToken(BotOptions options, string deviceId, string userId)
    {
        if (options.TokenSecret.Length == 0)
        {
            return string.Empty;
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return MlpDeviceToken.Create(
            new DeviceTokenPayload { DeviceId = deviceId, UserId = userId, IssuedAtUnixS = now, ExpiresAtUnixS = now + 86_400 },
            Encoding.UTF8.GetBytes(options.TokenSecret));
    }

    private static string FormatHost(string host) =>
        IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{host}]" : host;

    public async ValueTask DisposeAsync()
    {
        await Parallel.ForEachAsync(_clients.Where(c => c is not null), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (client, _) =>
        {
            try
            {
                await client!.CloseAsync(CancellationToken.None);
            }
            catch (Exception e) when (e is MlpException or IOException or TimeoutException or ObjectDisposedException)
            {
                // Closing is best effort; the gateway notices the socket going away anyway.
            }

            await client!.DisposeAsync();
        });
    }
}
