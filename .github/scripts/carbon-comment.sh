#!/usr/bin/env bash
# Post or update the one sticky carbon comment on a pull request, from the reports that the
# gate's runners uploaded. Run by carbon-comment.yml (workflow_run: a write token, never the
# pull request's code). Every input from the artifacts is untrusted: the PR number is used
# only if it is a number AND names a pull request whose head commit is the gate run's.
#
# Environment:
#   REPO        owner/name
#   HEAD_SHA    github.event.workflow_run.head_sha: the commit the gate ran on
#   BOT_LOGIN   the account that posts (github-actions[bot]); only its comments are updated
#   ARTIFACTS   folder with one subfolder per artifact (download-artifact's pattern layout)
#   RUNNERS     "ARTIFACT=NAME ..." e.g. "carbon-report-cpu=cpu carbon-report-gpu=gpu"
#   CARBON      the pytest-carbon command (default: pytest-carbon)
set -euo pipefail
CARBON="${CARBON:-pytest-carbon}"
pr=""
for pair in $RUNNERS; do
  file="$ARTIFACTS/${pair%%=*}/pr-number.txt"
  if [ -f "$file" ]; then pr=$(head -c 20 "$file" | tr -d '[:space:]'); break; fi
done
case "$pr" in
  ''|*[!0-9]*) echo "no pull request number in the artifacts: nothing posted"; exit 0 ;;
esac
if ! head=$(gh api "repos/$REPO/pulls/$pr" --jq .head.sha 2>/dev/null); then
  echo "pull request #$pr was not found: nothing posted"; exit 0
fi
if [ "$head" != "$HEAD_SHA" ]; then
  echo "pull request #$pr's head is ${head:-unknown}, not the gate run's $HEAD_SHA: nothing posted"; exit 0
fi
args=()
for pair in $RUNNERS; do args+=(--runner "${pair#*=}=$ARTIFACTS/${pair%%=*}/carbon-report.json"); done
"$CARBON" comment "${args[@]}" > carbon-comment.md
id=$(gh api "repos/$REPO/issues/$pr/comments" --paginate | "$CARBON" comment --find-own "$BOT_LOGIN")
if [ -n "$id" ]; then
  gh api -X PATCH "repos/$REPO/issues/comments/$id" -F body=@carbon-comment.md > /dev/null
  echo "updated comment $id on #$pr"
else
  gh api "repos/$REPO/issues/$pr/comments" -F body=@carbon-comment.md > /dev/null
  echo "posted a comment on #$pr"
fi
