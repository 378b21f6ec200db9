namespace AccessLayer.SessionGrains.Mlp;

/// <summary>
/// The devices a user authenticated on, keyed by user id, for pushes addressed to the user. Bounded like
/// the single node's index: a device that has been offline longer than the push expiry is forgotten, and
/// past <see cref="MlpUserGrain.MaxDevices"/> the longest-offline go first. Called per connection event
/// and per push API call; deactivates after each call.
/// </summary>
public interface IMlpUserGrain : IGrainWithStringKey
{
    /// <summary>The device connected as this user.</summary>
    Task ConnectedAsync(string deviceId, TimeSpan expiry);

    /// <summary>The device went offline (it stays listed until <paramref name="expiry"/> passes).</summary>
    Task DisconnectedAsync(string deviceId, TimeSpan expiry);

    /// <summary>The device logged in as another user.</summary>
    Task RemoveAsync(string deviceId);

    /// <summary>The user's devices, online or not yet expired.</summary>
    Task<string[]> GetDevicesAsync(TimeSpan expiry);
}
