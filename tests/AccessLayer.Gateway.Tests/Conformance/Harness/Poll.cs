namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>Bounded polling of a real peer's state: every wait ends, with what was awaited in its message.</summary>
internal static class Poll
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls until <paramref name="ready"/> holds, failing fast if <paramref name="process"/> exits.</summary>
    public static async Task UntilAsync(ChildProcess? process, TimeSpan timeout, string what, Func<CancellationToken, Task<bool>> ready)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            if (process is { HasExited: true }) throw new InvalidOperationException($"the process exited with code {process.ExitCode} before {what}");
            try
            {
                if (await ready(cts.Token)) return;
                await Task.Delay(Interval, TimeProvider.System, cts.Token);
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"not {what} within {timeout.TotalSeconds:0.#} s");
            }
        }
    }

    /// <summary>One probe: true when <paramref name="uri"/> answers 2xx; false when it fails, refuses or this request times out.</summary>
    public static async Task<bool> AnswersOkAsync(HttpClient http, Uri uri, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false; // this request timed out; the overall budget has not
        }
    }
}
