using System.Net;
using AccessLayer.Gateway.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class LeanConnectionTests
{
    private sealed class MarkerFeature;

    private sealed class Feature<T>;

    [Fact]
    public async Task Abort_fires_ConnectionClosed_for_whoever_asked()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = pair.Server.ConnectionClosed.Register(() => closed.TrySetResult());

        pair.Server.Abort();

        await closed.Task.WaitAsync(LoopbackPair.Timeout);
    }

    [Fact]
    public async Task ConnectionClosed_asked_after_abort_is_already_canceled()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        pair.Server.Abort();

        Assert.True(pair.Server.ConnectionClosed.IsCancellationRequested);
    }

    [Fact]
    public async Task Features_round_trip_and_transport_features_resolve_to_the_connection()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var marker = new MarkerFeature();

        pair.Server.Features.Set(marker);

        Assert.Same(marker, pair.Server.Features.Get<MarkerFeature>());
        Assert.Same(pair.Server.Transport, pair.Server.Features.Get<IConnectionTransportFeature>()!.Transport);
        Assert.Contains(pair.Server.Features, f => f.Key == typeof(MarkerFeature));
        pair.Server.Features.Set<MarkerFeature>(null);
        Assert.Null(pair.Server.Features.Get<MarkerFeature>());
    }

    [Fact]
    public async Task More_features_than_the_inline_slots_are_all_kept()
    {
        await using var pair = await LoopbackPair.OpenAsync();
        var features = pair.Server.Features;
        var set = new object[] { new Feature<int>(), new Feature<long>(), new Feature<byte>(), new Feature<char>(), new Feature<bool>(), new Feature<short>(), new Feature<uint>(), new Feature<ulong>() };

        foreach (var feature in set)
        {
            features[feature.GetType()] = feature;
        }

        Assert.All(set, feature => Assert.Same(feature, features[feature.GetType()]));
        Assert.Equal(set.Length, features.Count());
    }

    [Fact]
    public async Task Endpoints_and_id_describe_the_socket()
    {
        await using var pair = await LoopbackPair.OpenAsync();

        Assert.Equal(pair.Client.LocalEndPoint, pair.Server.RemoteEndPoint);
        Assert.Equal(((IPEndPoint)pair.Client.RemoteEndPoint!).Port, ((IPEndPoint)pair.Server.LocalEndPoint!).Port);
        Assert.False(string.IsNullOrEmpty(pair.Server.ConnectionId));
    }

    [Fact]
    public async Task Many_connections_each_echo_their_own_bytes()
    {
        await using var listener = LeanConnectionListener.Bind(new LeanEndPoint(IPAddress.Loopback, 0));
        const int count = 200;
        var servers = Task.Run(async () =>
        {
            var echoes = new List<Task>();
            for (var i = 0; i < count; i++)
            {
                var connection = (await listener.AcceptAsync())!;
                echoes.Add(EchoAsync(connection));
            }

            await Task.WhenAll(echoes);
        });

        var clients = Enumerable.Range(0, count).Select(async i =>
        {
            using var client = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await client.ConnectAsync(listener.EndPoint);
            var message = Enumerable.Repeat((byte)i, 300 + i).ToArray();
            await client.SendAsync(message);
            client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            var echoed = new List<byte>();
            var buffer = new byte[1024];
            int n;
            while ((n = await client.ReceiveAsync(buffer)) > 0)
            {
                echoed.AddRange(buffer[..n]);
            }

            Assert.Equal(message, echoed);
        });

        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(30));
        await servers.WaitAsync(LoopbackPair.Timeout);
    }

    private static async Task EchoAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                segment.Span.CopyTo(output.GetSpan(segment.Length));
                output.Advance(segment.Length);
            }

            input.AdvanceTo(result.Buffer.End);
            await output.FlushAsync();
            if (result.IsCompleted)
            {
                break;
            }
        }

        await output.CompleteAsync();
        await connection.DisposeAsync();
    }
}
