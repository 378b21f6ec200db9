using System.IO.Pipelines;
using System.Net.Sockets;

namespace AccessLayer.Client.Transport;

/// <summary>TCP or TLS: a socket stream wrapped in pipes.</summary>
internal sealed class StreamMlpTransport : IMlpTransport, IDuplexPipe
{
    private readonly Socket _socket;
    private readonly Stream _stream;

    public StreamMlpTransport(Socket socket, Stream stream, string name)
    {
        _socket = socket;
        _stream = stream;
        Name = name;
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public IDuplexPipe Pipe => this;

    public string Name { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public void TuneLossRecovery(TimeSpan rtoMin, bool thinLinearTimeouts) => TcpLossRecovery.TryApply(_socket, rtoMin, thinLinearTimeouts);

    public void Abort()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
            _socket.Close(0);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Output.CompleteAsync().ConfigureAwait(false);
        await Input.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }
}
