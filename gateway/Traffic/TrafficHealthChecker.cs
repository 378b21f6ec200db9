using System.Collections.Frozen;
using AccessLayer.Gateway.Mlp.Routing;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// With <c>Traffic:HealthCheckPath</c> set, every <c>Traffic:HealthCheckInterval</c> sends <c>GET {endpoint}{path}</c> to
/// each backend endpoint of this node's site in the table in force (other sites' backends are their gateways' business)
/// and records whether it answered 2xx within <c>Traffic:HealthCheckTimeout</c> (<see cref="TrafficEndpointHealth"/>).
/// Driven by the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class TrafficHealthChecker(TrafficTableStore store, TrafficEndpointHealth health, IHttpClientFactory clients, IOptions<TrafficOptions> options, TimeProvider time) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.IsEnabled || string.IsNullOrEmpty(options.Value.HealthCheckPath))
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.HealthCheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await CheckOnceAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One round: every endpoint of the site checked at once.</summary>
    public async Task CheckOnceAsync(CancellationToken cancellationToken)
    {
        if (store.Current is not { } current)
        {
            return;
        }

        var endpoints = current.Table.Zones.Values.Where(z => ReferenceEquals(z.Site, current.Site))
            .SelectMany(z => z.Services.Values)
            .SelectMany(s => s.Blue.Concat(s.Green).Concat(s.Groups.Values.SelectMany(g => g)))
            .ToFrozenSet(StringComparer.Ordinal);
        health.Retain(endpoints);
        await Task.WhenAll(endpoints.Select(e => CheckAsync(e, cancellationToken))).ConfigureAwait(false);
    }

    private async Task CheckAsync(string endpoint, CancellationToken cancellationToken)
    {
        var path = options.Value.HealthCheckPath!.TrimStart('/');
        var uri = new Uri(new Uri(endpoint.EndsWith('/') ? endpoint : endpoint + "/", UriKind.Absolute), path);
        using var deadline = new CancellationTokenSource(options.Value.HealthCheckTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        bool passed;
        try
        {
            using var response = await clients.CreateClient(MlpHttpBackendService.HttpClientName).GetAsync(uri, linked.Token).ConfigureAwait(false);
            passed = response.IsSuccessStatusCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            passed = false;
        }

        health.RecordCheck(endpoint, passed);
    }
}
