using System.Globalization;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AccessLayer.Client;
using AccessLayer.Client.Internal;
using AccessLayer.Mlp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AccessLayer.Mlp.Tests;

/// <summary>
/// The per-socket RTO floor (docs/sdk.md "TCP loss recovery", docs/configuration.md <c>Mlp:TcpRtoMin</c>) on real loopback
/// sockets, read back as the kernel's own retransmission timeout (<c>ss -ti</c>'s <c>rto:</c>): on loopback that is about the
/// floor itself, 200 ms and more with the kernel's default. Needs a kernel with <c>TCP_RTO_MIN_US</c> (Linux 6.15+); elsewhere
/// the tests only check that nothing fails.
/// </summary>
public sealed partial class MlpTcpLossRecoveryTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(60, 0)]
    [InlineData(0, 60)]
    public async Task Each_side_sets_its_own_RTO_floor_on_the_long_link_and_zero_leaves_the_kernels(int gatewayMs, int sdkMs)
    {
        await using var gateway = await MlpTestGateway.StartAsync([$"--Mlp:TcpRtoMin={TimeSpan.FromMilliseconds(gatewayMs):c}"]);
        var options = gateway.ClientOptions("dev-rto");
        options.WeakNetwork.TcpRtoMin = TimeSpan.FromMilliseconds(sdkMs);
        await using var client = new MlpClient(options);
        await client.ConnectAsync();
        // The kernel computes the RTO from an RTT sample: exchanges after the option is set give it some.
        for (var i = 0; i < 3; i++)
            await client.PingAsync();
        if (!KernelHasRtoMin())
            return;

        await Eventually.TrueAsync(
            () => Expected(Rto($"sport = :{gateway.MlpPort}"), gatewayMs) && Expected(Rto($"dport = :{gateway.MlpPort}"), sdkMs),
            () => $"gateway side rto {Rto($"sport = :{gateway.MlpPort}")} ms (floor {gatewayMs}), client side {Rto($"dport = :{gateway.MlpPort}")} ms (floor {sdkMs})");
    }

    [Fact]
    public async Task The_fallbacks_sockets_get_the_floor_on_both_ends()
    {
        await using var gateway = await MlpTestGateway.StartAsync(["--Mlp:TcpRtoMin=00:00:00.060"]);
        using var http = MlpHttpFallback.CreateClient(new MlpWeakNetworkOptions { TcpRtoMin = TimeSpan.FromMilliseconds(60) });
        for (var i = 0; i < 3; i++)
            using (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, new Uri(gateway.HttpBase, "mlp/v1/request"))))
            {
            }

        if (!KernelHasRtoMin())
            return;
        await Eventually.TrueAsync(
            () => Expected(Rto($"sport = :{gateway.HttpPort}"), 60) && Expected(Rto($"dport = :{gateway.HttpPort}"), 60),
            () => $"gateway side rto {Rto($"sport = :{gateway.HttpPort}")} ms, client side {Rto($"dport = :{gateway.HttpPort}")} ms (floor 60)");
    }

    /// <summary>A floor of n ms: an RTO of at least n and well under the kernel's 200 ms; 0: the kernel's (200 ms or more).</summary>
    private static bool Expected(double? rto, int floorMs) => rto is { } value && (floorMs == 0 ? value >= 200 : value >= floorMs && value < 150);

    /// <summary>The largest <c>rto:</c> of the established loopback sockets matching <paramref name="filter"/> (ss's filter syntax).</summary>
    private double? Rto(string filter)
    {
        using var ss = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("ss", ["-tinH", "state", "established", filter]) { RedirectStandardOutput = true })!;
        var text = ss.StandardOutput.ReadToEnd();
        ss.WaitForExit(5000);
        var values = RtoPattern().Matches(text).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        output.WriteLine($"ss {filter}: rto {string.Join(", ", values)}");
        return values.Count == 0 ? null : values.Max();
    }

    private static bool KernelHasRtoMin()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetRawSocketOption(6, 45, BitConverter.GetBytes(50_000));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"\brto:(\d+(?:\.\d+)?)")]
    private static partial Regex RtoPattern();
}
