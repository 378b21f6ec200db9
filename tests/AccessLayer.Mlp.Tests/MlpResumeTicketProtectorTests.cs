using AccessLayer.Gateway.Mlp;
using AccessLayer.Gateway.Mlp.Auth;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Mlp.Tests;

public sealed class MlpResumeTicketProtectorTests
{
    private static readonly FakeTimeProvider Time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private static MlpResumeTicketProtector Protector(string secret = "s1") => new(Options.Create(new MlpOptions { TicketSecret = secret }), Time);

    private static MlpResumeTicket Ticket(TimeSpan lifetime) => new("device-1", "user-1", "session-1", Time.GetUtcNow() + lifetime);

    [Fact]
    public void A_sealed_ticket_opens_to_the_same_identity()
    {
        var protector = Protector();
        var ticket = Ticket(TimeSpan.FromHours(1));

        Assert.True(protector.TryUnprotect(protector.Protect(ticket), out var opened));
        Assert.Equal(ticket.DeviceId, opened.DeviceId);
        Assert.Equal(ticket.UserId, opened.UserId);
        Assert.Equal(ticket.SessionId, opened.SessionId);
    }

    [Fact]
    public void Every_altered_byte_is_rejected()
    {
        var protector = Protector();
        var sealedTicket = protector.Protect(Ticket(TimeSpan.FromHours(1)))!;
        for (var i = 0; i < sealedTicket.Length; i++)
        {
            var altered = (byte[])sealedTicket.Clone();
            altered[i] ^= 0x01;
            Assert.False(protector.TryUnprotect(altered, out _), $"byte {i} was altered");
        }
    }

    [Fact]
    public void A_ticket_from_another_key_or_past_its_expiry_is_rejected()
    {
        var sealedTicket = Protector("s1").Protect(Ticket(TimeSpan.FromSeconds(30)))!;

        Assert.False(Protector("s2").TryUnprotect(sealedTicket, out _));
        var time = new FakeTimeProvider(Time.GetUtcNow() + TimeSpan.FromSeconds(30));
        Assert.False(new MlpResumeTicketProtector(Options.Create(new MlpOptions { TicketSecret = "s1" }), time).TryUnprotect(sealedTicket, out _));
    }

    [Fact]
    public void Tickets_stay_within_512_bytes_or_are_not_issued()
    {
        var protector = Protector();
        Assert.True(protector.Protect(Ticket(TimeSpan.FromHours(1)))!.Length <= 512);
        Assert.Null(protector.Protect(new MlpResumeTicket(new string('d', 300), new string('u', 300), "s", Time.GetUtcNow().AddHours(1))));
        Assert.False(protector.TryUnprotect(new byte[600], out _));
    }
}
