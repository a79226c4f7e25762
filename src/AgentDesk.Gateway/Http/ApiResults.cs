using AgentDesk.Contracts.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Http;

/// <summary>The one mapping from a grain's <see cref="Result{T}"/> to HTTP: 200 with the value, or the rejection as a problem.</summary>
public static class ApiResults
{
    public static Results<Ok<T>, ProblemHttpResult> Of<T>(Result<T> result) =>
        result.IsSuccess ? TypedResults.Ok(result.Value!) : ApiProblems.For(result.Problem!);

    public static Results<Ok<TOut>, ProblemHttpResult> Of<T, TOut>(Result<T> result, Func<T, TOut> map) =>
        result.IsSuccess ? TypedResults.Ok(map(result.Value!)) : ApiProblems.For(result.Problem!);
}
