using AccessLayer.Gateway.Security;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>The ACL applied to subscriptions that outlive a SUBSCRIBE: a resumed session's, and live clients' after a reload.</summary>
internal sealed partial class MqttBroker
{
    /// <summary>
    /// A resumed session's subscriptions are checked against the ACL of who connects now (the
    /// rules or the identity may have changed since they were made): a filter now refused is
    /// removed from router and session, one overlapping a denied area makes deliveries checked.
    /// </summary>
    private async ValueTask RecheckSubscriptionsAsync(MqttConnection connection, SessionToken token, SessionState state)
    {
        foreach (var subscription in state.Subscriptions)
        {
            var access = connection.AuthorizeSubscribe(subscription.TopicFilter, "resume");
            if (access != SubscriptionAccess.Refused)
            {
                connection.SubscriptionStored(access);
                continue;
            }

            await Router.UnsubscribeAsync(token.ClientId, subscription.TopicFilter).ConfigureAwait(false);
            await Sessions.RemoveSubscriptionAsync(token, subscription.TopicFilter).ConfigureAwait(false);
        }
    }

    /// <summary>After an ACL reload: every connected client gets its rules compiled again (and its subscriptions re-classified). Returns how many.</summary>
    public async ValueTask<int> ApplyAclAsync(AclRuleSet rules)
    {
        var count = 0;
        foreach (var connection in _clients.Values)
        {
            if (connection.ClientId is { } clientId)
            {
                await connection.ApplyAclAsync(rules.ForClient(clientId, connection.Identity)).ConfigureAwait(false);
                count++;
            }
        }

        return count;
    }
}
