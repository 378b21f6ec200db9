using AccessLayer.Gateway.Mqtt;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Abstractions;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>The broker's intrusive list of open connections: membership, count, and enumeration under concurrent change.</summary>
public sealed class MqttConnectionListTests
{
    private static MqttConnection[] NewConnections(MqttBroker broker, int count) =>
        Enumerable.Range(0, count).Select(_ => new MqttConnection(new DefaultConnectionContext(), broker, broker.Options, NullLogger.Instance)).ToArray();

    [Fact]
    public async Task Enumerates_every_listed_connection_once_and_counts_them()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var connections = NewConnections(gateway.Broker, 5);
        var list = new MqttConnectionList();
        foreach (var connection in connections)
        {
            list.Add(connection);
        }

        list.Add(connections[2]);

        Assert.Equal(5, list.Count);
        var visited = new List<MqttConnection>();
        foreach (var connection in list)
        {
            visited.Add(connection);
        }

        Assert.Equal(5, visited.Count);
        Assert.Equal(connections.ToHashSet(), visited.ToHashSet());
    }

    [Fact]
    public async Task Remove_unlinks_head_middle_and_tail_and_a_second_remove_is_refused()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var connections = NewConnections(gateway.Broker, 5);
        var list = new MqttConnectionList();
        foreach (var connection in connections)
        {
            list.Add(connection);
        }

        Assert.True(list.Remove(connections[4]));
        Assert.True(list.Remove(connections[2]));
        Assert.True(list.Remove(connections[0]));
        Assert.False(list.Remove(connections[2]));

        Assert.Equal(2, list.Count);
        Assert.Equal(new[] { connections[1], connections[3] }.ToHashSet(), list.ToHashSet());
    }

    [Fact]
    public async Task A_removed_connection_is_not_listed_again()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var connection = NewConnections(gateway.Broker, 1)[0];
        var list = new MqttConnectionList();
        list.Add(connection);
        list.Remove(connection);

        list.Add(connection);

        Assert.Equal(0, list.Count);
        Assert.Empty(list);
    }

    [Fact]
    public async Task An_enumeration_that_removes_as_it_goes_still_visits_every_connection_left()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var connections = NewConnections(gateway.Broker, 50);
        var list = new MqttConnectionList();
        foreach (var connection in connections)
        {
            list.Add(connection);
        }

        // Remove the current connection and the one after it (in list order) at every step.
        var visited = new List<MqttConnection>();
        var removed = new HashSet<MqttConnection>();
        foreach (var connection in list)
        {
            visited.Add(connection);
            list.Remove(connection);
            removed.Add(connection);
            if (connection.ListNext is { } next && list.Remove(next))
            {
                removed.Add(next);
            }
        }

        Assert.Equal(visited.Count, visited.Distinct().Count());
        Assert.Equal(connections.ToHashSet(), removed);
        Assert.Equal(0, list.Count);
        Assert.Empty(list);
    }

    [Fact]
    public async Task Concurrent_adds_removes_and_enumerations_end_with_exactly_the_connections_left()
    {
        await using var gateway = await InProcessGateway.StartAsync();
        var connections = NewConnections(gateway.Broker, 2_000);
        var list = new MqttConnectionList();
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            var passes = 0;
            while (!stop.IsCancellationRequested || passes == 0)
            {
                var seen = new HashSet<MqttConnection>();
                foreach (var connection in list)
                {
                    Assert.True(seen.Add(connection), "an enumeration visited a connection twice");
                }

                passes++;
            }

            return passes;
        });

        await Parallel.ForEachAsync(Enumerable.Range(0, 4), async (worker, _) =>
        {
            await Task.Yield();
            for (var i = worker; i < connections.Length; i += 4)
            {
                list.Add(connections[i]);
                if (i % 3 == 0)
                {
                    list.Remove(connections[i]);
                }
            }
        });
        stop.Cancel();
        Assert.True(await reader > 0);

        var expected = connections.Where((_, i) => i % 3 != 0).ToHashSet();
        Assert.Equal(expected.Count, list.Count);
        Assert.Equal(expected, list.ToHashSet());
    }
}
