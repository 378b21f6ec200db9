using System.Diagnostics;
using System.Text.Json;
using AccessLayer.Gateway.Tests.Broker;
using AccessLayer.Gateway.Tests.Conformance.Harness;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Gateway.Tests.Security;

namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>
/// The lingering close (gateway/Connections/GracefulClose.cs; EpollConnection, and LingeringSocketOutput for
/// connections on Kestrel's socket transport): after the server's last
/// packet and FIN it reads and discards what the peer still sends, so a peer that is still sending reads
/// the reason instead of being reset first.
/// </summary>
public sealed class LingeringCloseTests
{
    [Fact]
    public async Task A_paho_client_bursting_past_Receive_Maximum_reads_DISCONNECT_0x93_not_a_reset()
    {
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:ReceiveMaximum=5");
        await AssertBurstReadsDisconnectAsync(gateway.MqttPort, cafile: null);
    }

    [Fact]
    public async Task On_the_Kestrel_engine_a_paho_client_bursting_past_Receive_Maximum_reads_DISCONNECT_0x93_not_a_reset()
    {
        // Plain TCP on Kestrel's socket transport: the lingering output instead of the epoll engine's.
        await using var gateway = await InProcessGateway.StartAsync("--Mqtt:ReceiveMaximum=5", "--Transport:Engine=Kestrel");
        await AssertBurstReadsDisconnectAsync(gateway.MqttPort, cafile: null);
    }

    [Fact]
    public async Task Over_TLS_a_paho_client_bursting_past_Receive_Maximum_reads_DISCONNECT_0x93_not_a_reset()
    {
        // Kestrel carries TLS: without the lingering output (gateway/Connections/LingeringSocketOutput.cs) it closes
        // both directions right after the DISCONNECT, and the bytes paho is still sending come back as a reset.
        using var pki = TestPki.Create();
        await using var gateway = await GovernedGateway.StartAsync([.. pki.Settings("None"), "--Mqtt:ReceiveMaximum=5"]);
        await AssertBurstReadsDisconnectAsync(gateway.MqttTlsPort, pki.CaPath);
    }

    private static async Task AssertBurstReadsDisconnectAsync(int port, string? cafile)
    {
        // 4,000 QoS 2 PUBLISHes of ~115 bytes: paho is still writing long after the sixth one ends the
        // connection, and the whole burst (~460 KB) stays under the lingering close's byte bound.
        var start = new ProcessStartInfo(PeerPaths.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(PeerPaths.PythonQos2Burst);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("4000");
        if (cafile is not null)
        {
            start.ArgumentList.Add(cafile);
        }

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"paho client failed: {await stderr}");

        using var report = JsonDocument.Parse(output);
        var rc = report.RootElement.GetProperty("rc");
        Assert.True(rc.ValueKind == JsonValueKind.Number, $"no disconnect seen: {output}");
        Assert.Equal(0x93, rc.GetInt32());
    }
}
