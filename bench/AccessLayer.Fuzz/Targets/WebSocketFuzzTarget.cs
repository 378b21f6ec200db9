using System.Buffers;
using System.Net.WebSockets;
using AccessLayer.Gateway.Mlp.Connections;
using AccessLayer.Gateway.Transport;
using Microsoft.AspNetCore.Connections;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Fuzz.Targets;

/// <summary>
/// WebSocket framing as the gateway accepts it on <c>/mlp</c>: .NET's server-side WebSocket
/// (<see cref="WebSocket.CreateFromStream(Stream, WebSocketCreationOptions)"/>, what Kestrel's
/// AcceptWebSocketAsync gives, no compression) reading the fuzzed bytes as the client's side of the
/// connection, behind our adapter <see cref="WebSocketPipe"/> with MLP's <see cref="MlpWebSocketFraming"/> (messages read whole up to
/// max_frame_size + 5, text refused, whole MLP frames only), and the connection's frame reader on its
/// output. Mode byte bit 0 picks <c>Mlp:MaxFrameSize</c> of 16 KiB or 128 KiB. The bytes are the client's
/// (masked) frames. Documented errors: <see cref="MlpProtocolException"/> (what the adapter faults its
/// input with), <see cref="ConnectionResetException"/> (its input when the WebSocket layer fails) and
/// <see cref="WebSocketException"/>; anything else escaping the adapter or the reader is a crash.
/// </summary>
public sealed class WebSocketFuzzTarget : IFuzzTarget
{
    private static readonly int[] FrameSizes = [16 * 1024, MlpLimits.DefaultMaxFrameSize];

    private static readonly Lazy<IReadOnlyList<byte[]>> SharedCorpus = new(BuildCorpus);

    public string Name => "websocket";

    public IReadOnlyList<byte[]> Corpus => SharedCorpus.Value;

    public long MaxRetained { get; private set; }

    public long RetainedBound => MlpLimits.DefaultMaxFrameSize;

    public bool IsExpected(Exception exception) => exception is MlpProtocolException or ConnectionResetException or WebSocketException;

    public void Run(in ReadOnlySequence<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var maxFrameSize = FrameSizes[input.FirstSpan[0] & 1];
        RunAsync(input.Slice(1), maxFrameSize).GetAwaiter().GetResult();
    }

    private async Task RunAsync(ReadOnlySequence<byte> bytes, int maxFrameSize)
    {
        using var stream = new FuzzStream(bytes);
        using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        var pipe = new WebSocketPipe(socket, new MlpWebSocketFraming(maxFrameSize));

        // Nothing is sent: with the output completed first, the adapter's send pump ends without waiting,
        // and the receive pump (which runs first, to the end of the bytes) is the only work. This keeps
        // each input on this thread instead of a thread-pool hop per input; the receive side is unchanged.
        await pipe.Output.CompleteAsync();
        var running = pipe.RunAsync(TimeProvider.System, CancellationToken.None);
        try
        {
            while (true)
            {
                var result = await pipe.Input.ReadAsync();
                var buffer = result.Buffer;
                var reader = new SequenceReader<byte>(buffer);
                while (MlpFrameReader.TryRead(ref reader, maxFrameSize, out var frame))
                {
                    MaxRetained = Math.Max(MaxRetained, frame.Payload.Length);
                    if (frame.Payload.Length > maxFrameSize)
                    {
                        throw new FuzzBoundException($"A {frame.Payload.Length}-byte frame passed the {maxFrameSize}-byte limit.");
                    }
                }

                pipe.Input.AdvanceTo(reader.Position, buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            // The connection is done: the adapter closes the socket and its pumps must end without escaping errors.
            await pipe.Input.CompleteAsync();
            await running;
        }
    }

    private static List<byte[]> BuildCorpus()
    {
        var frames = MlpCorpus.ClientFrames();
        var all = frames.SelectMany(f => f).ToArray();
        var corpus = new List<byte[]>();
        var random = new FuzzRandom(0x3E850C7E7, 0);
        foreach (var frame in frames)
        {
            corpus.Add([0, .. WebSocketFrames.Client(ref random, WebSocketFrames.Binary, true, frame)]);
        }

        // Several MLP frames in one message; a message in fragments with a ping between; a close.
        corpus.Add([1, .. WebSocketFrames.Client(ref random, WebSocketFrames.Binary, true, all)]);
        var half = all.Length / 2;
        corpus.Add([1,
            .. WebSocketFrames.Client(ref random, WebSocketFrames.Binary, false, all.AsSpan(0, half)),
            .. WebSocketFrames.Client(ref random, WebSocketFrames.Ping, true, [1, 2, 3]),
            .. WebSocketFrames.Client(ref random, WebSocketFrames.Continuation, true, all.AsSpan(half)),
            .. WebSocketFrames.Client(ref random, WebSocketFrames.Pong, true, []),
            .. WebSocketFrames.Client(ref random, WebSocketFrames.Close, true, [0x03, 0xE8, (byte)'o', (byte)'k'])]);
        corpus.Add([0, .. WebSocketFrames.Client(ref random, WebSocketFrames.Text, true, "hello"u8)]);
        corpus.Add([0, .. WebSocketFrames.Client(ref random, WebSocketFrames.Binary, true, new byte[70_000])]);
        return corpus;
    }

    /// <summary>Reads the fuzzed bytes a segment at a time (as TCP delivers them), then end of stream; writes go nowhere.</summary>
    private sealed class FuzzStream(ReadOnlySequence<byte> bytes) : Stream
    {
        private ReadOnlySequence<byte> _left = bytes;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_left.IsEmpty || buffer.IsEmpty)
            {
                return 0;
            }

            var first = _left.First.Span;
            var n = Math.Min(first.Length, buffer.Length);
            first[..n].CopyTo(buffer);
            _left = _left.Slice(n);
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Write(byte[] buffer, int offset, int count)
        {
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>RFC 6455 frames as a client sends them (masked).</summary>
internal static class WebSocketFrames
{
    public const byte Continuation = 0x0;
    public const byte Text = 0x1;
    public const byte Binary = 0x2;
    public const byte Close = 0x8;
    public const byte Ping = 0x9;
    public const byte Pong = 0xA;

    public static byte[] Client(ref FuzzRandom random, byte opcode, bool fin, ReadOnlySpan<byte> payload)
    {
        var frame = new List<byte>(payload.Length + 14) { (byte)((fin ? 0x80 : 0) | opcode) };
        if (payload.Length < 126)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame.Add(0x80 | 126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        else
        {
            frame.Add(0x80 | 127);
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                frame.Add((byte)((long)payload.Length >> shift));
            }
        }

        Span<byte> mask = stackalloc byte[4];
        random.NextBytes(mask);
        frame.AddRange(mask.ToArray());
        for (var i = 0; i < payload.Length; i++)
        {
            frame.Add((byte)(payload[i] ^ mask[i & 3]));
        }

        return [.. frame];
    }
}
