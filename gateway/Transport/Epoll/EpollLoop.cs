using System.Runtime.InteropServices;

namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>
/// One thread and one epoll instance. Connections are registered once, edge-triggered, for both
/// directions; the loop only turns kernel readiness into flags on the reader/writer and wakes whoever
/// waits. It never reads or writes a connection itself, so a slow handler cannot stall other sockets
/// unless continuations are configured to run inline.
/// </summary>
internal sealed unsafe class EpollLoop : IDisposable
{
    /// <summary>epoll_wait; a test replaces it to make the wait fail. Returns the count, or -1 with <paramref name="errno"/>.</summary>
    public delegate int WaitFunction(int epfd, nint events, int maxEvents, int timeout, out int errno);

    private const int MaxEvents = 256;
    private const ulong WakeToken = ulong.MaxValue;

    private readonly int _epollFd;
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private readonly Lock _lock = new();
    private IEpollHandler?[] _slots = new IEpollHandler?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _free = new();
    private int _used;
    private readonly WaitFunction _wait;
    private volatile bool _stopping;
    private volatile bool _failed;

    public EpollLoop(EpollEngine engine, int index, WaitFunction? wait = null)
    {
        Engine = engine;
        _wait = wait ?? SystemWait;
        _epollFd = LinuxNative.EpollCreate1(LinuxNative.EpollCloexec);
        if (_epollFd < 0)
        {
            throw EpollErrors.Failed("epoll_create1", LinuxNative.Errno);
        }

        _wakeFd = LinuxNative.EventFd(0, LinuxNative.EfdNonblock | LinuxNative.EfdCloexec);
        if (_wakeFd < 0 || LinuxNative.EpollAdd(_epollFd, _wakeFd, LinuxNative.EpollIn, WakeToken) != 0)
        {
            var errno = LinuxNative.Errno;
            LinuxNative.Close(_epollFd);
            throw EpollErrors.Failed("eventfd", errno);
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"epoll-{index}" };
        _thread.UnsafeStart();
    }

    public EpollEngine Engine { get; }

    /// <summary>The wait failed and the loop thread ended: it serves nothing anymore, new connections go to other loops.</summary>
    public bool Failed => _failed;

    /// <summary>Registered handlers (connections) right now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _used - _free.Count;
            }
        }
    }

    /// <summary>Adds <paramref name="fd"/> edge-triggered for reads, writes and hang-ups.</summary>
    /// <returns>0, or the errno of epoll_ctl.</returns>
    public int Register(int fd, IEpollHandler handler)
    {
        lock (_lock)
        {
            if (!_free.TryPop(out var slot))
            {
                if (_used == _slots.Length)
                {
                    Array.Resize(ref _generations, _slots.Length * 2);
                    var grown = new IEpollHandler?[_slots.Length * 2];
                    _slots.CopyTo(grown, 0);
                    Volatile.Write(ref _slots, grown);
                }

                slot = _used++;
            }

            var token = ((ulong)++_generations[slot] << 32) | (uint)slot;
            handler.EpollToken = token;
            _slots[slot] = handler;
            if (LinuxNative.EpollAdd(_epollFd, fd, LinuxNative.EpollIn | LinuxNative.EpollOut | LinuxNative.EpollRdHup | LinuxNative.EpollEt, token) != 0)
            {
                var errno = LinuxNative.Errno;
                _slots[slot] = null;
                _free.Push(slot);
                return errno;
            }

            return 0;
        }
    }

    /// <summary>Forgets the handler; call before its fd is closed (close removes the fd from epoll).</summary>
    public void Unregister(IEpollHandler handler)
    {
        lock (_lock)
        {
            var slot = (int)(uint)handler.EpollToken;
            if (slot < _used && ReferenceEquals(_slots[slot], handler))
            {
                _slots[slot] = null;
                _free.Push(slot);
            }
        }
    }

    /// <summary>The handlers registered now (for shutdown).</summary>
    public List<IEpollHandler> Snapshot()
    {
        lock (_lock)
        {
            var list = new List<IEpollHandler>(_used - _free.Count);
            for (var i = 0; i < _used; i++)
            {
                if (_slots[i] is { } handler)
                {
                    list.Add(handler);
                }
            }

            return list;
        }
    }

    public void Dispose()
    {
        _stopping = true;
        ulong one = 1;
        LinuxNative.Write(_wakeFd, (byte*)&one, sizeof(ulong));
        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        LinuxNative.Close(_wakeFd);
        LinuxNative.Close(_epollFd);
    }

    /// <summary>The real epoll_wait.</summary>
    public static int SystemWait(int epfd, nint events, int maxEvents, int timeout, out int errno)
    {
        var count = LinuxNative.EpollWait(epfd, (byte*)events, maxEvents, timeout);
        errno = count < 0 ? LinuxNative.Errno : 0;
        return count;
    }

    private void Run()
    {
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * LinuxNative.EpollEventSize));
        try
        {
            while (!_stopping)
            {
                var count = _wait(_epollFd, (nint)events, MaxEvents, -1, out var errno);
                if (count < 0)
                {
                    if (errno == LinuxNative.EINTR)
                    {
                        continue;
                    }

                    if (!_stopping)
                    {
                        // Not transient (EBADF, EINVAL, EFAULT): retrying would spin. No readiness will ever reach
                        // this loop's connections again, so they are closed (their clients reconnect elsewhere)
                        // rather than left hanging, and the failure is logged instead of passing unseen.
                        _failed = true;
                        Engine.OnLoopFailed(this, errno);
                    }

                    return;
                }

                for (var i = 0; i < count; i++)
                {
                    LinuxNative.ReadEvent(events, i, out var flags, out var token);
                    if (token == WakeToken)
                    {
                        continue;
                    }

                    // Read the table per event: a registration may have grown it meanwhile.
                    var slots = Volatile.Read(ref _slots);
                    var slot = (int)(uint)token;
                    // A stale event (the slot was freed and reused in between) carries an older generation.
                    if (Volatile.Read(ref slots[slot]) is { } handler && handler.EpollToken == token)
                    {
                        try
                        {
                            handler.OnEvents(flags);
                        }
                        catch (Exception ex)
                        {
                            // Inline continuations run connection code here: whatever escapes it ends that
                            // connection, never the loop (an exception leaving this thread ends the process).
                            Engine.OnHandlerFailed(handler, ex);
                        }
                    }
                }
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }
}
