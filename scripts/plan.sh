#!/usr/bin/env bash
# Run anycast.fabric.plan and turn its report into an exit status for
# pipelines: 0 no changes, 2 changes, 1 error (the plan could not be made).
#
#   scripts/plan.sh -i INVENTORY [ansible-playbook options...]
#
# The report goes to $PLAN_DIR (default .build/plan): plan.md for a merge
# request comment, plan.json for tools. Without -i, the lab's inventory (the
# molecule scenario $LAB_SCENARIO, default "default", must be up: make lab).
# Expects ansible-playbook on PATH (the venv's bin; the Makefile puts it there).
set -uo pipefail

plan_dir=${PLAN_DIR:-.build/plan}
case "$plan_dir" in /*) ;; *) plan_dir="$PWD/$plan_dir" ;; esac
args=("$@")
if [[ ! " ${args[*]} " =~ " -i " && ! " ${args[*]} " =~ " --inventory" ]]; then
    scenario=${LAB_SCENARIO:-default}
    # The newest molecule inventory of that scenario.
    inventory=$(find ~/.ansible/tmp -maxdepth 2 -path "*/molecule.*.$scenario/inventory" -printf '%T@ %p\n' 2>/dev/null |
        sort -n | tail -n 1 | cut -d' ' -f2-)
    if [[ -z "$inventory" ]]; then
        echo "plan: no -i given and no lab inventory for scenario $scenario: run make lab first" >&2
        exit 1
    fi
    args=(-i "$inventory" --extra-vars '{"lab_dual_stack": false}' "${args[@]}")
fi

rm -f "$plan_dir/plan.json" "$plan_dir/plan.md"
ansible-playbook "${args[@]}" --extra-vars "fabric_plan_dir=$plan_dir" anycast.fabric.plan
rc=$?
result=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("result", "error"))' "$plan_dir/plan.json" 2>/dev/null || echo error)
if ((rc != 0)) && [[ $result != error ]]; then
    result=error
fi
echo "plan: $result (report: $plan_dir/plan.md)"
case $result in
    no_changes) exit 0 ;;
    changes) exit 2 ;;
    *) exit 1 ;;
esac
