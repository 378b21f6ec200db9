using System.Globalization;
using AccessLayer.Bots.Cli;

namespace AccessLayer.Bots.Scenarios;

/// <summary>One publishing client: its id and the topic it publishes to.</summary>
public sealed record PublisherPlan(string ClientId, string Topic);

/// <summary>One subscribing client: its id and the filter it subscribes to.</summary>
public sealed record SubscriberPlan(string ClientId, string Filter);

/// <summary>
/// The topology of a messaging scenario: who publishes where, who subscribes to what, and which
/// subscribers each publisher's messages should reach (<see cref="ReceiversOf"/>).
/// </summary>
public sealed class ScenarioPlan
{
    private ScenarioPlan(ScenarioKind kind, IReadOnlyList<PublisherPlan> publishers, IReadOnlyList<SubscriberPlan> subscribers)
    {
        Kind = kind;
        Publishers = publishers;
        Subscribers = subscribers;
    }

    public ScenarioKind Kind { get; }

    public IReadOnlyList<PublisherPlan> Publishers { get; }

    public IReadOnlyList<SubscriberPlan> Subscribers { get; }

    public static ScenarioPlan For(BotOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var n = options.Count;
        var root = options.TopicPrefix.TrimEnd('/');
        var id = options.ClientPrefix;
        var inv = CultureInfo.InvariantCulture;
        switch (options.Scenario)
        {
            case ScenarioKind.Pub:
                var pattern = options.Topic.Length > 0 ? options.Topic : root + "/pub/{i}";
                return new ScenarioPlan(
                    options.Scenario,
                    Enumerable.Range(0, n).Select(i => new PublisherPlan($"{id}-pub-{i}", pattern.Replace("{i}", i.ToString(inv), StringComparison.Ordinal))).ToList(),
                    []);
            case ScenarioKind.Sub:
                var filter = options.Topic.Length > 0 ? options.Topic : root + "/pub/+";
                return new ScenarioPlan(options.Scenario, [], Enumerable.Range(0, n).Select(i => new SubscriberPlan($"{id}-sub-{i}", filter)).ToList());
            case ScenarioKind.P2p:
                return new ScenarioPlan(
                    options.Scenario,
                    Enumerable.Range(0, n).Select(i => new PublisherPlan($"{id}-pub-{i}", $"{root}/p2p/{i}")).ToList(),
                    Enumerable.Range(0, n).Select(i => new SubscriberPlan($"{id}-sub-{i}", $"{root}/p2p/{i}")).ToList());
            case ScenarioKind.FanIn:
                return new ScenarioPlan(
                    options.Scenario,
                    Enumerable.Range(0, n).Select(i => new PublisherPlan($"{id}-pub-{i}", $"{root}/in/{i}")).ToList(),
                    [new SubscriberPlan($"{id}-sub-0", $"{root}/in/+")]);
            case ScenarioKind.FanOut:
                return new ScenarioPlan(
                    options.Scenario,
                    [new PublisherPlan($"{id}-pub-0", $"{root}/out")],
                    Enumerable.Range(0, n).Select(i => new SubscriberPlan($"{id}-sub-{i}", $"{root}/out")).ToList());
            case ScenarioKind.Shared:
                return new ScenarioPlan(
                    options.Scenario,
                    Enumerable.Range(0, n).Select(i => new PublisherPlan($"{id}-pub-{i}", $"{root}/shared/{i}")).ToList(),
                    Enumerable.Range(0, options.Members).Select(i => new SubscriberPlan($"{id}-sub-{i}", $"$share/bots/{root}/shared/+")).ToList());
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Scenario, "Not a messaging scenario.");
        }
    }

    /// <summary>
    /// How many receipts one message of publisher <paramref name="publisher"/> should produce, given which
    /// subscribers are subscribed; -1 when the scenario cannot know (pub, sub: the other side is elsewhere).
    /// </summary>
    public int ReceiversOf(int publisher, IReadOnlyList<bool> subscribed)
    {
        ArgumentNullException.ThrowIfNull(subscribed);
        return Kind switch
        {
            ScenarioKind.P2p => subscribed[publisher] ? 1 : 0,
            ScenarioKind.FanIn => subscribed[0] ? 1 : 0,
            ScenarioKind.FanOut => subscribed.Count(s => s),
            ScenarioKind.Shared => subscribed.Any(s => s) ? 1 : 0,
            _ => -1,
        };
    }
}
