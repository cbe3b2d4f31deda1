// Package graph is the provisioner's client for Microsoft Graph v1.0: users,
// deleted items, managers, licences, groups, members, domains and their
// federation, over net/http and encoding/json, with app-only tokens from
// MSAL (client secret or certificate). It follows Graph as documented in
// docs/graph.md, the project's notes on Graph (cited as graph.md §N).
//
// # Shape
//
// Every call becomes a *Request (CreateUserRequest, PatchUserRequest,
// AssignLicenseRequest, …, or NewRequest) and goes through one dispatcher:
//
//	caller ─▶ queue ─▶ senders ─▶ pacer ─▶ POST /$batch (2–20) or the request alone
//	                       ▲                                  │
//	                       └──── retries, due after backoff ◀─┘
//
// Typed methods (CreateUser, PatchUser, AddMembers, …) block until their
// request is answered. Calls made concurrently, from any number of
// goroutines, are packed up to 20 per $batch. Senders bound HTTP
// exchanges, not callers: MaxThreads of them at first, more when Graph
// answers slowly, so that the write rate times the measured latency
// (bandwidth × delay) is on the wire, up to 64. InFlight tells an executor
// how many requests to keep submitted for that, which also keeps batches
// full. A Batch submits many
// requests at once and links those that must run in order (dependsOn); a
// linked chain always travels in one $batch. Do returns the raw *Response,
// whose RequestID is what an audit log wants (inside a $batch, the
// batch's: the one Microsoft can trace).
//
// # Budget
//
// Graph allows one app 3,000 writes per 150 s and, in a small tenant, 3,500
// resource units per 10 s (graph.md §6.2). The pacer spends both at that
// rate: a token bucket spreads requests evenly and a sliding window, whose
// entries are dated by the answer's arrival, keeps any window from holding
// more than the quota (minus Limits.Headroom), whatever way Graph counts.
// Both cost O(1) per request. Resource units are estimated from the cost table and corrected by
// x-ms-resource-unit. A 429 pauses everything for its Retry-After
// (fractional seconds too), empties the bucket, cuts the rate by a fifth and
// lets it recover step by step. Writes that change nothing are not sent: an
// empty PATCH, an empty licence change, an empty member list.
//
// # Failures
//
// Errors from Graph are *Error values (status, code, message, details,
// request-id); IsNotFound, IsConflict (with the conflicting property),
// IsThrottled, IsRetryable, IsNoUsageLocation and IsNoFreeLicenses read
// them. A request is sent again only when that is safe:
//
//   - 429 and 503: always (Graph did not take it), after Retry-After or an
//     exponential backoff with jitter.
//   - 500, 502, 504, a timeout or a lost connection: only idempotent
//     requests (GET, PATCH, PUT, DELETE, member add, assignLicense). A POST
//     /users, /groups or restore fails with ErrOutcomeUnknown instead: the
//     caller looks the object up before creating it again. A DELETE that
//     answers 404 after such a failure has succeeded; any other refusal
//     after it is ErrOutcomeUnknown too.
//   - 404 naming an object this client created or restored a moment ago:
//     replication lag (graph.md §7), retried after 1, 2, 4, 8, 16 s; every
//     other 404 is final.
//   - 401: the token is dropped and fetched again, once.
//
// Adding a member already present and removing one already gone succeed.
// Inside a $batch each request is judged on its own and only the failed ones
// are sent again; a request whose dependency fails for good ends with
// ErrDependencyFailed wrapping the dependency's error.
//
// # Time
//
// The Clock is the wall clock unless a test injects one. Against the fake
// tenant run with a time scale, keep the wall clock (Retry-After is wall
// time) and shorten the windows and backoffs: the target's timeScale does
// it (Limits.Scaled and RetryPolicy.Scaled).
//
// # Observability
//
// Each request is logged at debug level with method, path template (never
// an id or a UPN), status, request-id, duration and resource units. Metrics
// receives counters and durations; Stats is an in-memory implementation.
// Secrets and tokens appear in neither.
package graph
