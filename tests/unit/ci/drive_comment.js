// Run examples/ci/plan-comment.js as actions/github-script would, against a fake REST API.
//
//   node drive_comment.js SCRIPT BASE_URL CONTEXT_JSON
//
// `github` here is a small stand-in for github-script's Octokit: the three issue-comment
// endpoints the script uses and `paginate`, each one a real HTTP request to BASE_URL (the
// fake GitHub server the test runs). Prints one JSON line: what `core` was told.
'use strict';

const [script, base, contextJson] = process.argv.slice(2);
const context = JSON.parse(contextJson);

async function request(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/vnd.github+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status >= 400) {
    const error = new Error(`${method} ${path}: ${response.status} ${text}`);
    error.status = response.status;
    throw error;
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), data };
}

const issues = {
  listComments: ({ owner, repo, issue_number, per_page = 30, page = 1 }) =>
    request('GET', `/repos/${owner}/${repo}/issues/${issue_number}/comments` +
      `?per_page=${per_page}&page=${page}`),
  createComment: ({ owner, repo, issue_number, body }) =>
    request('POST', `/repos/${owner}/${repo}/issues/${issue_number}/comments`, { body }),
  updateComment: ({ owner, repo, comment_id, body }) =>
    request('PATCH', `/repos/${owner}/${repo}/issues/comments/${comment_id}`, { body }),
};

// Octokit's paginate: follow pages until the Link header has no rel="next".
async function paginate(method, params) {
  const all = [];
  for (let page = 1; ; page += 1) {
    const { data, headers } = await method({ ...params, page });
    all.push(...data);
    if (!/rel="next"/.test(headers.link || '')) return all;
  }
}

const told = { info: [], failed: [] };
const core = {
  info: (message) => told.info.push(String(message)),
  warning: (message) => told.info.push(`warning: ${message}`),
  setFailed: (message) => told.failed.push(String(message)),
};

(async () => {
  const run = require(script);
  await run({ github: { rest: { issues }, paginate }, context, core });
  process.stdout.write(JSON.stringify(told) + '\n');
})().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
