using AccessLayer.Client.Transport;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;

namespace AccessLayer.Client.Internal;

/// <summary>One connect of an <see cref="MlpClient"/>: the candidates raced, the handshake on the first transport connected (docs/sdk.md "Connection establishment").</summary>
internal static class MlpConnector
{
    /// <summary>
    /// The race and handshake within one dynamic connect timeout (docs/sdk.md "Dynamic timeouts"): with the resume ticket when one
    /// is held; a rejected ticket is dropped and the connect made again with the device token.
    /// </summary>
    public static async Task<(MlpLink Link, Welcome Welcome)> ResumeOrLogInAsync(MlpClient client, CancellationToken cancellationToken)
    {
        var useTicket = !client.ResumeTicket.IsEmpty;
        var connectTimeout = client.Timeouts.ForConnect(client.Options.ConnectTimeout);
        while (true)
        {
            try
            {
                return await RaceAsync(client, MlpHello.Build(client, useTicket), connectTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (MlpException ex) when (useTicket && ex.Code == MlpErrorCode.ResumeRejected && !string.IsNullOrEmpty(client.Options.DeviceToken))
            {
                client.ResumeTicket = ReadOnlyMemory<byte>.Empty;
                useTicket = false;
            }
        }
    }

    /// <summary>Fetches the dictionary the WELCOME recommends when the client lacks it; without it bodies go plain or dictionary-less until a later connection gets it.</summary>
    public static async Task FetchRecommendedDictionaryAsync(MlpClient client, MlpLink link, Welcome welcome, CancellationToken cancellationToken)
    {
        if (!client.Options.EnableCompression || welcome.DictionaryId == 0 || client.Bodies.Holds(welcome.DictionaryId))
            return;
        try
        {
            await link.FetchDictionaryAsync(welcome.DictionaryId, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or MlpException or IOException)
        {
        }
    }

    /// <summary>
    /// Transports to the candidates raced (docs/sdk.md "Connection establishment"); on the first one connected
    /// the HELLO, and when it gets no WELCOME within the connect timeout (or fails), on the next one connected.
    /// One HELLO at a time: a second HELLO of this device would take the session over from the first.
    /// </summary>
    public static async Task<(MlpLink, Welcome)> RaceAsync(MlpClient client, Hello hello, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var options = client.Options;
        var weak = options.WeakNetwork;
        var candidates = await client.EndpointList.CandidatesAsync(weak.ConnectionRacing && options.TransportFactory is IMlpAddressTransportFactory, weak.Resolver, cancellationToken).ConfigureAwait(false);
        if (!weak.ConnectionRacing)
            candidates = candidates.Take(1).ToList();
        // While a call waits for the link, attempts that hear nothing are followed by fresh ones (docs/sdk.md "Reconnect").
        await using var race = new MlpConnectionRace(options.TransportFactory, candidates, weak.ConnectionAttemptDelay, connectTimeout, options.TimeProvider, cancellationToken, client.FreshAttempts, () => client.LinkChanges.Waiting > 0);
        race.Start();
        Exception? failure = null;
        while (await race.NextAsync().ConfigureAwait(false) is { } connected)
        {
            connected.Transport.TuneLossRecovery(weak.TcpRtoMin, weak.TcpThinLinearTimeouts);
            var link = new MlpLink(connected.Transport, client);
            try
            {
                var welcome = await link.HandshakeAsync(hello, connectTimeout, cancellationToken).ConfigureAwait(false);
                client.EndpointList.OnConnected(connected.Candidate);
                client.ConnectedEndpoint = connected.Candidate.Endpoint;
                return (link, welcome);
            }
            catch (MlpException ex) when (ex.Code is MlpErrorCode.ResumeRejected or MlpErrorCode.AuthFailed or MlpErrorCode.SessionTakenOver)
            {
                // About the device, not the place: another endpoint would say the same.
                OnRefused(client, link);
                await link.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            catch (Exception ex) when (ex is TimeoutException or IOException or MlpException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException)
            {
                OnRefused(client, link);
                await link.DisposeAsync().ConfigureAwait(false);
                failure = ex;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        var last = failure ?? race.Failures.LastOrDefault();
        if (last is TimeoutException or IOException or MlpException or System.Net.Sockets.SocketException)
            throw last;
        throw new IOException($"Could not connect to any of {string.Join(", ", candidates)}.", last);
    }

    private static void OnRefused(MlpClient client, MlpLink link)
    {
        client.LastGoAway = link.GoAway;
        if (link.GoAway is { } goAway)
            client.EndpointList.OnGoAway(goAway);
    }
}
