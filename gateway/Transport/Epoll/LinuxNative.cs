using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AccessLayer.Gateway.Transport.Epoll;

/// <summary>
/// The slice of the Linux (glibc) syscall ABI the epoll engine uses. Everything takes a plain int fd;
/// errors come back as -1 with errno read through <see cref="Marshal.GetLastPInvokeError"/>.
/// </summary>
internal static unsafe partial class LinuxNative
{
    private const string Libc = "libc.so.6";

    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EBADF = 9;

    public const int EpollCloexec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 0x80000000;

    public const int SockNonblock = 0x800;
    public const int SockCloexec = 0x80000;
    public const int MsgNoSignal = 0x4000;
    public const int ShutWr = 1;
    public const int ShutRdWr = 2;
    public const int EfdNonblock = 0x800;
    public const int EfdCloexec = 0x80000;

    public const int SolSocket = 1;
    public const int SoKeepAlive = 9;
    public const int SoSndBuf = 7;
    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;
    public const int TcpKeepIdle = 4;
    public const int TcpKeepIntvl = 5;
    public const int TcpKeepCnt = 6;
    public const int TcpUserTimeout = 18;

    private const int AfInet = 2;
    private const int AfInet6 = 10;

    /// <summary>struct epoll_event is packed on x86-64 (12 bytes), naturally aligned elsewhere (16 bytes).</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epfd, int op, int fd, byte* ev);

    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport(Libc, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, byte* address, int* addressLength, int flags);

    [LibraryImport(Libc, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, int* value, uint length);

    [LibraryImport(Libc, EntryPoint = "getsockname", SetLastError = true)]
    private static partial int GetSockName(int fd, byte* address, uint* length);

    [LibraryImport(Libc, EntryPoint = "getpeername", SetLastError = true)]
    private static partial int GetPeerName(int fd, byte* address, uint* length);

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint length);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint length);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static int EpollAdd(int epfd, int fd, uint events, ulong data)
    {
        var ev = stackalloc byte[16];
        Write(ev, events, data);
        return EpollCtl(epfd, EpollCtlAdd, fd, ev);
    }

    public static int EpollDel(int epfd, int fd)
    {
        var ev = stackalloc byte[16];
        return EpollCtl(epfd, EpollCtlDel, fd, ev);
    }

    public static void ReadEvent(byte* events, int index, out uint flags, out ulong data)
    {
        var ev = events + (index * EpollEventSize);
        flags = *(uint*)ev;
        data = *(ulong*)(ev + EpollDataOffset);
    }

    private static void Write(byte* ev, uint events, ulong data)
    {
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
    }

    /// <returns>0, or the errno.</returns>
    public static int SetOption(int fd, int level, int name, int value)
        => SetSockOpt(fd, level, name, &value, sizeof(int)) == 0 ? 0 : Errno;

    public static IPEndPoint? LocalEndPoint(int fd) => EndPointOf(fd, local: true);

    public static IPEndPoint? RemoteEndPoint(int fd) => EndPointOf(fd, local: false);

    private static IPEndPoint? EndPointOf(int fd, bool local)
    {
        var address = stackalloc byte[128];
        uint length = 128;
        if ((local ? GetSockName(fd, address, &length) : GetPeerName(fd, address, &length)) != 0)
        {
            return null;
        }

        var family = *(ushort*)address;
        var port = (address[2] << 8) | address[3];
        return family switch
        {
            AfInet => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 4, 4)), port),
            AfInet6 => new IPEndPoint(new IPAddress(new ReadOnlySpan<byte>(address + 8, 16), *(uint*)(address + 24)), port),
            _ => null,
        };
    }

    /// <summary>errno as the <see cref="SocketError"/> .NET would report, so the same exception mapping applies.</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        EAGAIN => SocketError.WouldBlock,
        104 => SocketError.ConnectionReset, // ECONNRESET
        32 => SocketError.Shutdown, // EPIPE
        103 => SocketError.ConnectionAborted, // ECONNABORTED
        110 => SocketError.TimedOut, // ETIMEDOUT
        EBADF => SocketError.OperationAborted,
        EINTR => SocketError.Interrupted,
        _ => SocketError.SocketError,
    };
}
