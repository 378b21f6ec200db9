using System.Buffers;

namespace AccessLayer.Fuzz;

/// <summary>One decoder (or decoder chain) fed the way the gateway feeds it.</summary>
public interface IFuzzTarget
{
    string Name { get; }

    /// <summary>Valid encodings the mutator starts from; the first byte of each picks the target's mode.</summary>
    IReadOnlyList<byte[]> Corpus { get; }

    /// <summary>The exception types the decoder documents for bad input: a connection error, not a crash.</summary>
    bool IsExpected(Exception exception);

    /// <summary>
    /// Decodes one input. Throws an expected exception for bad input; any other exception is a crash.
    /// A broken bound (a buffer or table past its limit) throws <see cref="FuzzBoundException"/>.
    /// </summary>
    void Run(in ReadOnlySequence<byte> input);

    /// <summary>The largest buffer, table or message one decode held on to so far (bytes).</summary>
    long MaxRetained { get; }

    /// <summary>What <see cref="MaxRetained"/> must never exceed (the configured limit).</summary>
    long RetainedBound { get; }
}

/// <summary>A decoder kept more than its limit allows: counted as a crash.</summary>
public sealed class FuzzBoundException : Exception
{
    public FuzzBoundException()
    {
    }

    public FuzzBoundException(string message)
        : base(message)
    {
    }

    public FuzzBoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
