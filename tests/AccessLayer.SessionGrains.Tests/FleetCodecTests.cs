using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.SessionGrains.Tests;

/// <summary>
/// The fleet's node-to-node and node-to-Redis bytes: every field survives a round trip, and whatever bytes
/// arrive (from a peer or from Redis) end in a value or a <see cref="FleetCodecException"/>, with allocation
/// in proportion to the input.
/// </summary>
public sealed class FleetCodecTests
{
    private static readonly Guid Durable = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    private static readonly Dictionary<string, Func<ForwardedMessage>> ForwardedCases = new()
    {
        ["every property"] = () => new ForwardedMessage(FullMessage(), "publisher-1", true, ["g1"], Durable),
        ["no properties"] = () => new ForwardedMessage(new MqttApplicationMessage { Topic = "t" }, "p", false, [], Guid.Empty),
        ["empty payload"] = () => new ForwardedMessage(new MqttApplicationMessage { Topic = "a/b", Payload = ReadOnlyMemory<byte>.Empty, QualityOfService = MqttQualityOfService.AtLeastOnce }, "p", true, [], Guid.Empty),
        ["1 MiB payload"] = () => new ForwardedMessage(new MqttApplicationMessage { Topic = "big", Payload = Pattern(1 << 20), QualityOfService = MqttQualityOfService.ExactlyOnce, Retain = true }, "p", true, ["g"], Durable),
        ["empty share groups, null publisher"] = () => new ForwardedMessage(FullMessage(), null, true, [], Guid.Empty),
        ["several share groups, durable"] = () => new ForwardedMessage(FullMessage(), "p", false, ["a", "b", "grüppe", "車"], Durable),
        ["expiry zero, empty strings"] = () => new ForwardedMessage(
            new MqttApplicationMessage { Topic = "t", MessageExpiryInterval = 0, ContentType = string.Empty, ResponseTopic = string.Empty, UserProperties = [new(string.Empty, string.Empty)] },
            string.Empty,
            false,
            [string.Empty],
            Guid.Empty),
        ["extreme numbers"] = () => new ForwardedMessage(
            new MqttApplicationMessage { Topic = "🚗/x", MessageExpiryInterval = uint.MaxValue, PayloadFormatIndicator = 255, CorrelationData = Pattern(ushort.MaxValue) },
            new string('c', 70_000 / 3),
            true,
            ["g"],
            Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff")),
    };

    public static TheoryData<string> ForwardedCaseNames => [.. ForwardedCases.Keys];

    [Theory]
    [MemberData(nameof(ForwardedCaseNames))]
    public void Forwarded_messages_round_trip_every_field(string name)
    {
        var message = ForwardedCases[name]();
        var output = new ArrayBufferWriter<byte>();
        FleetCodec.WriteForwarded(output, message);

        var batch = FleetCodec.ReadBatch(output.WrittenMemory);

        Assert.Equal(Describe(message), Describe(Assert.Single(batch)));
    }

    [Fact]
    public void A_batch_reads_back_every_message_in_order()
    {
        var output = new ArrayBufferWriter<byte>();
        var messages = ForwardedCases.Values.Select(c => c()).ToArray();
        foreach (var message in messages)
        {
            FleetCodec.WriteForwarded(output, message);
        }

        var batch = FleetCodec.ReadBatch(output.WrittenMemory);

        Assert.Equal(messages.Select(Describe), batch.Select(Describe));
    }

    [Fact]
    public void No_bytes_are_an_empty_batch() => Assert.Empty(FleetCodec.ReadBatch(ReadOnlyMemory<byte>.Empty));

    [Fact]
    public void Null_expiry_and_null_strings_stay_distinct_from_zero_and_empty()
    {
        // Every MqttApplicationMessage field that can be "absent" must come back absent, not defaulted.
        var absent = Single(new ForwardedMessage(new MqttApplicationMessage { Topic = "t" }, null, false, [], Guid.Empty));
        var present = Single(new ForwardedMessage(new MqttApplicationMessage { Topic = "t", MessageExpiryInterval = 0, ContentType = string.Empty, ResponseTopic = string.Empty }, string.Empty, false, [], Guid.Empty));

        Assert.Null(absent.Message.MessageExpiryInterval);
        Assert.Null(absent.Message.ContentType);
        Assert.Null(absent.Message.ResponseTopic);
        Assert.Null(absent.PublisherClientId);
        Assert.Equal(0u, present.Message.MessageExpiryInterval);
        Assert.Equal(string.Empty, present.Message.ContentType);
        Assert.Equal(string.Empty, present.Message.ResponseTopic);
        Assert.Equal(string.Empty, present.PublisherClientId);
    }

    [Fact]
    public void User_properties_keep_their_order_and_duplicates()
    {
        MqttUserProperty[] properties = [new("b", "2"), new("a", "1"), new("b", "2"), new("b", "3")];
        var read = Single(new ForwardedMessage(new MqttApplicationMessage { Topic = "t", UserProperties = properties }, null, false, [], Guid.Empty));

        Assert.Equal(properties, read.Message.UserProperties);
    }

    [Fact]
    public void Payload_and_correlation_data_are_slices_of_the_batch_not_copies()
    {
        var output = new ArrayBufferWriter<byte>();
        FleetCodec.WriteForwarded(output, new ForwardedMessage(FullMessage(), "p", true, [], Guid.Empty));
        var bytes = output.WrittenMemory.ToArray();

        var read = Assert.Single(FleetCodec.ReadBatch(bytes));

        Assert.True(MemoryMarshal.TryGetArray(read.Message.Payload, out var payload));
        Assert.Same(bytes, payload.Array);
        Assert.True(MemoryMarshal.TryGetArray(read.Message.CorrelationData, out var correlation));
        Assert.Same(bytes, correlation.Array);
    }

    [Theory]
    [InlineData(MqttQualityOfService.AtMostOnce, false, false)]
    [InlineData(MqttQualityOfService.AtLeastOnce, true, true)]
    [InlineData(MqttQualityOfService.ExactlyOnce, false, true)]
    public void Deliveries_round_trip_qos_retain_identifiers_and_durable_id(MqttQualityOfService qos, bool retain, bool durable)
    {
        var delivery = new MessageDelivery
        {
            Message = FullMessage(),
            QualityOfService = qos,
            Retain = retain,
            SubscriptionIdentifiers = [1, 127, 128, 16_384, 268_435_455],
            DurableId = durable ? Durable : Guid.Empty,
        };

        var read = FleetCodec.DecodeDelivery(FleetCodec.EncodeDelivery(delivery));

        Assert.Equal(Describe(delivery), Describe(read));
    }

    [Fact]
    public void A_delivery_without_identifiers_or_properties_round_trips()
    {
        var delivery = new MessageDelivery { Message = new MqttApplicationMessage { Topic = "x" } };

        Assert.Equal(Describe(delivery), Describe(FleetCodec.DecodeDelivery(FleetCodec.EncodeDelivery(delivery))));
    }

    [Fact]
    public void Subscriptions_round_trip_every_option_in_order()
    {
        var subscriptions = AllSubscriptions();

        var read = FleetCodec.DecodeSubscriptions(FleetCodec.EncodeSubscriptions(subscriptions));

        Assert.Equal(subscriptions, read);
    }

    [Fact]
    public void An_empty_subscription_list_round_trips() =>
        Assert.Empty(FleetCodec.DecodeSubscriptions(FleetCodec.EncodeSubscriptions([])));

    [Fact]
    public void A_full_handover_round_trips()
    {
        var handover = FullHandover();

        var read = FleetCodec.DecodeHandover(FleetCodec.EncodeHandover(handover));

        Assert.Equal(Describe(handover), Describe(read));
        Assert.Equal([OutgoingState.AwaitingPubAck, OutgoingState.AwaitingPubRec, OutgoingState.AwaitingPubComp], read.Inflight.Select(i => i.State));
        Assert.Equal(30u, read.Will!.DelayInterval);
    }

    [Fact]
    public void An_empty_handover_round_trips_with_no_owner_and_no_will()
    {
        var handover = new SessionHandover();

        var read = FleetCodec.DecodeHandover(FleetCodec.EncodeHandover(handover));

        Assert.Equal(Describe(handover), Describe(read));
        Assert.Null(read.Owner);
        Assert.Null(read.Will);
    }

    [Fact]
    public void A_will_without_delay_round_trips()
    {
        var handover = new SessionHandover { Owner = "node-a", Will = new WillMessage(new MqttApplicationMessage { Topic = "w" }) };

        Assert.Equal(Describe(handover), Describe(FleetCodec.DecodeHandover(FleetCodec.EncodeHandover(handover))));
    }

    [Fact]
    public void A_will_for_a_session_grain_round_trips_with_its_delay()
    {
        var will = FleetCodec.DecodeWill(FleetCodec.EncodeWill(new WillMessage(FullMessage(), 90)));

        Assert.Equal(90u, will.DelayInterval);
        Assert.Equal(Describe(FullMessage()), Describe(will.Message));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(255)]
    public void An_unknown_format_version_is_refused_by_every_unit(byte version)
    {
        foreach (var (name, bytes, decode) in ValidUnits())
        {
            var changed = (byte[])bytes.Clone();
            changed[0] = version;
            var error = Assert.Throws<FleetCodecException>(() => decode(changed));
            Assert.Contains("version", error.Message, StringComparison.Ordinal);
            _ = name;
        }
    }

    [Fact]
    public void Trailing_bytes_are_refused()
    {
        foreach (var (_, bytes, decode) in ValidUnits().Where(u => u.Name != "batch"))
        {
            Assert.Throws<FleetCodecException>(() => decode([.. bytes, 0]));
        }
    }

    [Fact]
    public void Every_truncation_of_every_unit_is_refused()
    {
        foreach (var (name, bytes, decode) in ValidUnits())
        {
            // No bytes at all are a valid (empty) batch; every other unit needs its version byte.
            for (var length = name == "batch" ? 1 : 0; length < bytes.Length; length++)
            {
                var prefix = bytes[..length];
                Assert.Throws<FleetCodecException>(() => decode(prefix));
            }
        }
    }

    [Fact]
    public void A_batch_cut_anywhere_but_between_entries_is_refused()
    {
        var output = new ArrayBufferWriter<byte>();
        var boundaries = new HashSet<int> { 0 };
        foreach (var message in new[] { ForwardedCases["every property"](), ForwardedCases["no properties"]() })
        {
            FleetCodec.WriteForwarded(output, message);
            boundaries.Add(output.WrittenCount);
        }

        var bytes = output.WrittenMemory.ToArray();
        for (var length = 0; length <= bytes.Length; length++)
        {
            var prefix = bytes[..length];
            if (boundaries.Contains(length))
            {
                Assert.Equal(boundaries.Count(b => b > 0 && b <= length), FleetCodec.ReadBatch(prefix).Count);
            }
            else
            {
                Assert.Throws<FleetCodecException>(() => FleetCodec.ReadBatch(prefix));
            }
        }
    }

    [Fact]
    public void A_count_that_cannot_fit_in_the_bytes_left_is_refused_before_allocating()
    {
        // Version 1, then a subscription count of 1,000,000 with nothing behind it.
        byte[] claim = [1, 0xC0, 0x84, 0x3D];

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<FleetCodecException>(() => FleetCodec.DecodeSubscriptions(claim));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
    }

    [Fact]
    public void A_count_over_the_limit_is_refused_even_when_the_bytes_are_there()
    {
        // 2^20 + 1 subscriptions, each three bytes ("" / QoS 0 / no identifier): within the input, past the list limit.
        const int count = (1 << 20) + 1;
        var bytes = new byte[1 + 3 + (3 * count)];
        bytes[0] = 1;
        Assert.Equal(3, MqttVariableByteInteger.Write(bytes.AsSpan(1), count));

        var error = Assert.Throws<FleetCodecException>(() => FleetCodec.DecodeSubscriptions(bytes));
        Assert.Contains("limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_payload_length_past_the_end_is_refused()
    {
        var bytes = FleetCodec.EncodeDelivery(new MessageDelivery { Message = new MqttApplicationMessage { Topic = "t" } });

        // The last byte is the empty payload's length; claim 268,435,455 bytes instead.
        byte[] claim = [.. bytes[..^1], 0xFF, 0xFF, 0xFF, 0x7F];

        Assert.Throws<FleetCodecException>(() => FleetCodec.DecodeDelivery(claim));
    }

    [Theory]
    [InlineData(new byte[] { 1, 0x03, 0, 0 })] // delivery flags with QoS 3
    [InlineData(new byte[] { 1, 0x10, 0, 0 })] // delivery reserved flag bit
    [InlineData(new byte[] { 1, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F })] // identifier count 1, identifier a varint of five bytes
    [InlineData(new byte[] { 1, 0x00, 0x00, 0x01, 0x61, 0x40, 0x00, 0x00, 0x00, 0x00 })] // message with a reserved flag bit
    [InlineData(new byte[] { 1, 0x00, 0x00, 0x01, 0x61, 0x03, 0x00, 0x00, 0x00, 0x00 })] // message with QoS 3
    public void Bad_fields_in_a_delivery_are_refused(byte[] bytes) =>
        Assert.Throws<FleetCodecException>(() => FleetCodec.DecodeDelivery(bytes));

    [Theory]
    [InlineData("C36263")] // a lead byte followed by 'b' is no UTF-8 sequence
    [InlineData("EDA080")] // U+D800, a surrogate code point
    [InlineData("006263")] // U+0000, which no MQTT string holds
    public void A_string_that_is_not_an_mqtt_utf8_string_is_refused(string utf8)
    {
        var bytes = FleetCodec.EncodeSubscriptions([new Subscription("abc", new SubscriptionOptions(MqttQualityOfService.AtMostOnce))]);
        Convert.FromHexString(utf8).CopyTo(bytes, 3);

        Assert.Throws<FleetCodecException>(() => FleetCodec.DecodeSubscriptions(bytes));
    }

    [Fact]
    public void Values_the_reader_would_refuse_are_refused_when_writing()
    {
        // Strings that UTF-8 cannot carry, or values outside their enums, would not come back as written.
        var output = new ArrayBufferWriter<byte>();
        Assert.ThrowsAny<ArgumentException>(() => FleetCodec.WriteForwarded(output, new ForwardedMessage(new MqttApplicationMessage { Topic = "\ud800" }, null, false, [], Guid.Empty)));
        Assert.ThrowsAny<ArgumentException>(() => FleetCodec.WriteForwarded(output, new ForwardedMessage(new MqttApplicationMessage { Topic = new string('x', 65_536) }, null, false, [], Guid.Empty)));
        Assert.ThrowsAny<ArgumentException>(() => FleetCodec.WriteForwarded(output, new ForwardedMessage(new MqttApplicationMessage { Topic = "a\0b" }, null, false, [], Guid.Empty)));
        Assert.ThrowsAny<ArgumentException>(() => FleetCodec.EncodeDelivery(new MessageDelivery { Message = new MqttApplicationMessage { Topic = "t" }, QualityOfService = (MqttQualityOfService)3 }));
        Assert.ThrowsAny<ArgumentException>(() => FleetCodec.EncodeDelivery(new MessageDelivery { Message = new MqttApplicationMessage { Topic = "t" }, SubscriptionIdentifiers = [268_435_456] }));
        Assert.ThrowsAny<ArgumentException>(() => FleetCodec.EncodeSubscriptions([new Subscription("t", new SubscriptionOptions(MqttQualityOfService.AtMostOnce, RetainHandling: (RetainHandling)3))]));
        Assert.ThrowsAny<ArgumentException>(() => FleetCodec.EncodeHandover(new SessionHandover { Inflight = [new InflightMessage(1, new MessageDelivery { Message = new MqttApplicationMessage { Topic = "t" } }, default)] }));
        Assert.Equal(0, output.WrittenCount);
    }

    [Fact]
    public void Writing_a_forwarded_message_into_a_presized_buffer_allocates_nothing()
    {
        var small = new ForwardedMessage(FullMessage(), "publisher-1", true, ["g1", "g2"], Durable);
        var large = new ForwardedMessage(new MqttApplicationMessage { Topic = "big", Payload = new byte[64 * 1024] }, "p", true, [], Guid.Empty);
        var output = new ArrayBufferWriter<byte>(256 * 1024);
        WriteLoop(output, small, large, 10);

        var before = GC.GetAllocatedBytesForCurrentThread();
        WriteLoop(output, small, large, 200);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(2, FleetCodec.ReadBatch(output.WrittenMemory).Count);
    }

    [Fact]
    public void Random_bytes_end_in_a_value_or_a_codec_exception()
    {
        // Half the inputs start with the right version byte so they reach the fields behind it.
        var input =
            from versioned in ArbMap.Default.GeneratorFor<bool>()
            from bytes in Gen.Sized(size => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), Math.Min(size * 4, 600)))
            select versioned ? [1, .. bytes] : bytes;
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), Prop.ForAll(input.ToArbitrary(), AssertHandled));
    }

    [Fact]
    public void Mutated_valid_units_end_in_a_value_or_a_codec_exception()
    {
        var corpus = ValidUnits().Select(u => u.Bytes).ToArray();
        var mutated =
            from index in Gen.Choose(0, corpus.Length - 1)
            from kind in Gen.Choose(0, 3)
            from position in Gen.Choose(0, 100_000)
            from value in Gen.Choose(0, 255)
            from count in Gen.Choose(1, 4)
            select Mutate(corpus[index], kind, position, (byte)value, count);
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(4000), Prop.ForAll(mutated.ToArbitrary(), AssertHandled));
    }

    [Fact]
    public void Every_single_byte_change_of_every_unit_ends_in_a_value_or_a_codec_exception()
    {
        // Exhaustive over positions, a few values each: the mutations FsCheck might not pick.
        foreach (var (_, bytes, _) in ValidUnits())
        {
            for (var at = 0; at < bytes.Length; at++)
            {
                foreach (var value in new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)(bytes[at] ^ 0x01), (byte)(bytes[at] ^ 0x80) })
                {
                    var changed = (byte[])bytes.Clone();
                    changed[at] = value;
                    AssertHandled(changed);
                }
            }
        }
    }

    [Fact]
    public void Generated_messages_round_trip()
    {
        var text = Gen.Elements("a", "b", "ü", "車", "/", " ", "x1", "🚗", "+", "#").ArrayOf().Select(parts => string.Concat(parts));
        var message =
            from topic in text
            from payload in ArbMap.Default.GeneratorFor<byte[]>()
            from flags in Gen.Choose(0, 255)
            from expiry in ArbMap.Default.GeneratorFor<uint>()
            from contentType in text.OrNull()
            from responseTopic in text.OrNull()
            from correlation in ArbMap.Default.GeneratorFor<byte[]>()
            from names in text.ArrayOf()
            from publisher in text.OrNull()
            from groups in text.ArrayOf()
            from durable in ArbMap.Default.GeneratorFor<Guid>()
            select new ForwardedMessage(
                new MqttApplicationMessage
                {
                    Topic = topic,
                    Payload = payload,
                    QualityOfService = (MqttQualityOfService)(flags % 3),
                    Retain = (flags & 4) != 0,
                    PayloadFormatIndicator = (byte)(flags >> 3),
                    MessageExpiryInterval = (flags & 8) != 0 ? expiry : null,
                    ContentType = contentType,
                    ResponseTopic = responseTopic,
                    CorrelationData = correlation,
                    UserProperties = names.Select(n => new MqttUserProperty(n, n + "=")).ToArray(),
                },
                publisher,
                (flags & 16) != 0,
                groups,
                (flags & 32) != 0 ? durable : Guid.Empty);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(message.ToArbitrary(), m =>
        {
            Assert.Equal(Describe(m), Describe(Single(m)));
            var delivery = new MessageDelivery { Message = m.Message, QualityOfService = m.Message.QualityOfService, SubscriptionIdentifiers = [.. m.ShareGroups.Select(g => (uint)g.Length)], DurableId = m.DurableId };
            Assert.Equal(Describe(delivery), Describe(FleetCodec.DecodeDelivery(FleetCodec.EncodeDelivery(delivery))));
        }));
    }

    private static void WriteLoop(ArrayBufferWriter<byte> output, ForwardedMessage small, ForwardedMessage large, int iterations)
    {
        for (var i = 0; i < iterations; i++)
        {
            output.ResetWrittenCount();
            FleetCodec.WriteForwarded(output, small);
            FleetCodec.WriteForwarded(output, large);
        }
    }

    private static void AssertHandled(byte[] input)
    {
        Func<ReadOnlyMemory<byte>, object>[] decoders =
        [
            b => FleetCodec.ReadBatch(b),
            b => FleetCodec.DecodeDelivery(b),
            b => FleetCodec.DecodeSubscriptions(b),
            b => FleetCodec.DecodeHandover(b),
        ];
        foreach (var decode in decoders)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                Assert.NotNull(decode(input));
            }
            catch (FleetCodecException)
            {
            }

            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            // Decoders own strings, arrays, records and exception objects; none of that may grow faster than the input.
            var bound = 64 * 1024 + (100L * input.Length);
            Assert.True(allocated < bound, $"{allocated} bytes allocated for {input.Length} bytes of input");
        }
    }

    private static byte[] Mutate(byte[] unit, int kind, int position, byte value, int count)
    {
        var at = position % (unit.Length + 1);
        switch (kind)
        {
            case 0 when at < unit.Length:
                var changed = (byte[])unit.Clone();
                changed[at] = value;
                return changed;
            case 1:
                return [.. unit[..at], .. Enumerable.Repeat(value, count), .. unit[at..]];
            case 2 when at < unit.Length:
                return [.. unit[..at], .. unit[Math.Min(unit.Length, at + count)..]];
            default:
                return unit[..at];
        }
    }

    /// <summary>One valid encoding of each unit (a batch with one entry), with the decoder that reads it.</summary>
    private static List<(string Name, byte[] Bytes, Func<byte[], object> Decode)> ValidUnits()
    {
        var batch = new ArrayBufferWriter<byte>();
        FleetCodec.WriteForwarded(batch, new ForwardedMessage(FullMessage(), "publisher-1", true, ["g1", "g2"], Durable));
        var bigBatch = new ArrayBufferWriter<byte>();
        FleetCodec.WriteForwarded(bigBatch, new ForwardedMessage(new MqttApplicationMessage { Topic = "big", Payload = Pattern(5000) }, null, false, [], Guid.Empty));
        return
        [
            ("batch", batch.WrittenMemory.ToArray(), b => FleetCodec.ReadBatch(b)),
            ("batch", bigBatch.WrittenMemory.ToArray(), b => FleetCodec.ReadBatch(b)),
            ("delivery", FleetCodec.EncodeDelivery(new MessageDelivery { Message = FullMessage(), QualityOfService = MqttQualityOfService.AtLeastOnce, Retain = true, SubscriptionIdentifiers = [3, 300], DurableId = Durable }), b => FleetCodec.DecodeDelivery(b)),
            ("subscriptions", FleetCodec.EncodeSubscriptions(AllSubscriptions()), b => FleetCodec.DecodeSubscriptions(b)),
            ("handover", FleetCodec.EncodeHandover(FullHandover()), b => FleetCodec.DecodeHandover(b)),
            ("will", FleetCodec.EncodeWill(new WillMessage(FullMessage(), 90)), b => FleetCodec.DecodeWill(b)),
        ];
    }

    private static ForwardedMessage Single(ForwardedMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        FleetCodec.WriteForwarded(output, message);
        return Assert.Single(FleetCodec.ReadBatch(output.WrittenMemory));
    }

    private static MqttApplicationMessage FullMessage() => new()
    {
        Topic = "fleet/ü/車",
        Payload = Encoding.UTF8.GetBytes("{\"temp\":21.5}"),
        QualityOfService = MqttQualityOfService.ExactlyOnce,
        Retain = true,
        PayloadFormatIndicator = 1,
        MessageExpiryInterval = 3600,
        ContentType = "application/json",
        ResponseTopic = "reply/to/me",
        CorrelationData = new byte[] { 0, 1, 2, 0xFF },
        UserProperties = [new("k", "v"), new("k", "v"), new("trace", "abc")],
    };

    private static Subscription[] AllSubscriptions()
    {
        var subscriptions = new List<Subscription>();
        foreach (var qos in new[] { MqttQualityOfService.AtMostOnce, MqttQualityOfService.AtLeastOnce, MqttQualityOfService.ExactlyOnce })
        {
            foreach (var handling in new[] { RetainHandling.SendAtSubscribe, RetainHandling.SendAtSubscribeIfNew, RetainHandling.DoNotSend })
            {
                var i = subscriptions.Count;
                subscriptions.Add(new Subscription(
                    i % 2 == 0 ? $"$share/g{i}/a/+/b" : $"a/{i}/#",
                    new SubscriptionOptions(qos, i % 2 == 0, i % 3 == 0, handling, i % 4 == 0 ? 0u : (uint)(i * 100_000))));
            }
        }

        subscriptions.Add(new Subscription("max/id", new SubscriptionOptions(MqttQualityOfService.AtLeastOnce, true, true, RetainHandling.DoNotSend, 268_435_455)));
        return [.. subscriptions];
    }

    private static SessionHandover FullHandover()
    {
        MessageDelivery Delivery(int i) => new()
        {
            Message = i % 2 == 0 ? FullMessage() : new MqttApplicationMessage { Topic = $"q/{i}", Payload = Pattern(i * 10) },
            QualityOfService = (MqttQualityOfService)(1 + (i % 2)),
            Retain = i % 3 == 0,
            SubscriptionIdentifiers = i % 2 == 0 ? [(uint)i + 1] : [],
            DurableId = i % 2 == 0 ? Guid.Empty : Durable,
        };

        return new SessionHandover
        {
            Owner = "node-b:11111",
            SessionExpiryInterval = 86_400,
            Will = new WillMessage(FullMessage(), 30),
            Subscriptions = AllSubscriptions(),
            Inflight =
            [
                new InflightMessage(1, Delivery(0), OutgoingState.AwaitingPubAck),
                new InflightMessage(65_535, Delivery(1), OutgoingState.AwaitingPubRec),
                new InflightMessage(0, Delivery(2), OutgoingState.AwaitingPubComp),
            ],
            Queued = [Delivery(3), Delivery(4)],
            IncomingAwaitingRelease = [7, 65_535, 7],
        };
    }

    private static byte[] Pattern(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)(i * 31))];

    private static string Describe(MqttApplicationMessage m) => string.Join(
        '|',
        $"topic={m.Topic}",
        $"qos={m.QualityOfService}",
        $"retain={m.Retain}",
        $"format={m.PayloadFormatIndicator}",
        $"expiry={m.MessageExpiryInterval?.ToString(CultureInfo.InvariantCulture) ?? "null"}",
        $"contentType={Quote(m.ContentType)}",
        $"responseTopic={Quote(m.ResponseTopic)}",
        $"correlation={Convert.ToHexString(m.CorrelationData.Span)}",
        $"user=[{string.Join(';', m.UserProperties.Select(p => $"{Quote(p.Name)}={Quote(p.Value)}"))}]",
        $"payload={m.Payload.Length}:{Convert.ToHexString(m.Payload.Span)}");

    private static string Describe(ForwardedMessage f) =>
        $"{Describe(f.Message)}|publisher={Quote(f.PublisherClientId)}|plain={f.PlainSubscribers}|groups=[{string.Join(';', f.ShareGroups.Select(Quote))}]|durable={f.DurableId}";

    private static string Describe(MessageDelivery d) =>
        $"{Describe(d.Message)}|deliveryQos={d.QualityOfService}|deliveryRetain={d.Retain}|ids=[{string.Join(';', d.SubscriptionIdentifiers)}]|durable={d.DurableId}";

    private static string Describe(SessionHandover h) => string.Join(
        '\n',
        [
            $"owner={Quote(h.Owner)}",
            $"expiry={h.SessionExpiryInterval}",
            h.Will is null ? "will=null" : $"will={h.Will.DelayInterval}:{Describe(h.Will.Message)}",
            .. h.Subscriptions.Select(s => $"sub={s}"),
            .. h.Inflight.Select(i => $"inflight={i.PacketId}:{i.State}:{Describe(i.Delivery)}"),
            .. h.Queued.Select(q => $"queued={Describe(q)}"),
            $"awaiting=[{string.Join(';', h.IncomingAwaitingRelease)}]",
        ]);

    private static string Quote(string? value) => value is null ? "null" : $"'{value}'";
}
