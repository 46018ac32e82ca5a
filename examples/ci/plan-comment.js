// Post or update the Styx plan comment on a pull request (run by actions/github-script).
//
//   const run = require('./examples/ci/plan-comment.js');
//   await run({ github, context, core });
//
// One comment per stack file: its first line is a hidden slot marker naming the stack file
// (`<!-- styx-ci: stacks/prod.yaml -->`), so the next push updates the same comment, whether
// the plan worked or failed, and comments for other stack files or by people are left alone.
//
// Read from the environment (the workflow's step sets them):
//   STYX_STACK_FILE    the stack file planned (names the comment's slot)
//   STYX_PLAN_OUTCOME  'success' or 'failure' (the outcome of the `styx plan` step)
//   STYX_PLAN_MD       the markdown plan (`styx plan --format markdown`), read on success
//   STYX_PLAN_ERR      what `styx plan` printed on stderr, read on failure
'use strict';

const fs = require('fs');

// GitHub refuses a comment longer than this (counted in UTF-16 code units, as JS does).
const LIMIT = 65536;
// The most of the error output a failure comment quotes (its end: the error is last).
const MAX_ERROR = 20000;

function slotMarker(stackFile) {
  // Only characters that cannot end the HTML comment or break the line.
  const name = String(stackFile).replace(/[^A-Za-z0-9_.\-/]/g, '-').slice(0, 200);
  return `<!-- styx-ci: ${name} -->`;
}

function runUrl(context) {
  const { owner, repo } = context.repo;
  return `${context.serverUrl}/${owner}/${repo}/actions/runs/${context.runId}`;
}

function readOr(path, fallback) {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    return fallback;
  }
}

// A fenced block that holds any text: a fence longer than any backtick run inside.
function fenced(text) {
  const longest = Math.max(0, ...(text.match(/`+/g) || []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${text}\n${fence}`;
}

function planBody(marker, plan, context) {
  const body = `${marker}\n${plan}`;
  if (body.length <= LIMIT) return body;
  // `styx plan --format markdown` stays under the limit with room for the marker; an
  // older Styx may not. Never post a cut-off table: point to the run instead.
  return (
    `${marker}\n### Styx plan for \`${process.env.STYX_STACK_FILE}\`\n\n` +
    `The plan is ${plan.length.toLocaleString('en-US')} characters long, more than a ` +
    `comment can hold. Read it in [the run's summary](${runUrl(context)}); the saved ` +
    'plan is the `styx-plan` artifact of that run.\n'
  );
}

function failureBody(marker, errorText, context) {
  let text = errorText.trim() || '(styx plan printed nothing on stderr)';
  if (text.length > MAX_ERROR) {
    text = `… ${(text.length - MAX_ERROR).toLocaleString('en-US')} characters cut\n` +
      text.slice(-MAX_ERROR);
  }
  const sha = String(context.sha || '').slice(0, 7);
  return (
    `${marker}\n### Styx plan for \`${process.env.STYX_STACK_FILE}\` failed\n\n` +
    `> [!WARNING]\n> \`styx plan\` failed on ${sha}, so there is no plan for this ` +
    `commit; any plan shown here before was out of date and is gone. ` +
    `See [the run](${runUrl(context)}).\n\n${fenced(text)}\n`
  );
}

function isOurs(comment, marker) {
  // A person quoting the marker must not have their comment overwritten.
  return comment.user && comment.user.type === 'Bot' &&
    typeof comment.body === 'string' && comment.body.split('\n', 1)[0] === marker;
}

module.exports = async function run({ github, context, core }) {
  const stackFile = process.env.STYX_STACK_FILE;
  if (!stackFile) {
    core.setFailed('STYX_STACK_FILE is not set');
    return;
  }
  const marker = slotMarker(stackFile);
  const failed = process.env.STYX_PLAN_OUTCOME !== 'success';
  let body;
  if (failed) {
    body = failureBody(marker, readOr(process.env.STYX_PLAN_ERR || 'plan.err', ''), context);
  } else {
    const plan = readOr(process.env.STYX_PLAN_MD || 'plan.md', null);
    if (plan === null || !plan.startsWith('<!-- styx-plan: ')) {
      core.setFailed('plan.md is missing or does not start with the styx-plan marker');
      return;
    }
    body = planBody(marker, plan, context);
  }
  const { owner, repo } = context.repo;
  const issue_number = context.issue.number;
  const comments = await github.paginate(github.rest.issues.listComments,
    { owner, repo, issue_number, per_page: 100 });
  const mine = comments.find((c) => isOurs(c, marker));
  if (mine) {
    await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
    core.info(`updated comment ${mine.id}`);
  } else {
    const { data } = await github.rest.issues.createComment({ owner, repo, issue_number, body });
    core.info(`created comment ${data.id}`);
  }
  if (failed) core.setFailed('styx plan failed; the pull request comment says why');
};

module.exports.slotMarker = slotMarker;
module.exports.LIMIT = LIMIT;
