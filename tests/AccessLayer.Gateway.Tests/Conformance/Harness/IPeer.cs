namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>Something a test talks to whose conversation is printed when the test ends.</summary>
internal interface IPeer : IAsyncDisposable
{
    string Name { get; }

    IReadOnlyList<string> Transcript();
}
