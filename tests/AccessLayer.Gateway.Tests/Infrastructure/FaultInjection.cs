using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace AccessLayer.Gateway.Tests.Infrastructure;

/// <summary>
/// Makes one method of a registered service throw, a number of times, while every other call reaches
/// the real implementation: the fault a real store (a network hiccup, a bug) would raise, nothing else changed.
/// </summary>
internal static class FaultInjection
{
    /// <summary>Replaces the registration of <typeparamref name="TService"/> with the real one behind a faulty proxy.</summary>
    public static Fault<TService> Inject<TService>(IServiceCollection services, string method, int times, Func<Exception> exception)
        where TService : class
    {
        var descriptor = services.Last(d => d.ServiceType == typeof(TService));
        services.Remove(descriptor);
        var fault = new Fault<TService>(method, times, exception);
        services.AddSingleton(sp =>
        {
            var inner = descriptor.ImplementationInstance as TService
                ?? descriptor.ImplementationFactory?.Invoke(sp) as TService
                ?? (TService)ActivatorUtilities.CreateInstance(sp, descriptor.ImplementationType!);
            var proxy = DispatchProxy.Create<TService, FaultyProxy<TService>>();
            ((FaultyProxy<TService>)(object)proxy).Init(inner, fault);
            return proxy;
        });
        return fault;
    }
}

internal sealed class Fault<TService>(string method, int times, Func<Exception> exception)
{
    private int _remaining = times;
    private int _calls;
    private int _fired;

    public string Method => method;

    /// <summary>Calls of the faulty method so far, failed or not.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Calls that threw.</summary>
    public int Fired => Volatile.Read(ref _fired);

    /// <summary>The next <paramref name="count"/> calls throw.</summary>
    public void Arm(int count) => Volatile.Write(ref _remaining, count);

    internal Exception? Next()
    {
        Interlocked.Increment(ref _calls);
        if (Interlocked.Decrement(ref _remaining) < 0)
        {
            return null;
        }

        Interlocked.Increment(ref _fired);
        return exception();
    }
}

public class FaultyProxy<TService> : DispatchProxy
{
    private TService _inner = default!;
    private object _fault = default!;

    internal void Init(TService inner, Fault<TService> fault)
    {
        _inner = inner;
        _fault = fault;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var fault = (Fault<TService>)_fault;
        if (targetMethod!.Name == fault.Method && fault.Next() is { } exception)
        {
            throw exception;
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            throw ex.InnerException;
        }
    }
}

/// <summary>An exception no transport or store is expected to throw: what a bug looks like.</summary>
internal sealed class InjectedFaultException() : Exception("injected fault");

/// <summary>Counts <c>gateway.loop.failures</c> by its <c>loop</c> tag (only the test's own fault raises them).</summary>
internal sealed class LoopFailureCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public LoopFailureCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "gateway.loop.failures")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "loop" && tag.Value is string loop)
                {
                    _counts.AddOrUpdate(loop, value, (_, total) => total + value);
                }
            }
        });
        _listener.Start();
    }

    public long this[string loop] => _counts.TryGetValue(loop, out var count) ? count : 0;

    public void Dispose() => _listener.Dispose();
}
