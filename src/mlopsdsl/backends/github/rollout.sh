# The deploy job's rollout (mlopsdsl, backends/github/rollout.sh): one constant script for every
# strategy and environment; everything that differs arrives in env (see deploy.py). Sequence and
# reasons: docs/targets/kserve.md, "Rollouts".
set -euo pipefail
umask 077
kubeconfig="$RUNNER_TEMP/kubeconfig"
previous="$RUNNER_TEMP/previous-isvc.json"
candidate="$RUNNER_TEMP/candidate-isvc.json"
trap 'rm -f "$kubeconfig"' EXIT
printf '%s\n' "$KUBECONFIG_DATA" > "$kubeconfig"
export KUBECONFIG="$kubeconfig"
read -r -a components <<< "$COMPONENTS"
read -r -a steps <<< "$ROLLOUT_STEPS"
components_json=$(printf '%s\n' "${components[@]}" | jq -R . | jq -sc .)
apply=(kubectl apply --server-side --force-conflicts --field-manager=mlopsdsl -n "$NAMESPACE")

isvc() {
  kubectl get isvc "$ISVC" -n "$NAMESPACE" -o json
}

# Each component's latest created revision, as a JSON object (what "new" is measured against).
revisions() {
  isvc | jq -c --argjson cs "$components_json" \
    '[$cs[] as $c | {($c): (.status.components[$c].latestCreatedRevision // "")}] | add'
}

# canaryTrafficPercent on every component (the transformer moves with the predictor); "null" removes it.
set_traffic() {
  case "$1" in
    null | [0-9] | [1-9][0-9] | 100) ;;
    *) echo "::error::invalid traffic percent"; exit 1 ;;
  esac
  local patch
  patch=$(jq -nc --argjson cs "$components_json" --argjson p "$1" \
    '{spec: ([$cs[] | {(.): {canaryTrafficPercent: $p}}] | add)}')
  kubectl patch isvc "$ISVC" -n "$NAMESPACE" --type merge --field-manager=mlopsdsl -p "$patch" > /dev/null
}

# Conditions on the live object, true once the controller has done what was asked. "Ready" alone
# can be stale (the status of the revision before): each also names the revision it expects.
# (`$cs`, `$before` and `$p` in them are jq variables, bound by `await`.)
ready='(.status.conditions // []) | any(.type == "Ready" and .status == "True")'
# shellcheck disable=SC2016
revision_ready='[$cs[] as $c | .status.components[$c] | (.latestCreatedRevision // "") != ($before[$c] // "")
  and .latestReadyRevision == .latestCreatedRevision] | all'
# shellcheck disable=SC2016
serving_percent='[$cs[] as $c | .status.components[$c] | .latestCreatedRevision as $r
  | .latestReadyRevision == $r and ([.traffic[]? | select(.revisionName == $r) | .percent] | add // 0) == $p] | all'
# shellcheck disable=SC2016
rolled_out='[$cs[] as $c | .status.components[$c] | .latestReadyRevision == .latestCreatedRevision
  and .latestRolledoutRevision == .latestCreatedRevision] | all'

# await FILTER WHAT [PERCENT]: poll until FILTER holds (and Ready), at most READY_TIMEOUT seconds.
await() {
  local i object
  for ((i = 0; i * POLL < READY_TIMEOUT; i++)); do
    if object=$(isvc) && jq -e --argjson cs "$components_json" --argjson before "$before" \
      --argjson p "${3:-0}" "($ready) and ($1)" <<< "$object" > /dev/null; then
      return 0
    fi
    sleep "$POLL"
  done
  echo "::error::not ready after ${READY_TIMEOUT}s: $2"
  return 1
}

tag_url() {
  isvc | jq -r --arg c "$ENTRY" --arg t "$1" \
    '[.status.components[$c].traffic[]? | select(.tag == $t) | .url] | first // ""'
}

# query PROMQL: prints Prometheus' JSON answer; fails when Prometheus does.
query() {
  local auth=()
  if [ -n "$PROMETHEUS_TOKEN" ]; then
    auth=(--config -)
  fi
  printf 'header = "Authorization: Bearer %s"\n' "$PROMETHEUS_TOKEN" |
    curl --fail --silent --show-error "${auth[@]}" --get --data-urlencode "query=$1" "$PROMETHEUS_URL/api/v1/query"
}

# series PROMQL: 0 when it returns a series, 1 when it returns none, 2 when Prometheus fails.
series() {
  local answer
  answer=$(query "$1") || return 2
  jq -e '.status == "success"' <<< "$answer" > /dev/null || return 2
  jq -e '.data.result | length > 0' <<< "$answer" > /dev/null || return 1
}

probe() {
  local url i
  url=$(tag_url latest)
  if [ -z "$url" ] || [ -z "$PROBE_PATH" ]; then
    echo "::error::no tag URL of the new revision to probe"
    return 1
  fi
  for ((i = 0; i < PROBE_REQUESTS; i++)); do
    curl --fail --silent --show-error -H 'Content-Type: application/json' --data-binary @"$PROBE_BODY" \
      "$url$PROBE_PATH" > /dev/null || { echo "::error::probe request $((i + 1)) failed"; return 1; }
  done
  echo "sent $PROBE_REQUESTS probe requests to the new revision"
}

# gate: does the new revision (only it, not the whole service) meet the analysis?
gate() {
  if [ -z "$GATE_HEALTHY" ]; then
    return 0
  fi
  if [ -z "$PROMETHEUS_URL" ]; then
    echo "::error::the PROMETHEUS_URL variable is not set: cannot run the rollout analysis"
    return 1
  fi
  local revision healthy traffic requests answer rc=0
  revision=$(isvc | jq -r '.status.components.predictor.latestCreatedRevision // ""')
  if [ "$GATE_PER_REVISION" = true ] && ! [[ "$revision" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]]; then
    echo "::error::the new revision's name is not a DNS label: $revision"
    return 1
  fi
  healthy=${GATE_HEALTHY//"$REVISION_PLACEHOLDER"/$revision}
  traffic=${GATE_TRAFFIC//"$REVISION_PLACEHOLDER"/$revision}
  requests=${GATE_REQUESTS//"$REVISION_PLACEHOLDER"/$revision}
  if [ -n "$requests" ] && answer=$(query "$requests"); then
    echo "revision $revision served $(jq -r '.data.result[0].value[1] // "0"' <<< "$answer") requests in the window"
  fi
  if [ -n "$traffic" ]; then
    series "$traffic" || rc=$?
    if [ "$rc" = 2 ]; then
      echo "::error::Prometheus did not answer the traffic query"
      return 1
    fi
    if [ "$rc" = 1 ]; then
      case "$NO_TRAFFIC" in
        promote)
          echo "::warning::revision $revision got too few requests to judge; promoting on readiness (no_traffic: promote)"
          return 0 ;;
        probe)
          probe || return 1
          sleep "$STEP_WAIT"
          rc=0
          series "$traffic" || rc=$?
          if [ "$rc" != 0 ]; then
            echo "::error::revision $revision still has too few requests after the probe"
            return 1
          fi ;;
        *)
          echo "::error::revision $revision got too few requests to judge (no_traffic: rollback)"
          return 1 ;;
      esac
    fi
  fi
  rc=0
  series "$healthy" || rc=$?
  if [ "$rc" = 0 ]; then
    echo "revision $revision meets the rollout analysis"
    return 0
  fi
  echo "::error::revision $revision fails the rollout analysis$([ "$rc" = 2 ] && echo ' (Prometheus did not answer)')"
  return 1
}

# Any failure after the apply: traffic back to the last rolled-out revision at once, then the
# previous spec re-applied so that the failed revision is no longer the latest one (the next
# apply would otherwise send it traffic); that spec's new revision takes all traffic once ready.
rollback() {
  echo "::error::$1: rolling back to the previous spec"
  if [ "$existed" = false ]; then
    echo "::error::a first deploy has no previous revision to return to"
    exit 1
  fi
  set_traffic 0
  before=$(revisions)
  "${apply[@]}" -f "$previous" > /dev/null
  if await "$revision_ready" "the restored spec's revision" && set_traffic null &&
    await "$rolled_out" "the restored spec's revision taking all traffic"; then
    echo "rolled back: the previous spec is live again"
  else
    echo "::error::the restored spec did not become ready either; look at the InferenceService now"
  fi
  exit 1
}

# The primary InferenceService carries the digest of its manifest: equal digests mean nothing to
# roll out (no new revision would come); the other generated objects are applied as they are.
digest=$(sha256sum "$MANIFESTS/$ISVC.yaml" | cut -d' ' -f1)
python -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$MANIFESTS/$ISVC.yaml" |
  jq --arg d "$digest" '.metadata.annotations["mlopsdsl.io/manifest-digest"] = $d' > "$candidate"
existed=false
before='{}'  # no revision before: the first one counts as new
if live=$(isvc 2> /dev/null); then
  existed=true
  jq '{apiVersion, kind, metadata: {name: .metadata.name, namespace: .metadata.namespace,
      labels: (.metadata.labels // {}), annotations: (.metadata.annotations // {}
      | del(.["kubectl.kubernetes.io/last-applied-configuration"]))},
      spec: (.spec | del(.predictor.canaryTrafficPercent, .transformer.canaryTrafficPercent))}' \
    <<< "$live" > "$previous"
  if [ "$(jq -r '.metadata.annotations["mlopsdsl.io/manifest-digest"] // ""' <<< "$live")" = "$digest" ]; then
    # The same manifest: no new revision will come. Done, unless an interrupted run left a split,
    # which this run walks to the end again (its revision is the latest one already).
    if jq -e --argjson cs "$components_json" '[$cs[] as $c | .spec[$c].canaryTrafficPercent == null] | all' \
      <<< "$live" > /dev/null; then
      echo "$ISVC already runs this manifest: nothing to roll out"
      await 'true' "$ISVC" || exit 1
      exit 0
    fi
  else
    before=$(revisions)
  fi
fi
for manifest in "$MANIFESTS"/*.yaml; do
  if [ "$manifest" != "$MANIFESTS/$ISVC.yaml" ]; then
    "${apply[@]}" -f "$manifest" > /dev/null
  fi
done
"${apply[@]}" -f "$candidate"

if [ "$existed" = false ]; then
  await "$revision_ready" "the first revision" || { echo "::error::first deploy of $ISVC did not become ready"; exit 1; }
  echo "$ISVC deployed (first revision: KServe sends it all traffic)"
  exit 0
fi
if [ "$STRATEGY" = direct ]; then
  set_traffic null
  await "$revision_ready" "the new revision" || rollback "the new revision did not become ready"
  await "$rolled_out" "the new revision taking all traffic" || rollback "the new revision did not take the traffic"
  echo "$ISVC rolled out (direct)"
  exit 0
fi

if [ "$STRATEGY" = blue_green ]; then
  await "$revision_ready" "the new revision beside the old one" || rollback "the new revision did not become ready"
  if [ -n "$HEALTH_PATH" ]; then
    url=$(tag_url latest)
    if [ -z "$url" ] || ! curl --fail --silent --show-error --retry 3 --retry-delay 2 --retry-all-errors \
      "$url$HEALTH_PATH" > /dev/null; then
      rollback "the smoke test of the new revision failed"
    fi
  fi
  set_traffic 100
  before='{}'
  await "$serving_percent" "the switch to the new revision" 100 || rollback "the switch did not complete"
  if [ -n "$GATE_HEALTHY" ]; then
    sleep "$STEP_WAIT"
    gate || rollback "the rollout analysis failed after the switch"
  fi
else
  await "$revision_ready" "the new revision" || rollback "the new revision did not become ready"
  before='{}'
  for percent in "${steps[@]}"; do
    if [ "$percent" != "${steps[0]}" ]; then
      sleep "$STEP_WAIT"
      gate || rollback "the rollout analysis failed before ${percent}%"
    fi
    set_traffic "$percent"
    await "$serving_percent" "${percent}% on the new revision" "$percent" || rollback "the ${percent}% step did not complete"
    echo "the new revision serves ${percent}%"
  done
fi
set_traffic null
await "$rolled_out" "the promotion" || rollback "the promotion did not complete"
echo "$ISVC rolled out ($STRATEGY)"
