using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AccessLayer.SessionGrains.Durable;

/// <summary>
/// <see cref="IDurableQueue"/> in Redis (layout: <see cref="DurableKeys"/>, scripts:
/// <see cref="DurableScripts"/>). Appends, acknowledgements and deletes are group-committed: one
/// committer loop takes everything that arrived while the previous commit was in flight (up to
/// <see cref="RedisDurableQueueOptions.MaxBatchCommands"/> commands), sends it as one pipelined
/// batch and completes the callers once Redis answered. No timer: under load batches grow by
/// themselves, alone an operation costs one round trip. Every call waits at most
/// <see cref="RedisDurableQueueOptions.Timeout"/> and then faults with
/// <see cref="DurableQueueUnavailableException"/>; StackExchange.Redis reconnects underneath, so the
/// queue works again once Redis is back.
/// </summary>
internal sealed class RedisDurableQueue : IDurableQueue, IAsyncDisposable
{
    private readonly IDatabase _database;
    private readonly RedisDurableQueueOptions _options;
    private readonly DurableKeys _keys;
    private readonly DurableQueueMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Channel<DurableOperation> _pending;
    private readonly PendingBytes _pendingBytes;
    private readonly Task _committer;

    public RedisDurableQueue(IConnectionMultiplexer redis, RedisDurableQueueOptions options, IMeterFactory meterFactory, ILogger<RedisDurableQueue> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _database = redis.GetDatabase(options.Database);
        _options = options;
        _keys = new DurableKeys(options.KeyPrefix);
        _metrics = new DurableQueueMetrics(meterFactory);
        _logger = logger;
        _timeProvider = timeProvider;
        _pending = Channel.CreateBounded<DurableOperation>(new BoundedChannelOptions(options.MaxPendingOperations)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _pendingBytes = new PendingBytes(options.MaxPendingBytes);
        _committer = Task.Run(CommitLoopAsync);
    }

    public ValueTask AppendAsync(IReadOnlyList<string> clientIds, Guid id, ReadOnlyMemory<byte> delivery, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientIds);
        return clientIds.Count == 0
            ? ValueTask.CompletedTask
            : EnqueueAsync(new DurableOperation(DurableOperationKind.Append, [.. clientIds], DurableKeys.Field(id), delivery.ToArray()), cancellationToken);
    }

    public ValueTask AcknowledgeAsync(string clientId, Guid id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        return EnqueueAsync(new DurableOperation(DurableOperationKind.Acknowledge, [clientId], DurableKeys.Field(id), null), cancellationToken);
    }

    /// <summary>Batched like appends, so it lands after this node's earlier appends to the client (none recreates the queue).</summary>
    public ValueTask DeleteAsync(string clientId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        return EnqueueAsync(new DurableOperation(DurableOperationKind.Delete, [clientId], [], null), cancellationToken);
    }

    public async ValueTask<IReadOnlyList<DurableEntry>> LoadAsync(string clientId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        var result = await WithinTimeoutAsync(_database.ScriptEvaluateAsync(DurableScripts.Load, _keys.Queue(clientId)), "load", cancellationToken).ConfigureAwait(false);
        var items = (RedisResult[]?)result ?? [];
        var entries = new DurableEntry[items.Length / 2];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = new DurableEntry(DurableKeys.Id((byte[])items[2 * i]!), (byte[])items[(2 * i) + 1]!);
        }

        return entries;
    }

    public async ValueTask SetSubscriptionsAsync(string clientId, byte[]? subscriptions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clientId);
        Task write = subscriptions is null
            ? _database.HashDeleteAsync(_keys.Subscriptions, clientId)
            : _database.HashSetAsync(_keys.Subscriptions, clientId, subscriptions);
        await WithinTimeoutAsync(write, "subscriptions write", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>HSCAN page by page (each within the timeout), so a large fleet does not stall Redis with one HGETALL.</summary>
    public async ValueTask<IReadOnlyDictionary<string, byte[]>> LoadSubscriptionsAsync(CancellationToken cancellationToken = default)
    {
        var subscriptions = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var pages = _database.HashScanAsync(_keys.Subscriptions, pageSize: 1000).GetAsyncEnumerator(cancellationToken);
        await using (pages.ConfigureAwait(false))
        {
            while (await WithinTimeoutAsync(pages.MoveNextAsync().AsTask(), "subscriptions load", cancellationToken).ConfigureAwait(false))
            {
                subscriptions[pages.Current.Name!] = pages.Current.Value!;
            }
        }

        return subscriptions;
    }

    /// <summary>Stops taking operations and lets the committer finish what is queued (at most one timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        try
        {
            await _committer.WaitAsync(_options.Timeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    private async ValueTask EnqueueAsync(DurableOperation operation, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.Timeout, _timeProvider);
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken) : null;
        var token = linked?.Token ?? timeout.Token;
        try
        {
            // Waits for room first (bytes, then a place in the queue): back-pressure, within the same timeout.
            await _pendingBytes.AcquireAsync(operation.Weight, token).ConfigureAwait(false);
            try
            {
                await _pending.Writer.WriteAsync(operation, token).ConfigureAwait(false);
            }
            catch
            {
                _pendingBytes.Release(operation.Weight);
                throw;
            }

            await operation.Completion.Task.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _metrics.Failed("timeout", 1);
            throw new DurableQueueUnavailableException($"Redis did not confirm the durable queue {operation.Describe} within {_options.Timeout.TotalSeconds:0.###} s.", timedOut: true);
        }
        catch (DurableQueueUnavailableException exception)
        {
            _metrics.Failed(exception.TimedOut ? "timeout" : "redis_error", 1);
            throw;
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(RedisDurableQueue));
        }
    }

    private async Task CommitLoopAsync()
    {
        var reader = _pending.Reader;
        var batch = new List<DurableOperation>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var commands = 0;
            while (commands < _options.MaxBatchCommands && reader.TryRead(out var operation))
            {
                batch.Add(operation);
                commands += operation.ClientIds.Length;
            }

            try
            {
                await CommitAsync(batch, commands).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                DurableLog.CommitterFailed(_logger, exception);
                foreach (var operation in batch)
                {
                    operation.Completion.TrySetException(new DurableQueueUnavailableException($"The durable queue {operation.Describe} failed: {exception.Message}", exception));
                }
            }

            // Answered, failed or given up: the batch no longer counts against the budget.
            _pendingBytes.Release(batch.Sum(operation => operation.Weight));
            batch.Clear();
        }
    }

    private async Task CommitAsync(List<DurableOperation> batch, int commands)
    {
        // Fired back to back without awaiting: StackExchange.Redis pipelines them on its one connection.
        // Not IBatch: a script inside a batch that meets NOSCRIPT (a restarted or flushed Redis) never
        // completes in StackExchange.Redis 3.4.35, where a plain call reloads it.
        var started = _timeProvider.GetTimestamp();
        var tasks = new Task[commands];
        var t = 0;
        foreach (var operation in batch)
        {
            foreach (var clientId in operation.ClientIds)
            {
                var keys = _keys.Queue(clientId);
                tasks[t++] = operation.Kind switch
                {
                    DurableOperationKind.Append => _database.ScriptEvaluateAsync(DurableScripts.Append, keys, [operation.Field, operation.Delivery, _options.MaxEntriesPerClient]),
                    DurableOperationKind.Acknowledge => _database.ScriptEvaluateAsync(DurableScripts.Acknowledge, keys, [operation.Field]),
                    _ => _database.KeyDeleteAsync(keys),
                };
            }
        }

        var all = Task.WhenAll(tasks);
        var timedOut = false;
        try
        {
            await all.WaitAsync(_options.Timeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Redis is down or stalled: fail this batch and go on with the next; the commands may
            // still complete later (then they land, harmlessly: appends are idempotent per id).
            timedOut = true;
            _ = all.ContinueWith(static task => _ = task.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (Exception)
        {
            // Some commands failed: sorted out per operation below.
        }

        _metrics.Commits.Add(1);
        _metrics.CommitDuration.Record(_timeProvider.GetElapsedTime(started).TotalSeconds);
        if (timedOut)
        {
            DurableLog.CommitTimedOut(_logger, batch.Count, _options.Timeout);
        }

        Complete(batch, tasks, timedOut);
    }

    private void Complete(List<DurableOperation> batch, Task[] tasks, bool timedOut)
    {
        var t = 0;
        Exception? firstError = null;
        long appended = 0, acknowledged = 0, dropped = 0;
        foreach (var operation in batch)
        {
            Exception? error = null;
            var answered = true;
            foreach (var clientId in operation.ClientIds)
            {
                var task = tasks[t++];
                if (!task.IsCompleted)
                {
                    answered = false;
                }
                else if (!task.IsCompletedSuccessfully)
                {
                    error ??= task.Exception?.InnerException ?? new TaskCanceledException(task);
                }
                else if (operation.Kind == DurableOperationKind.Append)
                {
                    appended++;
                    var droppedHere = (long)((Task<RedisResult>)task).Result;
                    if (droppedHere > 0)
                    {
                        dropped += droppedHere;
                        DurableLog.EntriesDropped(_logger, clientId, droppedHere);
                    }
                }
                else if (operation.Kind == DurableOperationKind.Acknowledge)
                {
                    acknowledged++;
                }
            }

            if (error is not null)
            {
                firstError ??= error;
                operation.Completion.TrySetException(new DurableQueueUnavailableException($"Redis refused the durable queue {operation.Describe}: {error.Message}", error));
            }
            else if (!answered)
            {
                operation.Completion.TrySetException(new DurableQueueUnavailableException($"Redis did not answer the durable queue {operation.Describe} within {_options.Timeout.TotalSeconds:0.###} s.", timedOut: true));
            }
            else
            {
                operation.Completion.TrySetResult();
            }
        }

        _metrics.Appended(appended);
        _metrics.Acknowledged(acknowledged);
        _metrics.Dropped(dropped);
        if (firstError is not null && !timedOut)
        {
            DurableLog.CommitFailed(_logger, firstError, batch.Count);
        }
    }

    private async Task WithinTimeoutAsync(Task task, string what, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(_options.Timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or RedisException)
        {
            throw Unavailable(task, exception, what);
        }
    }

    private async Task<T> WithinTimeoutAsync<T>(Task<T> task, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await task.WaitAsync(_options.Timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or RedisException)
        {
            throw Unavailable(task, exception, what);
        }
    }

    private DurableQueueUnavailableException Unavailable(Task task, Exception exception, string what)
    {
        var timedOut = exception is TimeoutException;
        _metrics.Failed(timedOut ? "timeout" : "redis_error", 1);
        if (timedOut)
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return new DurableQueueUnavailableException($"Redis did not answer the durable queue {what} within {_options.Timeout.TotalSeconds:0.###} s.", timedOut: true);
        }

        return new DurableQueueUnavailableException($"Redis refused the durable queue {what}: {exception.Message}", exception);
    }
}
