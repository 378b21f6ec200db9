namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>Something registered with an <see cref="EpollLoop"/>: told on the loop thread which events fired.</summary>
internal interface IEpollHandler
{
    /// <summary>Slot and generation this handler was registered under; events carrying another token are stale.</summary>
    ulong EpollToken { get; set; }

    void OnEvents(uint events);
}
