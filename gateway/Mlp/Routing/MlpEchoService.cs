using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Gateway.Mlp.Routing;

/// <summary>
/// The built-in <c>echo</c> service: answers 200 with the request body and content type. Operation
/// <c>status</c> answers with the status in the <c>echo-status</c> header instead, for tests.
/// </summary>
internal sealed class MlpEchoService : IMlpService
{
    public const string Name = "echo";

    public ValueTask<MlpServiceResponse> InvokeAsync(MlpServiceRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var status = Answer(request.Headers, out var headers);
        return ValueTask.FromResult(new MlpServiceResponse(status, headers, request.Body));
    }

    /// <summary>
    /// The echo's answer but for the body, which is the request's: synchronous and free of allocations when
    /// the request carries no content type, so the connection answers it inline (no task, no deadline).
    /// </summary>
    public static int Answer(IReadOnlyList<HeaderField> requestHeaders, out IReadOnlyList<HeaderField> responseHeaders)
    {
        var status = 200;
        responseHeaders = [];
        foreach (var header in requestHeaders)
        {
            if (header.Name == "content-type")
                responseHeaders = responseHeaders.Count == 0 ? [header] : [.. responseHeaders, header];
            else if (header.Name == "echo-status" && int.TryParse(header.Value, System.Globalization.CultureInfo.InvariantCulture, out var asked) && asked is >= 100 and <= 999)
                status = asked;
        }

        return status;
    }
}
