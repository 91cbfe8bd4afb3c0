namespace Loadshift.Dashboards.Tests;

internal static class Net
{
    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>GETs url until it answers 2xx or the time is up; fails with the program's output.</summary>
    public static async Task WaitUntilReadyAsync(string url, BackgroundProcess process, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var response = await Http.GetAsync(url);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.False(process.HasExited, $"{process.Name} exited:\n{process.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"{url} did not answer within {timeout}:\n{process.Output}");
            await Task.Delay(200);
        }
    }
}
