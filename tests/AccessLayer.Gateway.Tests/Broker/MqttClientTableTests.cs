using AccessLayer.Gateway.Mqtt;
using AccessLayer.Sessions.Store;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>The broker's client-id table chained through the connections: replace and conditional remove, and lookups under concurrent change.</summary>
public sealed class MqttClientTableTests
{
    private static MqttConnection NewClient(MqttBroker broker, string clientId)
    {
        var connection = new MqttConnection(new DefaultConnectionContext(), broker, broker.Options, NullLogger.Instance);
        connection.Attach(new SessionToken(clientId, 1), default, 0, 0);
        return connection;
    }

    [Fact]
    public async Task A_client_id_maps_to_its_latest_connection_and_only_that_one_removes_it()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var table = new MqttClientTable();
        var first = NewClient(gateway.Broker, "c");
        var second = NewClient(gateway.Broker, "c");
        var other = NewClient(gateway.Broker, "d");

        table["c"] = first;
        table["d"] = other;
        table["c"] = second;

        Assert.Equal(2, table.Count);
        Assert.True(table.TryGetValue("c", out var found));
        Assert.Same(second, found);
        Assert.False(table.TryGetValue("e", out _));
        // The taken-over connection ending must not remove its successor.
        Assert.False(table.TryRemove(new KeyValuePair<string, MqttConnection>("c", first)));
        Assert.True(table.TryRemove(new KeyValuePair<string, MqttConnection>("c", second)));
        Assert.False(table.TryGetValue("c", out _));
        Assert.Equal([other], table.Values);
        Assert.Throws<InvalidOperationException>(() => table["x"] = first);
    }

    [Fact]
    public async Task Lookups_never_miss_a_present_client_while_others_come_and_go_through_resizes()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        // A connection lives in one table (its link is that table's): each round's table gets connections of its own.
        MqttConnection[] NewStable() => Enumerable.Range(0, 64).Select(i => NewClient(gateway.Broker, $"stable-{i}")).ToArray();
        var round = NewRound(NewStable());
        var misses = 0;
        var passes = 0;
        using var done = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                var current = Volatile.Read(ref round);
                foreach (var connection in current.Stable)
                {
                    if (!current.Table.TryGetValue(connection.ClientId!, out var found) || !ReferenceEquals(found, connection))
                    {
                        Interlocked.Increment(ref misses);
                    }
                }

                Interlocked.Increment(ref passes);
            }
        })).ToArray();

        // The readers must be running while the tables grow, or the test proves nothing.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref passes) >= 2, TimeSpan.FromSeconds(10)));

        // Bounded: five fresh tables, each grown from 64 to 8,192 buckets by 4,000 clients that then leave again.
        for (var i = 0; i < 5; i++)
        {
            var current = NewRound(NewStable());
            var churn = Enumerable.Range(0, 4_000).Select(i => NewClient(gateway.Broker, $"churn-{i}")).ToArray();
            Volatile.Write(ref round, current);
            foreach (var connection in churn)
            {
                current.Table[connection.ClientId!] = connection;
            }

            foreach (var connection in churn)
            {
                Assert.True(current.Table.TryRemove(new KeyValuePair<string, MqttConnection>(connection.ClientId!, connection)));
            }
        }

        await done.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Equal(0, misses);
        Assert.Equal(round.Stable.Length, round.Table.Count);
    }

    private static Round NewRound(MqttConnection[] stable)
    {
        var table = new MqttClientTable();
        foreach (var connection in stable)
        {
            table[connection.ClientId!] = connection;
        }

        return new Round(table, stable);
    }

    private sealed record Round(MqttClientTable Table, MqttConnection[] Stable);
}
