using System.CommandLine;
using System.Globalization;
using System.Text;
using AccessLayer.Client.Cli.Protos;
using AccessLayer.Client.Dictionaries;
using AccessLayer.Protocol.Hpack;
using AccessLayer.Protocol.Mlp;
using AccessLayer.Protocol.Mlp.Envelopes;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace AccessLayer.Client.Cli;

/// <summary>
/// <c>mlpcurl</c>: grpcurl for MLP. <c>call SERVICE OPERATION</c> sends one request through a gateway
/// over the long link (tcp://, tls://, ws://) or the HTTP fallback, with a body from JSON (mapped onto a
/// protobuf type compiled into the CLI), text or base64, and prints the response, the compression used
/// and the bytes on the wire. <c>token</c> mints a development device token.
/// </summary>
public static class MlpCurl
{
    private static readonly MessageDescriptor[] Types = [.. CliMessagesReflection.Descriptor.MessageTypes];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand(
            "mlpcurl: call services through an AccessLayer gateway over the mobile link protocol (MLP), over the long link "
            + "(tcp://, tls://, ws://) or the HTTP fallback. Each command is listed at the end with an example "
            + "(mlpcurl COMMAND --help for one alone). The examples assume a gateway started with --Mlp:TokenSecret=dev-secret.");
        root.Subcommands.Add(CallCommand(output, error));
        root.Subcommands.Add(TokenCommand(output));
        root.Subcommands.Add(TypesCommand(output));
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
    }

    private static Command CallCommand(TextWriter output, TextWriter error)
    {
        var service = new Argument<string>("service") { Description = "Service name (the :service header), e.g. echo or orders." };
        var operation = new Argument<string>("operation") { Description = "Operation (the :operation header), e.g. create." };
        var gateway = new Option<string>("--gateway", "-g") { Description = "Long-link endpoint: tcp://host:7000, tls://host:7443 or ws://host:8080/mlp.", DefaultValueFactory = _ => "tcp://127.0.0.1:7000" };
        var fallback = new Option<string?>("--http-fallback") { Description = "Send over POST {url}/mlp/v1/request instead of the long link, e.g. http://127.0.0.1:8080/." };
        var device = new Option<string>("--device-id") { Description = "Device id for HELLO.", DefaultValueFactory = _ => "mlpcurl-" + Environment.MachineName.ToLowerInvariant() };
        var token = new Option<string?>("--token") { Description = "Device token (base64url payload.mac)." };
        var secret = new Option<string?>("--secret") { Description = "Mint a token locally with this HMAC secret (development gateways: Mlp:TokenSecret)." };
        var user = new Option<string>("--user") { Description = "User id of a minted token.", DefaultValueFactory = _ => "mlpcurl" };
        var data = new Option<string?>("--data", "-d") { Description = "Request body: JSON when --type is given, else UTF-8 text." };
        var base64 = new Option<string?>("--base64") { Description = "Request body as base64 bytes." };
        var type = new Option<string?>("--type") { Description = "Protobuf request type (see `mlpcurl types`); -d is parsed as its JSON form." };
        var responseType = new Option<string?>("--response-type") { Description = "Protobuf response type; the body is printed as JSON." };
        var headers = new Option<string[]>("--header", "-H") { Description = "Extra header name=value (repeatable).", AllowMultipleArgumentsPerToken = false };
        var dictDir = new Option<string?>("--dict-dir") { Description = "Keep zstd dictionaries here between runs." };
        var noCompression = new Option<bool>("--no-compression") { Description = "Do not announce or use zstd." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds to wait for the response.", DefaultValueFactory = _ => 30 };

        var command = new Command("call", """
            Call SERVICE OPERATION and print the response, the compression used and the bytes on the wire.

            Examples:
              mlpcurl call echo ping -d hello --secret dev-secret
              mlpcurl call echo ping -d hello --secret dev-secret --http-fallback http://127.0.0.1:8080/
            """)
        {
            service, operation, gateway, fallback, device, token, secret, user, data, base64, type, responseType, headers, dictDir, noCompression, timeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var body = BuildBody(parse.GetValue(data), parse.GetValue(base64), parse.GetValue(type));
                var deviceId = parse.GetValue(device)!;
                var deviceToken = parse.GetValue(token) ?? (parse.GetValue(secret) is { } s ? Mint(s, deviceId, parse.GetValue(user)!, TimeSpan.FromHours(1)) : string.Empty);
                var fallbackUrl = parse.GetValue(fallback);
                var options = new MlpClientOptions
                {
                    Endpoint = new Uri(parse.GetValue(gateway)!),
                    HttpFallbackEndpoint = fallbackUrl is null ? null : new Uri(fallbackUrl.EndsWith('/') ? fallbackUrl : fallbackUrl + "/"),
                    DeviceId = deviceId,
                    DeviceToken = deviceToken,
                    Platform = "cli",
                    AppVersion = typeof(MlpCurl).Assembly.GetName().Version?.ToString(3) ?? "0",
                    EnableCompression = !parse.GetValue(noCompression),
                    EnableHeartbeat = false,
                    Dictionaries = parse.GetValue(dictDir) is { } dir ? new DirectoryMlpDictionaryStore(dir) : new InMemoryMlpDictionaryStore(),
                };
                await using var client = new MlpClient(options);
                if (fallbackUrl is null)
                    await client.ConnectAsync(ct).ConfigureAwait(false);

                var callHeaders = (parse.GetValue(headers) ?? []).Select(ParseHeader).ToList();
                var response = await client.CallAsync(parse.GetValue(service)!, parse.GetValue(operation)!, body, new MlpCallOptions
                {
                    Headers = callHeaders,
                    Timeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                    ForceHttpFallback = fallbackUrl is not null,
                }, ct).ConfigureAwait(false);

                Print(output, client, response, parse.GetValue(responseType));
                if (fallbackUrl is null)
                    await client.CloseAsync(ct).ConfigureAwait(false);
                return response.IsSuccess ? 0 : 1;
            }
            catch (Exception ex) when (ex is MlpException or IOException or ArgumentException or FormatException or InvalidProtocolBufferException or InvalidJsonException or TimeoutException or HttpRequestException or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException or NotSupportedException or UriFormatException)
            {
                await error.WriteLineAsync(ex is MlpException mlp ? $"error: {mlp.Code}: {mlp.Message}" : "error: " + ex.Message).ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    private static Command TokenCommand(TextWriter output)
    {
        var secret = new Option<string>("--secret") { Description = "HMAC secret (Mlp:TokenSecret).", Required = true };
        var device = new Option<string>("--device-id") { Description = "Device id.", Required = true };
        var user = new Option<string>("--user") { Description = "User id.", DefaultValueFactory = _ => "mlpcurl" };
        var ttl = new Option<int>("--ttl") { Description = "Lifetime in seconds.", DefaultValueFactory = _ => 3600 };
        var command = new Command("token", """
            Mint a development device token (for --token, or a device's HELLO).

            Example:
              mlpcurl token --secret dev-secret --device-id phone-1
            """) { secret, device, user, ttl };
        command.SetAction(parse =>
        {
            output.WriteLine(Mint(parse.GetValue(secret)!, parse.GetValue(device)!, parse.GetValue(user)!, TimeSpan.FromSeconds(parse.GetValue(ttl))));
            return 0;
        });
        return command;
    }

    private static Command TypesCommand(TextWriter output)
    {
        var command = new Command("types", """
            List the protobuf types usable with --type and --response-type.

            Example:
              mlpcurl types
            """);
        command.SetAction(_ =>
        {
            foreach (var type in Types)
                output.WriteLine($"{type.Name,-22} {type.FullName}");
            return 0;
        });
        return command;
    }

    internal static string Mint(string secret, string deviceId, string userId, TimeSpan lifetime)
    {
        var now = DateTimeOffset.UtcNow;
        return MlpDeviceToken.Create(new DeviceTokenPayload
        {
            DeviceId = deviceId,
            UserId = userId,
            IssuedAtUnixS = now.ToUnixTimeSeconds(),
            ExpiresAtUnixS = (now + lifetime).ToUnixTimeSeconds(),
        }, Encoding.UTF8.GetBytes(secret));
    }

    private static byte[] BuildBody(string? data, string? base64, string? typeName)
    {
        if (base64 is not null)
            return Convert.FromBase64String(base64);
        if (typeName is not null)
            return FindType(typeName).Parser.ParseJson(data ?? "{}").ToByteArray();
        return Encoding.UTF8.GetBytes(data ?? string.Empty);
    }

    private static MessageDescriptor FindType(string name) =>
        Types.FirstOrDefault(t => t.Name == name || t.FullName == name)
        ?? throw new ArgumentException($"Unknown type '{name}'; see `mlpcurl types`.");

    private static HeaderField ParseHeader(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
            throw new ArgumentException($"Header '{text}' is not name=value.");
        return new HeaderField(text[..equals].Trim().ToLowerInvariant(), text[(equals + 1)..].Trim());
    }

    private static void Print(TextWriter output, MlpClient client, MlpResponse response, string? responseType)
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"status: {response.Status} (via {response.Transport})"));
        foreach (var header in response.Headers)
            output.WriteLine($"  {header.Name}: {header.Value}");
        output.WriteLine("compression: request " + Describe(response.RequestCompressed, response.RequestDictionaryId) + ", response " + Describe(response.ResponseCompressed, response.ResponseDictionaryId)
            + (client.DictionaryIds.Count > 0 ? " (dictionaries held: " + string.Join(", ", client.DictionaryIds) + ")" : string.Empty));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bytes: request frame {response.BytesSent} B, response frame {response.BytesReceived} B; connection total sent {client.BytesSent} B, received {client.BytesReceived} B (handshake and dictionary included)"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"body: {response.Body.Length} B"));
        if (responseType is not null && response.IsSuccess)
        {
            var message = FindType(responseType).Parser.ParseFrom(response.Body.Span);
            output.WriteLine(JsonFormatter.Default.Format(message));
        }
        else if (response.Body.Length > 0)
        {
            output.WriteLine(IsText(response.Body.Span) ? Encoding.UTF8.GetString(response.Body.Span) : "base64:" + Convert.ToBase64String(response.Body.Span));
        }
    }

    private static string Describe(bool compressed, uint dictionaryId) =>
        !compressed ? "plain" : dictionaryId == 0 ? "zstd" : "zstd+dict " + dictionaryId.ToString(CultureInfo.InvariantCulture);

    private static bool IsText(ReadOnlySpan<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
            return false;
        foreach (var b in body)
        {
            if (b < 0x20 && b is not ((byte)'\n' or (byte)'\r' or (byte)'\t'))
                return false;
        }

        return true;
    }
}
