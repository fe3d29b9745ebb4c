/**
 * Route sets for the router benchmark. Patterns use `:name` params and a final `*` wildcard; each
 * adapter translates them to its router's syntax. Every route has a lookup that exercises it.
 */

/** [method, pattern] */
export type RouteDef = readonly [string, string];
/** [method, path, index of the route expected to match] */
export type Lookup = readonly [string, string, number];

/** Small API (13 routes: static, one param, two params, wildcard), after Hono's router benchmark. */
export const SMALL: RouteDef[] = [
  ['GET', '/user'],
  ['GET', '/user/comments'],
  ['GET', '/user/avatar'],
  ['GET', '/user/lookup/username/:username'],
  ['GET', '/user/lookup/email/:address'],
  ['GET', '/event/:id'],
  ['GET', '/event/:id/comments'],
  ['POST', '/event/:id/comment'],
  ['GET', '/map/:location/events'],
  ['GET', '/status'],
  ['GET', '/very/deeply/nested/route/hello/there'],
  ['GET', '/static/*'],
  ['GET', '/repos/:owner/:repo/releases/:id'],
];

export const SMALL_LOOKUPS: Lookup[] = [
  ['GET', '/user', 0],
  ['GET', '/user/comments', 1],
  ['GET', '/user/lookup/username/hey', 3],
  ['GET', '/event/abcd1234/comments', 6],
  ['POST', '/event/abcd1234/comment', 7],
  ['GET', '/very/deeply/nested/route/hello/there', 10],
  ['GET', '/static/index.html', 11],
  ['GET', '/repos/strata/router/releases/42', 12],
];

/** GitHub REST API v3 (go-http-routing-benchmark's route set, without the routes that router left
 * out because httprouter-style routers refuse them) plus newer endpoints (Actions, checks, apps...). */
const GITHUB_TEXT = `
GET /authorizations
GET /authorizations/:id
POST /authorizations
DELETE /authorizations/:id
GET /applications/:client_id/tokens/:access_token
DELETE /applications/:client_id/tokens
DELETE /applications/:client_id/tokens/:access_token
GET /events
GET /repos/:owner/:repo/events
GET /networks/:owner/:repo/events
GET /orgs/:org/events
GET /users/:user/received_events
GET /users/:user/received_events/public
GET /users/:user/events
GET /users/:user/events/public
GET /users/:user/events/orgs/:org
GET /feeds
GET /notifications
GET /repos/:owner/:repo/notifications
PUT /notifications
PUT /repos/:owner/:repo/notifications
GET /notifications/threads/:id
PATCH /notifications/threads/:id
GET /notifications/threads/:id/subscription
PUT /notifications/threads/:id/subscription
DELETE /notifications/threads/:id/subscription
GET /repos/:owner/:repo/stargazers
GET /users/:user/starred
GET /user/starred
GET /user/starred/:owner/:repo
PUT /user/starred/:owner/:repo
DELETE /user/starred/:owner/:repo
GET /repos/:owner/:repo/subscribers
GET /users/:user/subscriptions
GET /user/subscriptions
GET /repos/:owner/:repo/subscription
PUT /repos/:owner/:repo/subscription
DELETE /repos/:owner/:repo/subscription
GET /user/subscriptions/:owner/:repo
PUT /user/subscriptions/:owner/:repo
DELETE /user/subscriptions/:owner/:repo
GET /users/:user/gists
GET /gists
GET /gists/:id
POST /gists
PATCH /gists/:id
PUT /gists/:id/star
DELETE /gists/:id/star
GET /gists/:id/star
POST /gists/:id/forks
DELETE /gists/:id
GET /repos/:owner/:repo/git/blobs/:sha
POST /repos/:owner/:repo/git/blobs
GET /repos/:owner/:repo/git/commits/:sha
POST /repos/:owner/:repo/git/commits
GET /repos/:owner/:repo/git/refs
GET /repos/:owner/:repo/git/refs/*
POST /repos/:owner/:repo/git/refs
GET /repos/:owner/:repo/git/tags/:sha
POST /repos/:owner/:repo/git/tags
GET /repos/:owner/:repo/git/trees/:sha
POST /repos/:owner/:repo/git/trees
GET /issues
GET /user/issues
GET /orgs/:org/issues
GET /repos/:owner/:repo/issues
GET /repos/:owner/:repo/issues/:number
POST /repos/:owner/:repo/issues
PATCH /repos/:owner/:repo/issues/:number
GET /repos/:owner/:repo/assignees
GET /repos/:owner/:repo/assignees/:assignee
GET /repos/:owner/:repo/issues/:number/comments
POST /repos/:owner/:repo/issues/:number/comments
GET /repos/:owner/:repo/issues/:number/events
GET /repos/:owner/:repo/labels
GET /repos/:owner/:repo/labels/:name
POST /repos/:owner/:repo/labels
PATCH /repos/:owner/:repo/labels/:name
DELETE /repos/:owner/:repo/labels/:name
GET /repos/:owner/:repo/issues/:number/labels
POST /repos/:owner/:repo/issues/:number/labels
DELETE /repos/:owner/:repo/issues/:number/labels/:name
PUT /repos/:owner/:repo/issues/:number/labels
DELETE /repos/:owner/:repo/issues/:number/labels
GET /repos/:owner/:repo/milestones/:number/labels
GET /repos/:owner/:repo/milestones
GET /repos/:owner/:repo/milestones/:number
POST /repos/:owner/:repo/milestones
PATCH /repos/:owner/:repo/milestones/:number
DELETE /repos/:owner/:repo/milestones/:number
GET /emojis
GET /gitignore/templates
GET /gitignore/templates/:name
POST /markdown
POST /markdown/raw
GET /meta
GET /rate_limit
GET /users/:user/orgs
GET /user/orgs
GET /orgs/:org
PATCH /orgs/:org
GET /orgs/:org/members
GET /orgs/:org/members/:user
DELETE /orgs/:org/members/:user
GET /orgs/:org/public_members
GET /orgs/:org/public_members/:user
PUT /orgs/:org/public_members/:user
DELETE /orgs/:org/public_members/:user
GET /orgs/:org/teams
GET /teams/:id
POST /orgs/:org/teams
PATCH /teams/:id
DELETE /teams/:id
GET /teams/:id/members
GET /teams/:id/members/:user
PUT /teams/:id/members/:user
DELETE /teams/:id/members/:user
GET /teams/:id/repos
GET /teams/:id/repos/:owner/:repo
PUT /teams/:id/repos/:owner/:repo
DELETE /teams/:id/repos/:owner/:repo
GET /user/teams
GET /repos/:owner/:repo/pulls
GET /repos/:owner/:repo/pulls/:number
POST /repos/:owner/:repo/pulls
PATCH /repos/:owner/:repo/pulls/:number
GET /repos/:owner/:repo/pulls/:number/commits
GET /repos/:owner/:repo/pulls/:number/files
GET /repos/:owner/:repo/pulls/:number/merge
PUT /repos/:owner/:repo/pulls/:number/merge
GET /repos/:owner/:repo/pulls/:number/comments
PUT /repos/:owner/:repo/pulls/:number/comments
GET /user/repos
GET /users/:user/repos
GET /orgs/:org/repos
GET /repositories
POST /user/repos
POST /orgs/:org/repos
GET /repos/:owner/:repo
PATCH /repos/:owner/:repo
GET /repos/:owner/:repo/contributors
GET /repos/:owner/:repo/languages
GET /repos/:owner/:repo/teams
GET /repos/:owner/:repo/tags
GET /repos/:owner/:repo/branches
GET /repos/:owner/:repo/branches/:branch
DELETE /repos/:owner/:repo
GET /repos/:owner/:repo/collaborators
GET /repos/:owner/:repo/collaborators/:user
PUT /repos/:owner/:repo/collaborators/:user
DELETE /repos/:owner/:repo/collaborators/:user
GET /repos/:owner/:repo/comments
GET /repos/:owner/:repo/commits/:sha/comments
POST /repos/:owner/:repo/commits/:sha/comments
GET /repos/:owner/:repo/comments/:id
PATCH /repos/:owner/:repo/comments/:id
DELETE /repos/:owner/:repo/comments/:id
GET /repos/:owner/:repo/commits
GET /repos/:owner/:repo/commits/:sha
GET /repos/:owner/:repo/readme
GET /repos/:owner/:repo/contents/*
PUT /repos/:owner/:repo/contents/*
DELETE /repos/:owner/:repo/contents/*
GET /repos/:owner/:repo/keys
GET /repos/:owner/:repo/keys/:id
POST /repos/:owner/:repo/keys
PATCH /repos/:owner/:repo/keys/:id
DELETE /repos/:owner/:repo/keys/:id
GET /repos/:owner/:repo/downloads
GET /repos/:owner/:repo/downloads/:id
DELETE /repos/:owner/:repo/downloads/:id
GET /repos/:owner/:repo/forks
POST /repos/:owner/:repo/forks
GET /repos/:owner/:repo/hooks
GET /repos/:owner/:repo/hooks/:id
POST /repos/:owner/:repo/hooks
PATCH /repos/:owner/:repo/hooks/:id
POST /repos/:owner/:repo/hooks/:id/tests
DELETE /repos/:owner/:repo/hooks/:id
POST /repos/:owner/:repo/merges
GET /repos/:owner/:repo/releases
GET /repos/:owner/:repo/releases/:id
POST /repos/:owner/:repo/releases
PATCH /repos/:owner/:repo/releases/:id
DELETE /repos/:owner/:repo/releases/:id
GET /repos/:owner/:repo/releases/:id/assets
GET /repos/:owner/:repo/stats/contributors
GET /repos/:owner/:repo/stats/commit_activity
GET /repos/:owner/:repo/stats/code_frequency
GET /repos/:owner/:repo/stats/participation
GET /repos/:owner/:repo/stats/punch_card
GET /repos/:owner/:repo/statuses/:ref
POST /repos/:owner/:repo/statuses/:ref
GET /search/repositories
GET /search/code
GET /search/issues
GET /search/users
GET /legacy/issues/search/:owner/:repository/:state/:keyword
GET /legacy/repos/search/:keyword
GET /legacy/user/search/:keyword
GET /legacy/user/email/:email
GET /users/:user
GET /user
PATCH /user
GET /users
GET /user/emails
POST /user/emails
DELETE /user/emails
GET /users/:user/followers
GET /user/followers
GET /users/:user/following
GET /user/following
GET /user/following/:user
GET /users/:user/following/:target_user
PUT /user/following/:user
DELETE /user/following/:user
GET /users/:user/keys
GET /user/keys
GET /user/keys/:id
POST /user/keys
PATCH /user/keys/:id
DELETE /user/keys/:id
GET /app
GET /app/installations
GET /app/installations/:installation_id
DELETE /app/installations/:installation_id
POST /app/installations/:installation_id/access_tokens
GET /repos/:owner/:repo/actions/runs
GET /repos/:owner/:repo/actions/runs/:run_id
DELETE /repos/:owner/:repo/actions/runs/:run_id
GET /repos/:owner/:repo/actions/runs/:run_id/jobs
POST /repos/:owner/:repo/actions/runs/:run_id/cancel
POST /repos/:owner/:repo/actions/runs/:run_id/rerun
GET /repos/:owner/:repo/actions/runs/:run_id/logs
GET /repos/:owner/:repo/actions/jobs/:job_id
GET /repos/:owner/:repo/actions/jobs/:job_id/logs
GET /repos/:owner/:repo/actions/workflows
GET /repos/:owner/:repo/actions/workflows/:workflow_id
POST /repos/:owner/:repo/actions/workflows/:workflow_id/dispatches
GET /repos/:owner/:repo/actions/artifacts
GET /repos/:owner/:repo/actions/artifacts/:artifact_id
DELETE /repos/:owner/:repo/actions/artifacts/:artifact_id
GET /repos/:owner/:repo/pulls/:number/reviews
POST /repos/:owner/:repo/pulls/:number/reviews
GET /repos/:owner/:repo/pulls/:number/reviews/:review_id
PUT /repos/:owner/:repo/pulls/:number/reviews/:review_id
GET /repos/:owner/:repo/check-runs/:check_run_id
PATCH /repos/:owner/:repo/check-runs/:check_run_id
POST /repos/:owner/:repo/check-runs
GET /repos/:owner/:repo/check-suites/:check_suite_id
GET /orgs/:org/actions/secrets
`;

export const GITHUB: RouteDef[] = GITHUB_TEXT.trim()
  .split('\n')
  .map((l) => {
    const [m, p] = l.trim().split(' ');
    return [m!, p!] as const;
  });

/** One lookup per route: params filled with sample values, the wildcard with a two-segment rest. */
export const GITHUB_LOOKUPS: Lookup[] = GITHUB.map(([m, p], i) => {
  const path = p
    .split('/')
    .map((s) => (s.startsWith(':') ? `${s.slice(1).replace(/_/g, '')}7` : s === '*' ? 'docs/readme.md' : s))
    .join('/');
  return [m, path, i] as const;
});
