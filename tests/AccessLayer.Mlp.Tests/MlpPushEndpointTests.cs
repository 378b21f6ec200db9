using System.Collections.Concurrent;
using System.Net;
using System.Text;
using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;
using AccessLayer.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AccessLayer.Mlp.Tests;

/// <summary>POST /api/v1/push end to end: delivery, ACK, offline queueing, re-delivery after a dropped connection, bounds.</summary>
public sealed class MlpPushEndpointTests
{
    private static string Push(string device, string text, string op = "message.new") =>
        $$"""{"deviceId":"{{device}}","service":"chat","operation":"{{op}}","headers":{"chat-id":"c1"},"payloadText":"{{text}}"}""";

    [Fact]
    public async Task Push_to_a_connected_device_is_delivered_with_sequence_1_and_acknowledged()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var received = new ConcurrentQueue<MlpPush>();
        var options = gateway.ClientOptions("dev-push");
        options.OnPush = (push, _) => { received.Enqueue(push); return ValueTask.CompletedTask; };
        await using var client = new MlpClient(options);
        await client.ConnectAsync();

        var answer = await gateway.PushAsync(Push("dev-push", "hi there"));

        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        Assert.Contains("\"online\":1", await answer.Content.ReadAsStringAsync());
        await Eventually.TrueAsync(() => received.Count == 1, "the push arrives");
        var push = received.Single();
        Assert.Equal(1ul, push.Sequence);
        Assert.Equal("chat", push.Service);
        Assert.Equal("message.new", push.Operation);
        Assert.Contains(push.Headers, h => h.Name == "chat-id" && h.Value == "c1");
        Assert.Equal("hi there", Encoding.UTF8.GetString(push.Body.Span));
        Assert.False(push.Redelivered);
        await Eventually.TrueAsync(async () => await gateway.Sessions.CountAsync("dev-push") == 0, "the ACK empties the session queue");
    }

    [Fact]
    public async Task Pushes_for_an_offline_device_wait_and_arrive_in_order_when_it_connects()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        for (var i = 1; i <= 3; i++)
            Assert.Contains("\"queued\":1", await (await gateway.PushAsync(Push("dev-offline", "m" + i))).Content.ReadAsStringAsync());

        var received = new ConcurrentQueue<MlpPush>();
        var options = gateway.ClientOptions("dev-offline");
        options.OnPush = (push, _) => { received.Enqueue(push); return ValueTask.CompletedTask; };
        await using var client = new MlpClient(options);
        await client.ConnectAsync();

        await Eventually.TrueAsync(() => received.Count == 3, "all queued pushes arrive");
        Assert.Equal(["m1", "m2", "m3"], received.Select(p => Encoding.UTF8.GetString(p.Body.Span)));
        Assert.Equal([1ul, 2ul, 3ul], received.Select(p => p.Sequence));
        await Eventually.TrueAsync(async () => await gateway.Sessions.CountAsync("dev-offline") == 0, "all were acknowledged");
    }

    [Fact]
    public async Task With_a_session_store_that_answers_later_a_push_stored_between_WELCOME_and_the_device_binding_is_delivered()
    {
        // A store that answers asynchronously (as the fleet's does) lets WELCOME go out before the connection takes the
        // device. The gateway logs the connection (2001) in between: the push goes in there, after the client has its
        // WELCOME, so it finds the session open and no connection yet to tell.
        var welcomed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        MlpTestGateway? started = null;
        string? answer = null;
        var fired = 0;
        var logs = new CapturingLoggerProvider
        {
            OnLine = line =>
            {
                // Once: the session's link logs first; a secondary link the SDK may open after it logs 2001 too.
                if (line.EventId.Id != 2001 || line.Scope("DeviceId") as string != "dev-window" || Interlocked.Exchange(ref fired, 1) != 0)
                    return;
                welcomed.Task.Wait(TimeSpan.FromSeconds(10));
                using var response = started!.PushAsync(Push("dev-window", "in the window")).GetAwaiter().GetResult();
                answer = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            },
        };
        await using var gateway = await MlpTestGateway.StartAsync(["--Logging:LogLevel:AccessLayer=Debug"], services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            SlowOpeningSessionStore.Register(services, async () => await Task.Yield());
        });
        started = gateway;
        var received = new ConcurrentQueue<MlpPush>();
        var options = gateway.ClientOptions("dev-window");
        options.OnPush = (push, _) => { received.Enqueue(push); return ValueTask.CompletedTask; };
        await using var client = new MlpClient(options);

        await client.ConnectAsync();
        welcomed.SetResult();

        await Eventually.TrueAsync(() => received.Count == 1, () => $"the push arrives (the push API answered {answer ?? "nothing yet"})");
        Assert.Equal(("in the window", 1ul), (Encoding.UTF8.GetString(received.Single().Body.Span), received.Single().Sequence));
    }

    [Fact]
    public async Task Unacknowledged_push_is_redelivered_after_a_dropped_connection()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var firstSeen = new TaskCompletionSource<MlpPush>(TaskCreationOptions.RunContinuationsAsynchronously);
        var neverDone = new TaskCompletionSource();
        var options = gateway.ClientOptions("dev-redeliver");
        options.OnPush = async (push, closed) =>
        {
            firstSeen.TrySetResult(push);
            // Gives up when the client drops the link (a handler that finished would count as processed and not be shown again).
            await neverDone.Task.WaitAsync(closed);
        };
        await using var client = new MlpClient(options);
        await client.ConnectAsync();
        await gateway.PushAsync(Push("dev-redeliver", "important"));
        Assert.Equal(1ul, (await firstSeen.Task.WaitAsync(TimeSpan.FromSeconds(10))).Sequence);

        // The network drops before the app finished with the push: no ACK was sent.
        client.AbortLink();
        await Eventually.TrueAsync(() => !client.IsConnected, "the client notices the loss");
        await gateway.WaitForConnectionsAsync(0);
        Assert.Equal(1, await gateway.Sessions.CountAsync("dev-redeliver"));

        var again = new TaskCompletionSource<MlpPush>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Options.OnPush = (push, _) => { again.TrySetResult(push); return ValueTask.CompletedTask; };
        await client.ConnectAsync();

        Assert.True(client.SessionResumed);
        var redelivered = await again.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1ul, redelivered.Sequence);
        Assert.True(redelivered.Redelivered);
        Assert.Equal("important", Encoding.UTF8.GetString(redelivered.Body.Span));
        await Eventually.TrueAsync(async () => await gateway.Sessions.CountAsync("dev-redeliver") == 0, "acknowledged on the new connection");
    }

    [Fact]
    public async Task Push_by_user_reaches_every_device_of_that_user()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var seen = new ConcurrentBag<string>();
        var clients = new List<MlpClient>();
        foreach (var device in new[] { "phone", "tablet" })
        {
            var options = gateway.ClientOptions(device, "dave");
            options.OnPush = (push, _) => { seen.Add(device + ":" + Encoding.UTF8.GetString(push.Body.Span)); return ValueTask.CompletedTask; };
            var client = new MlpClient(options);
            await client.ConnectAsync();
            clients.Add(client);
        }

        var answer = await gateway.PushAsync("""{"userId":"dave","service":"mail","operation":"new","payloadBase64":"eW91IGdvdCBtYWls"}""");

        Assert.Contains("\"devices\":2", await answer.Content.ReadAsStringAsync());
        await Eventually.TrueAsync(() => seen.Count == 2, "both devices get it");
        Assert.Equal(["phone:you got mail", "tablet:you got mail"], seen.Order());
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.PushAsync("""{"userId":"nobody","service":"mail","operation":"new"}""")).StatusCode);
        foreach (var client in clients)
            await client.DisposeAsync();
    }

    [Fact]
    public async Task The_per_device_queue_is_bounded_and_drops_the_oldest_waiting_push()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:MaxQueuedPushes=2"]);
        for (var i = 1; i <= 2; i++)
            await gateway.PushAsync(Push("dev-full", "m" + i));

        var third = await gateway.PushAsync(Push("dev-full", "m3"));

        Assert.Contains("\"dropped\":1", await third.Content.ReadAsStringAsync());
        var received = new ConcurrentQueue<string>();
        var options = gateway.ClientOptions("dev-full");
        options.OnPush = (push, _) => { received.Enqueue(Encoding.UTF8.GetString(push.Body.Span)); return ValueTask.CompletedTask; };
        await using var client = new MlpClient(options);
        await client.ConnectAsync();
        await Eventually.TrueAsync(() => received.Count == 2, "the two kept pushes arrive");
        Assert.Equal(["m2", "m3"], received);
    }

    [Fact]
    public async Task Unsequenced_pushes_go_only_to_connected_devices()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var received = new ConcurrentQueue<MlpPush>();
        var options = gateway.ClientOptions("dev-typing");
        options.OnPush = (push, _) => { received.Enqueue(push); return ValueTask.CompletedTask; };
        await using var client = new MlpClient(options);

        var offline = await gateway.PushAsync("""{"deviceId":"dev-typing","service":"chat","operation":"typing","sequenced":false}""");
        Assert.Contains("\"dropped\":1", await offline.Content.ReadAsStringAsync());
        await client.ConnectAsync();
        await gateway.PushAsync("""{"deviceId":"dev-typing","service":"chat","operation":"typing","sequenced":false}""");

        await Eventually.TrueAsync(() => received.Count == 1, "the online one arrives");
        Assert.Equal(0ul, received.Single().Sequence);
    }

    [Theory]
    [InlineData("""{"service":"chat","operation":"x"}""")]
    [InlineData("""{"deviceId":"d","operation":"x"}""")]
    [InlineData("""{"deviceId":"d","service":"chat","operation":"x","payloadBase64":"***"}""")]
    [InlineData("""{"deviceId":"d","service":"chat","operation":"x","headers":{":service":"evil"}}""")]
    [InlineData("""[1,2]""")]
    public async Task Invalid_push_requests_are_400(string json)
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        Assert.Equal(HttpStatusCode.BadRequest, (await gateway.PushAsync(json)).StatusCode);
    }

    [Fact]
    public async Task A_chunked_push_body_past_the_limit_is_refused_with_413_before_it_ends()
    {
        // No Content-Length: without a request body limit the gateway would buffer until the sender stops.
        await using var gateway = await MlpTestGateway.StartAsync();
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.ManagementPort));
        await socket.SendAsync(Encoding.ASCII.GetBytes(
            $"POST /api/v1/push?deviceId=d&service=s&operation=o HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {MlpTestGateway.ManagementToken}\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var chunk = Encoding.ASCII.GetBytes("10000\r\n").Concat(new byte[0x10000]).Concat("\r\n"u8.ToArray()).ToArray();
        var response = new StringBuilder();
        var receive = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var reading = Task.Run(async () =>
        {
            int read;
            while ((read = await socket.ReceiveAsync(receive, timeout.Token)) > 0)
                response.Append(Encoding.ASCII.GetString(receive, 0, read));
        });

        // 4 MiB is sent and the body is never ended: only a limit can answer.
        try
        {
            for (var i = 0; i < 64 && !reading.IsCompleted && response.Length == 0; i++)
                await socket.SendAsync(chunk);
        }
        catch (System.Net.Sockets.SocketException)
        {
            // The gateway answered and closed while we were still sending.
        }

        await Eventually.TrueAsync(() => response.Length > 0 || reading.IsCompleted, "the gateway answers before the body ends");
        Assert.StartsWith("HTTP/1.1 413", response.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_push_store_answers_507_with_the_reason_and_keeps_what_it_holds()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:MaxQueuedPushBytes=65536", "--Mlp:MaxPushStoreBytes=65536"]);
        var big = new string('x', 40_000);
        Assert.Equal(HttpStatusCode.Accepted, (await gateway.PushAsync(Push("dev-full-1", big))).StatusCode);

        var refused = await gateway.PushAsync(Push("dev-full-2", big));

        Assert.Equal(HttpStatusCode.InsufficientStorage, refused.StatusCode);
        Assert.Contains("Mlp:MaxPushStoreBytes", await refused.Content.ReadAsStringAsync());
        Assert.Equal(1, await gateway.Sessions.CountAsync("dev-full-1"));
        Assert.Equal(0, await gateway.Sessions.CountAsync("dev-full-2"));
    }

    [Fact]
    public async Task A_push_to_an_unknown_device_past_the_device_bound_answers_507()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:MaxPushDevices=1"]);
        Assert.Equal(HttpStatusCode.Accepted, (await gateway.PushAsync(Push("dev-known", "a"))).StatusCode);

        var refused = await gateway.PushAsync(Push("dev-unknown", "b"));

        Assert.Equal(HttpStatusCode.InsufficientStorage, refused.StatusCode);
        Assert.Contains("Mlp:MaxPushDevices", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Accepted, (await gateway.PushAsync(Push("dev-known", "c"))).StatusCode);
    }
}
