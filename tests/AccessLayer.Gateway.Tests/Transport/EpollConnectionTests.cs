using System.Net;
using System.Net.Sockets;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class EpollConnectionTests
{
    [Fact]
    public async Task Endpoints_come_from_the_fd()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();

        Assert.Equal(client.LocalEndPoint, server.RemoteEndPoint);
        Assert.Equal(harness.Engine.EndPoint, server.LocalEndPoint);
    }

    [Fact]
    public async Task Abort_fires_ConnectionClosed_and_the_peer_sees_the_close()
    {
        await using var harness = EpollHarness.Start();
        var (client, server) = await harness.ConnectAsync();
        var closed = new TaskCompletionSource();
        server.ConnectionClosed.Register(closed.SetResult);

        server.Abort();

        await closed.Task.WaitAsync(EpollHarness.Timeout);
        Assert.Empty(await EpollHarness.ReceiveAsync(client, 1));
        Assert.Null(server.RemoteEndPoint);
    }

    [Fact]
    public async Task Features_hold_what_is_set_and_expose_the_transport_interfaces()
    {
        await using var harness = EpollHarness.Start();
        var (_, server) = await harness.ConnectAsync();
        var feature = new ListenerFeature("tcp");

        server.Features.Set<IListenerFeature>(feature);
        server.Features.Set("extra");

        Assert.Same(feature, server.Features.Get<IListenerFeature>());
        Assert.Equal("extra", server.Features.Get<string>());
        Assert.Same(server, server.Features.Get<IConnectionCompleteFeature>());
        Assert.Same(server, server.Features.Get<IRawSocketOptionsFeature>());
        Assert.Same(server.Transport, server.Features.Get<IConnectionTransportFeature>()!.Transport);
        Assert.Equal(2, server.Features.Count(pair => pair.Key == typeof(IListenerFeature) || pair.Key == typeof(string)));
        server.Features.Set<string>(null);
        Assert.Null(server.Features.Get<string>());
    }

    [Fact]
    public async Task Raw_socket_tuning_is_what_the_kernel_reports_through_the_socket_view()
    {
        await using var harness = EpollHarness.Start();
        var (_, server) = await harness.ConnectAsync();
        var limits = new LimitsOptions { TcpKeepAlive = true, TcpKeepAliveTime = TimeSpan.FromSeconds(42), TcpKeepAliveInterval = TimeSpan.FromSeconds(7), TcpKeepAliveRetryCount = 3, TcpUserTimeout = TimeSpan.FromSeconds(11) };

        SocketTuning.Apply(server.Features.Get<IRawSocketOptionsFeature>()!, limits);
        var state = SocketTuning.Read(server.Features.Get<IConnectionSocketFeature>()!.Socket);

        Assert.Equal(new SocketTuningState(true, 42, 7, 3, 11_000), state);
    }

    [Fact]
    public async Task When_the_pipeline_ends_completion_callbacks_run_then_the_fd_is_closed()
    {
        var release = new TaskCompletionSource();
        await using var harness = EpollHarness.Start(body: _ => release.Task);
        var (client, server) = await harness.ConnectAsync();
        var completed = new TaskCompletionSource<object>();
        server.Features.Get<IConnectionCompleteFeature>()!.OnCompleted(state => { completed.SetResult(state); return Task.CompletedTask; }, "state");

        release.SetResult();

        Assert.Equal("state", await completed.Task.WaitAsync(EpollHarness.Timeout));
        Assert.Empty(await EpollHarness.ReceiveAsync(client, 1));
    }

    [Fact]
    public async Task A_failing_pipeline_is_reported_and_its_connection_closed()
    {
        await using var harness = EpollHarness.Start(body: _ => throw new InvalidOperationException("boom"));
        var client = await harness.ConnectClientAsync();

        Assert.Empty(await EpollHarness.ReceiveAsync(client, 1));
        Assert.Contains(harness.Failures, ex => ex.Message == "boom");
    }
}
