using AccessLayer.Gateway.Mlp.Routing;

namespace AccessLayer.Gateway.Mlp;

/// <summary>Runs one request against its service under the request's deadline (on the injected clock); never throws for the service's own failures.</summary>
internal static class MlpRequestExecutor
{
    /// <remarks>One token source per call, the deadline's, which the link's closing also cancels (a registration, not a linked source).</remarks>
    public static async ValueTask<MlpServiceResponse> InvokeAsync(IMlpService service, MlpServiceRequest request, TimeProvider time, ILogger logger, CancellationToken linkClosed)
    {
        using var deadline = new CancellationTokenSource(request.Timeout, time);
        using var closing = linkClosed.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), deadline);
        try
        {
            return await service.InvokeAsync(request, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !linkClosed.IsCancellationRequested)
        {
            MlpLog.BackendFailed(logger, request.Service, request.Operation, "timed out");
            return MlpServiceResponse.Empty(504, "backend timeout");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            MlpLog.ServiceFailed(logger, ex, request.Service, request.Operation);
            return MlpServiceResponse.Empty(500, "service failed");
        }
    }
}
