using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>
/// A TCP forwarder on loopback between a client and the gateway that the test controls, standing in for
/// the path's middleboxes: it can black-hole its flows (bytes silently dropped both ways while both
/// sockets stay open, as behind a NAT that forgot them), reset them, and stop or resume listening.
/// Given a clock and an idle timeout it is such a NAT: a flow idle that long (on that clock) is forgotten
/// when its next bytes arrive.
/// </summary>
internal sealed class LoopbackRelay : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly TimeProvider? _natClock;
    private readonly TimeSpan _natIdleTimeout;
    private readonly ConcurrentQueue<Flow> _flows = new();
    private readonly CancellationTokenSource _stop = new();
    private TcpListener _listener;
    private Task _accepting;
    private int _accepted;
    private long _firstDroppedTimestamp;
    private int _dropped;
    private long _bytesToClients;

    private LoopbackRelay(int targetPort, TcpListener listener, TimeProvider? natClock, TimeSpan natIdleTimeout)
    {
        _targetPort = targetPort;
        _natClock = natClock;
        _natIdleTimeout = natIdleTimeout;
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _accepting = AcceptLoopAsync(listener);
    }

    public int Port { get; }

    public Uri Endpoint => new($"tcp://127.0.0.1:{Port}");

    /// <summary>Client connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary><see cref="Stopwatch"/> timestamp of the first client byte dropped by a black hole (0 before).</summary>
    public long FirstDroppedTimestamp => Interlocked.Read(ref _firstDroppedTimestamp);

    /// <summary>Chunks of client bytes dropped so far.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Bytes relayed from the server back to clients so far.</summary>
    public long BytesToClients => Interlocked.Read(ref _bytesToClients);

    public static LoopbackRelay Start(int targetPort, TimeProvider? natClock = null, TimeSpan natIdleTimeout = default)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new LoopbackRelay(targetPort, listener, natClock, natIdleTimeout);
    }

    /// <summary>New flows are accepted (the TCP handshake succeeds) but silent both ways from the start.</summary>
    public bool SwallowNewFlows { get; set; }

    /// <summary>Every flow open now goes silent both ways; new flows are relayed normally.</summary>
    public void BlackholeAll()
    {
        foreach (var flow in _flows)
            flow.Blackholed = true;
    }

    /// <summary>Every flow open now stops passing the server's bytes (requests still arrive, answers are lost); new flows are relayed normally.</summary>
    public void BlackholeResponses()
    {
        foreach (var flow in _flows)
            flow.ResponsesBlackholed = true;
    }

    /// <summary>The first flow accepted (a client's session link, opened before its secondary) stops passing the server's bytes; the others go on.</summary>
    public void BlackholeResponsesOfFirstFlow() => _flows.First().ResponsesBlackholed = true;

    /// <summary>Resets every open flow (RST to both ends).</summary>
    public void ResetAll()
    {
        foreach (var flow in _flows)
            flow.Reset();
    }

    /// <summary>Closes the listening port: connects are refused until <see cref="Resume"/>.</summary>
    public void StopListening() => _listener.Stop();

    /// <summary>Listens again on the same port.</summary>
    public void Resume()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        _listener = listener;
        _accepting = AcceptLoopAsync(listener);
    }

    private async Task AcceptLoopAsync(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            client.NoDelay = true;
            var flow = new Flow(this, client, server) { Blackholed = SwallowNewFlows };
            _flows.Enqueue(flow);
            flow.Start();
        }
    }

    private void OnDropped(bool fromClient)
    {
        if (!fromClient)
            return;
        Interlocked.CompareExchange(ref _firstDroppedTimestamp, Stopwatch.GetTimestamp(), 0);
        Interlocked.Increment(ref _dropped);
    }

    /// <summary>True when the NAT forgot a flow last active at <paramref name="lastActivity"/> (and records activity now otherwise).</summary>
    private bool NatForgot(ref long lastActivity)
    {
        if (_natClock is null)
            return false;
        var last = Interlocked.Read(ref lastActivity);
        if (last != 0 && _natClock.GetElapsedTime(last) >= _natIdleTimeout)
            return true;
        Interlocked.Exchange(ref lastActivity, _natClock.GetTimestamp());
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var flow in _flows)
            flow.Reset();
        await _accepting;
        _stop.Dispose();
    }

    private sealed class Flow(LoopbackRelay relay, Socket client, Socket server)
    {
        public volatile bool Blackholed;
        public volatile bool ResponsesBlackholed;
        private long _lastActivity;

        public void Start()
        {
            _ = PumpAsync(client, server, fromClient: true);
            _ = PumpAsync(server, client, fromClient: false);
        }

        public void Reset()
        {
            foreach (var socket in new[] { client, server })
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close(0);
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        private async Task PumpAsync(Socket from, Socket to, bool fromClient)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                    if (read == 0)
                        break;
                    if (!fromClient && ResponsesBlackholed)
                        continue;
                    if (Blackholed || relay.NatForgot(ref _lastActivity))
                    {
                        Blackholed = true;
                        relay.OnDropped(fromClient);
                        continue;
                    }

                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
                    if (!fromClient)
                        Interlocked.Add(ref relay._bytesToClients, read);
                }

                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                Reset();
            }
        }
    }
}
