using AccessLayer.Gateway.Governance;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Microsoft.AspNetCore.Connections;

namespace AccessLayer.Gateway.Mlp.Connections;

/// <summary>
/// What an MLP client refused by connection governance is told (docs/protocol.md §5.4: GOAWAY is the one
/// frame a server may send before WELCOME): SERVER_DRAINING with the drain endpoints while the node drains,
/// RATE_LIMITED past the per-address connect rate, OVERLOADED at a connection cap. Then the socket closes.
/// </summary>
internal static class MlpAdmissionRefusal
{
    /// <summary>Retry-after of a refusal for load (the drain one is <c>Mlp:DrainRetryAfterMs</c>).</summary>
    public const uint RetryAfterMs = 1000;

    public static GoAway For(Admission admission, MlpOptions options) => admission switch
    {
        Admission.Draining => MlpDrainParticipant.CreateGoAway(options),
        Admission.RateLimited => new GoAway { Code = MlpErrorCode.RateLimited, Message = "Too many connections from this address; retry later.", RetryAfterMs = RetryAfterMs },
        _ => new GoAway { Code = MlpErrorCode.Overloaded, Message = "The server is at its connection limit; retry later.", RetryAfterMs = RetryAfterMs },
    };

    /// <summary>The refusal hook of the MLP TCP listener: one small frame, written without waiting for the peer to read.</summary>
    public static Func<ConnectionContext, Admission, Task> Writer(IServiceProvider services)
    {
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MlpOptions>>();
        return (connection, admission) =>
        {
            var output = connection.Transport.Output;
            MlpFrameWriter.WriteGoAway(output, For(admission, options.Value));

            // A fresh socket's send buffer takes ~50 bytes at once; a flush that would wait is not waited for.
            var flush = output.FlushAsync();
            return flush.IsCompleted ? output.CompleteAsync().AsTask() : Task.CompletedTask;
        };
    }
}
