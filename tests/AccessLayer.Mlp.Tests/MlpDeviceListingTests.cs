using System.Text.Json;
using AccessLayer.Client;
using AccessLayer.Mlp.Tests.Infrastructure;

namespace AccessLayer.Mlp.Tests;

/// <summary><c>GET /api/v1/devices</c> (the dashboard's device search) against real MLP clients.</summary>
public sealed class MlpDeviceListingTests
{
    [Fact]
    public async Task Connected_devices_are_found_by_a_part_of_their_device_id_or_user_id_whatever_its_case()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        var clients = new List<MlpClient>();
        foreach (var (device, user) in new[] { ("phone-anna", "u-anna"), ("TABLET-anna", "u-anna"), ("phone-ben", "u-ben") })
        {
            var client = new MlpClient(gateway.ClientOptions(device, user));
            await client.ConnectAsync();
            clients.Add(client);
        }

        // Devices, not connections: a client whose first handshake reads slow may add a secondary link.
        await Eventually.TrueAsync(() => gateway.Connections.DeviceCount == 3, "the three devices are bound");
        using var http = gateway.CreateManagementClient();

        Assert.Equal(["phone-anna", "phone-ben"], await DevicesAsync(http, "PHONE"));
        Assert.Equal(["TABLET-anna", "phone-anna"], await DevicesAsync(http, "u-ANNA"));
        Assert.Equal(3, (await DevicesAsync(http, null)).Count);
        using var page = JsonDocument.Parse(await http.GetStringAsync("/api/v1/devices?search=ben"));
        var ben = page.RootElement.GetProperty("items")[0];
        Assert.Equal("u-ben", ben.GetProperty("userId").GetString());
        Assert.Equal(1, page.RootElement.GetProperty("total").GetInt32());

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_device_with_a_secondary_link_is_listed_once()
    {
        await using var gateway = await MlpTestGateway.StartAsync();
        await using var primary = await gateway.OpenRawAsync();
        var welcome = await primary.HandshakeAsync("dual-listed", gateway.TokenFor("dual-listed"));
        await using var secondary = await gateway.OpenRawAsync();
        await secondary.SecondaryHandshakeAsync("dual-listed", welcome);
        await gateway.WaitForConnectionsAsync(2);
        using var http = gateway.CreateManagementClient();

        Assert.Equal(["dual-listed"], await DevicesAsync(http, null));
    }

    private static async Task<List<string>> DevicesAsync(HttpClient http, string? search)
    {
        using var page = JsonDocument.Parse(await http.GetStringAsync("/api/v1/devices" + (search is null ? "" : "?search=" + Uri.EscapeDataString(search))));
        return [.. page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("deviceId").GetString()!)];
    }
}
