using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AccessLayer.Tests.Shared;

namespace AccessLayer.Bots.Tests.EndToEnd;

/// <summary>A real mosquitto on a free loopback port with its own config, stopped on dispose.</summary>
public sealed class MosquittoBroker : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    public MosquittoBroker()
    {
        Port = FreePorts.Next();
        _directory = Directory.CreateTempSubdirectory("bots-mosquitto-").FullName;
        var config = Path.Combine(_directory, "mosquitto.conf");
        File.WriteAllText(config, $"""
            listener {Port} 127.0.0.1
            allow_anonymous true
            max_connections -1
            max_queued_messages 1000
            persistence false
            log_dest none
            """);
        var executable = File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
        _process = Process.Start(new ProcessStartInfo(executable, ["-c", config]) { RedirectStandardError = true, RedirectStandardOutput = true })
            ?? throw new InvalidOperationException("mosquitto did not start.");
        WaitUntilListening();
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public void Dispose()
    {
        try
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }


    private void WaitUntilListening()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("mosquitto exited: " + _process.StandardError.ReadToEnd());
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet: a real broker needs a moment.
                Thread.Sleep(20);
            }
        }

        throw new TimeoutException("mosquitto did not start listening.");
    }
}
