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
        var status = 200;
        List<HeaderField> headers = [];
        foreach (var header in request.Headers)
        {
            if (header.Name == "content-type")
                headers.Add(header);
            else if (header.Name == "echo-status" && int.TryParse(header.Value, System.Globalization.CultureInfo.InvariantCulture, out var asked) && asked is >= 100 and <= 999)
                status = asked;
        }

        return ValueTask.FromResult(new MlpServiceResponse(status, headers, request.Body));
    }
}
