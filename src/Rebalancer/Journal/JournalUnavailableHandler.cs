using Microsoft.AspNetCore.Diagnostics;

namespace Loadshift.Rebalancer.Journal;

/// <summary>A journal that cannot be read or written answers 503 with problem details on every endpoint (a retry can
/// help: the disk comes back, the other writer lets go), not a bare 500.</summary>
internal sealed class JournalUnavailableHandler(IProblemDetailsService problemDetails, ILogger<JournalUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not JournalException)
        {
            return false;
        }
        Log.JournalUnavailable(logger, httpContext.Request.Path, exception.Message);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = "Journal unavailable", Detail = exception.Message },
        }).ConfigureAwait(false);
    }
}
