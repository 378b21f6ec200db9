using AccessLayer.Gateway.Mlp.Routing;

namespace AccessLayer.Gateway.Mlp;

/// <summary>Runs one request against its service under the request's deadline (on the injected clock); never throws for the service's own failures.</summary>
internal static class MlpRequestExecutor
{
    public static async Task<MlpServiceResponse> InvokeAsync(IMlpService service, MlpServiceRequest request, TimeProvider time, ILogger logger, CancellationToken linkClosed)
    {
        using var deadline = new CancellationTokenSource(request.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, linkClosed);
        try
        {
            return await service.InvokeAsync(request, linked.Token).ConfigureAwait(false);
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
