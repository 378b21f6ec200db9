using System.Net.Sockets;
using AccessLayer.Tests.Shared;

namespace AccessLayer.SessionGrains.Tests;

public sealed class RedisServerProcessTests
{
    [Fact]
    public async Task A_started_server_answers_and_a_killed_one_refuses()
    {
        var redis = await RedisServerProcess.StartAsync();
        await using (redis)
        {
            using (var client = new TcpClient())
            {
                await client.ConnectAsync("127.0.0.1", redis.Port);
            }

            redis.Kill();
            using var refused = new TcpClient();
            await Assert.ThrowsAsync<SocketException>(() => refused.ConnectAsync("127.0.0.1", redis.Port));
        }
    }
}
