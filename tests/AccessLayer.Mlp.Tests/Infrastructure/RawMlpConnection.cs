using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>A bare TCP client that writes any bytes and reads whole frames: for hostile and edge-case input.</summary>
internal sealed class RawMlpConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    // Set for a TLS connection (OpenTlsAsync): bytes go through it instead of the socket.
    private SslStream? _tls;
    private readonly byte[] _receive = new byte[256 * 1024];
    private int _buffered;

    private RawMlpConnection(Socket socket) => _socket = socket;

    public HpackEncoder Encoder { get; } = new();

    public HpackDecoder Decoder { get; } = new();

    public static async Task<RawMlpConnection> OpenAsync(int port, int receiveBufferSize = 0)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize > 0)
            socket.ReceiveBufferSize = receiveBufferSize;
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new RawMlpConnection(socket);
    }

    /// <summary>A TLS 1.3 client (SslStream) trusting only <paramref name="ca"/>.</summary>
    public static async Task<RawMlpConnection> OpenTlsAsync(int port, X509Certificate2 ca)
    {
        var connection = await OpenAsync(port);
        var tls = new SslStream(new NetworkStream(connection._socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            EnabledSslProtocols = SslProtocols.Tls13,
            CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, CustomTrustStore = { ca }, RevocationMode = X509RevocationMode.NoCheck },
        });
        connection._tls = tls;
        return connection;
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        if (_tls is not null)
            await _tls.WriteAsync(bytes);
        else
            await _socket.SendAsync(bytes);
    }

    public Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(buffer);
        return SendAsync(buffer.WrittenMemory);
    }

    public static Hello Hello(string deviceId, string token) => new()
    {
        ProtocolVersion = 1,
        DeviceId = deviceId,
        DeviceToken = token,
        Capabilities = new Capabilities { HpackTableSize = 4096, Zstd = true },
    };

    /// <summary>Sends HELLO and expects WELCOME.</summary>
    public async Task<Welcome> HandshakeAsync(string deviceId, string token)
    {
        await SendAsync(w => MlpFrameWriter.WriteHello(w, Hello(deviceId, token)));
        var frame = await ReceiveAsync();
        Assert.Equal(MlpFrameType.Welcome, frame.Type);
        return Welcome.Parser.ParseFrom(frame.Payload);
    }

    /// <summary>Sends a secondary link's HELLO (docs/protocol.md §5.6), resuming with <paramref name="primary"/>'s ticket, and expects WELCOME.</summary>
    public async Task<Welcome> SecondaryHandshakeAsync(string deviceId, Welcome primary)
    {
        var hello = Hello(deviceId, "");
        hello.ResumeTicket = primary.ResumeTicket;
        hello.Secondary = true;
        await SendAsync(w => MlpFrameWriter.WriteHello(w, hello));
        var frame = await ReceiveAsync();
        Assert.Equal(MlpFrameType.Welcome, frame.Type);
        return Welcome.Parser.ParseFrom(frame.Payload);
    }

    public Task SendRequestAsync(uint streamId, IReadOnlyList<HeaderField> headers, ReadOnlyMemory<byte> body, MlpFrameFlags flags = MlpFrameFlags.None)
    {
        var block = new ArrayBufferWriter<byte>();
        Encoder.Encode(headers, block);
        return SendAsync(w => MlpFrameWriter.WriteRequest(w, streamId, flags, block.WrittenSpan, body.Span));
    }

    public sealed record Frame(MlpFrameType Type, MlpFrameFlags Flags, byte[] Payload);

    /// <summary>The next whole frame, or an exception after the timeout; null when the peer closed first.</summary>
    public async Task<Frame?> TryReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (_buffered > 0)
            {
                if (MlpFrameReader.TryParseHeader(_receive.AsSpan(0, _buffered), MlpLimits.AbsoluteMaxFrameSize, out var type, out var flags, out var length, out var headerLength)
                    && _buffered >= headerLength + length)
                {
                    var payload = _receive.AsSpan(headerLength, length).ToArray();
                    _receive.AsSpan(headerLength + length, _buffered - headerLength - length).CopyTo(_receive);
                    _buffered -= headerLength + length;
                    return new Frame(type, flags, payload);
                }
            }

            int read;
            try
            {
                read = _tls is not null
                    ? await _tls.ReadAsync(_receive.AsMemory(_buffered), cts.Token)
                    : await _socket.ReceiveAsync(_receive.AsMemory(_buffered), cts.Token);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                return null;
            }

            if (read == 0)
                return null;
            _buffered += read;
        }
    }

    public async Task<Frame> ReceiveAsync(TimeSpan? timeout = null) => await TryReceiveAsync(timeout) ?? throw new InvalidOperationException("The gateway closed the connection.");

    /// <summary>Expects a GOAWAY with <paramref name="code"/> and then the close.</summary>
    public async Task<GoAway> ExpectGoAwayAndCloseAsync(MlpErrorCode code)
    {
        var frame = await ReceiveAsync();
        Assert.Equal(MlpFrameType.GoAway, frame.Type);
        var goAway = GoAway.Parser.ParseFrom(frame.Payload);
        Assert.Equal(code, goAway.Code);
        Assert.True(await WaitForCloseAsync(), "the gateway should close the connection after GOAWAY");
        return goAway;
    }

    public async Task<bool> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var scratch = new byte[4096];
        try
        {
            while (true)
            {
                if ((_tls is not null ? await _tls.ReadAsync(scratch, cts.Token) : await _socket.ReceiveAsync(scratch, cts.Token)) == 0)
                    return true;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tls?.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
