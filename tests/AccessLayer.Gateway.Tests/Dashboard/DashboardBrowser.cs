using PuppeteerSharp;

namespace AccessLayer.Gateway.Tests.Dashboard;

/// <summary>
/// Debian's chromium (test.sh installs it), driven by PuppeteerSharp; never a downloaded browser. One page on a
/// node's dashboard: sign in, wait for what the page shows (bounded), screenshots into <see cref="ScreenshotDirectory"/>,
/// and every console error (a Content-Security-Policy violation shows as one) collected.
/// </summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly IBrowser _browser;
    private readonly List<string> _consoleErrors = [];

    private DashboardBrowser(IBrowser browser, IPage page)
    {
        _browser = browser;
        Page = page;
        page.Console += (_, e) =>
        {
            if (e.Message.Type == ConsoleType.Error)
            {
                lock (_consoleErrors)
                {
                    _consoleErrors.Add(e.Message.Text + " " + e.Message.Location?.URL);
                }
            }
        };
        page.PageError += (_, e) =>
        {
            lock (_consoleErrors)
            {
                _consoleErrors.Add(e.Message);
            }
        };
    }

    /// <summary>Where the screenshots go: <c>dashboard-screenshots</c> beside the test assembly (tests/AccessLayer.Gateway.Tests/bin/Release/net10.0/).</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "dashboard-screenshots");

    public IPage Page { get; }

    public IReadOnlyList<string> ConsoleErrors
    {
        get
        {
            lock (_consoleErrors)
            {
                return [.. _consoleErrors];
            }
        }
    }

    public static async Task<DashboardBrowser> OpenAsync(Uri dashboard)
    {
        var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage"],
            Timeout = (int)Patience.TotalMilliseconds,
        });
        try
        {
            var page = await browser.NewPageAsync();
            page.DefaultTimeout = (int)Patience.TotalMilliseconds;
            await page.SetViewportAsync(new ViewPortOptions { Width = 1400, Height = 1000 });
            var instance = new DashboardBrowser(browser, page);
            await page.GoToAsync(dashboard.ToString());
            return instance;
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }
    }

    public async Task SignInAsync(string token)
    {
        await Page.WaitForSelectorAsync("#token", new WaitForSelectorOptions { Visible = true });
        await Page.TypeAsync("#token", token);
        await Page.ClickAsync("#login-submit");
        await Page.WaitForSelectorAsync("#login", new WaitForSelectorOptions { Hidden = true });
    }

    /// <summary>Waits until <paramref name="predicate"/> (a JavaScript expression) is true in the page.</summary>
    public Task UntilAsync(string predicate) =>
        Page.WaitForFunctionAsync("() => { try { return !!(" + predicate + "); } catch { return false; } }", new WaitForFunctionOptions { Timeout = (int)Patience.TotalMilliseconds, PollingInterval = 100 });

    public Task<T> EvalAsync<T>(string expression) => Page.EvaluateExpressionAsync<T>(expression);

    /// <summary>Clicks the in-page confirmation dialog's Confirm once it is open.</summary>
    public async Task ConfirmAsync()
    {
        await UntilAsync("document.getElementById('confirm').open");
        await Page.ClickAsync("#confirm-ok");
        await UntilAsync("!document.getElementById('confirm').open");
    }

    public async Task<string> ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        await Page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await Page.CloseAsync();
        await _browser.CloseAsync();
        await _browser.DisposeAsync();
    }
}

/// <summary>A browser test: skipped, with the reason, only when Debian's chromium is not installed.</summary>
internal sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!File.Exists(DashboardBrowser.ChromiumPath))
        {
            Skip = $"{DashboardBrowser.ChromiumPath} is absent after test.sh's install step (apt-get install chromium): the dashboard's browser tests are skipped";
        }
    }
}
