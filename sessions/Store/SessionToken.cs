namespace AccessLayer.Sessions.Store;

/// <summary>
/// Identifies one connection's ownership of a session: the client id and the epoch the store
/// handed out when that connection opened it. Every change a connection makes carries its
/// token, so a connection that was taken over cannot write into its successor's session (a
/// fencing token; a shared store would check it in the same operation that writes; only the in-memory store exists).
/// </summary>
public readonly record struct SessionToken(string ClientId, long Epoch);
