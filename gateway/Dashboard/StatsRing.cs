using AccessLayer.SessionGrains.Nodes;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>
/// The last <see cref="Capacity"/> samples, oldest overwritten: a fixed array allocated once, so history costs the
/// same memory after a day as after ten minutes. One writer (the sampler), readers from any thread.
/// </summary>
internal sealed class StatsRing
{
    private readonly NodeStatsSample[] _samples;
    private readonly Lock _gate = new();
    private int _next;
    private int _count;

    public StatsRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _samples = new NodeStatsSample[capacity];
    }

    public int Capacity => _samples.Length;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public void Add(NodeStatsSample sample)
    {
        lock (_gate)
        {
            _samples[_next] = sample;
            _next = (_next + 1) % _samples.Length;
            _count = Math.Min(_count + 1, _samples.Length);
        }
    }

    /// <summary>The samples taken strictly after <paramref name="since"/>, oldest first.</summary>
    public NodeStatsSample[] Since(DateTimeOffset since)
    {
        lock (_gate)
        {
            var oldest = (_next - _count + _samples.Length) % _samples.Length;
            var result = new List<NodeStatsSample>(Math.Min(_count, 64));
            for (var i = 0; i < _count; i++)
            {
                var sample = _samples[(oldest + i) % _samples.Length];
                if (sample.At > since)
                {
                    result.Add(sample);
                }
            }

            return [.. result];
        }
    }
}
