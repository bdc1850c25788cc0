#!/usr/bin/python3
"""Checks a DAG file written by `almanac export airflow` without Airflow (not installable here).

    check_airflow_dag.py DAG.py SHARDS PIPELINE.yaml...

What is checked (docs/deploy.md, "What is tested"):
  1. the file compiles and imports with stand-ins for the three Airflow names it uses
     (airflow.DAG, airflow.operators.bash.BashOperator, pendulum), which record their arguments;
  2. every pipeline file is in exactly one DAG, embedded byte for byte, and each DAG's schedule,
     time zone, catch-up and retries are those of its pipelines' files (read here with PyYAML);
  3. each DAG has min(SHARDS, its pipelines) tasks, and running every task's bash_command with
     bash (the almanac binary replaced by a recorder) writes the files unchanged and calls
     `almanac run FILES --shard I/N` for each I once.
It does not check Airflow's own scheduling, which needs Airflow.
"""
import os
import subprocess
import sys
import tempfile
import types

import yaml


class FakeDAG:
    all = []

    def __init__(self, dag_id, **kw):
        self.dag_id, self.kw, self.tasks = dag_id, kw, []
        FakeDAG.all.append(self)


class FakeBashOperator:
    def __init__(self, task_id, bash_command, env, append_env, dag):
        assert append_env is True, "append_env must be True (ALMANAC_STORE comes from the worker)"
        self.task_id, self.bash_command, self.env = task_id, bash_command, env
        dag.tasks.append(self)


def install_stubs():
    airflow = types.ModuleType("airflow")
    airflow.DAG = FakeDAG
    ops = types.ModuleType("airflow.operators")
    bash = types.ModuleType("airflow.operators.bash")
    bash.BashOperator = FakeBashOperator
    pendulum = types.ModuleType("pendulum")
    pendulum.datetime = lambda y, m, d, tz: ("datetime", y, m, d, tz)
    pendulum.duration = lambda seconds: ("duration", seconds)
    sys.modules.update({"airflow": airflow, "airflow.operators": ops, "airflow.operators.bash": bash,
                        "pendulum": pendulum})


def main():
    dag_file, shards, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    install_stubs()
    source = open(dag_file, encoding="utf-8").read()
    exec(compile(source, dag_file, "exec"), {"__name__": "dag_module"})
    expected = {}
    for f in files:
        raw = open(f, "rb").read().decode("utf-8")
        expected[os.path.basename(f)] = (raw, yaml.safe_load(raw))
    seen = {}
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        recorder = os.path.join(tmp, "almanac")
        log = os.path.join(tmp, "calls")
        # Records the arguments and copies each file argument, as `almanac run` would read it.
        with open(recorder, "w") as r:
            r.write('#!/bin/sh\nprintf "%s\\n" "$*" >> ' + log + '\nfor f in "$@"; do case "$f" in *.yaml) '
                    'cp "$f" ' + tmp + '/copy-$(basename "$f");; esac; done\n')
        os.chmod(recorder, 0o755)
        for dag in FakeDAG.all:
            names = []
            for task in dag.tasks:
                open(log, "w").close()
                env = dict(os.environ, **task.env)
                cmd = task.bash_command.replace('"almanac" run', '"%s" run' % recorder)
                subprocess.run(["bash", "-c", cmd], env=env, check=True)
                calls = open(log).read().splitlines()
                if len(calls) != 1:
                    problems.append("%s/%s: %d almanac calls" % (dag.dag_id, task.task_id, len(calls)))
                    continue
                args = calls[0].split()
                if args[0] != "run":
                    problems.append("%s/%s: not `almanac run`: %s" % (dag.dag_id, task.task_id, calls[0]))
                names = [os.path.basename(a) for a in args if a.endswith(".yaml")]
                for n in names:
                    if open(os.path.join(tmp, "copy-" + n), encoding="utf-8").read() != expected[n][0]:
                        problems.append("%s: %s differs from the file" % (dag.dag_id, n))
            want_tasks = min(shards, len(names)) if names else 0
            if len(dag.tasks) != want_tasks:
                problems.append("%s: %d tasks, expected %d" % (dag.dag_id, len(dag.tasks), want_tasks))
            if want_tasks > 1:
                shard_args = sorted(t.bash_command.split("--shard ")[1].split()[0] for t in dag.tasks)
                if shard_args != sorted("%d/%d" % (i, want_tasks) for i in range(want_tasks)):
                    problems.append("%s: shards %s" % (dag.dag_id, shard_args))
            for n in names:
                if n in seen:
                    problems.append("%s is in two DAGs: %s and %s" % (n, seen[n], dag.dag_id))
                seen[n] = dag.dag_id
                spec = expected[n][1]
                if dag.kw["schedule"] != spec.get("schedule"):
                    problems.append("%s: schedule %r, file says %r" % (dag.dag_id, dag.kw["schedule"], spec.get("schedule")))
                if dag.kw["start_date"][4] != spec.get("timezone", "UTC"):
                    problems.append("%s: time zone %r" % (dag.dag_id, dag.kw["start_date"][4]))
                if dag.kw["catchup"] != bool(spec.get("catchup", False)):
                    problems.append("%s: catchup %r" % (dag.dag_id, dag.kw["catchup"]))
                if dag.kw["default_args"]["retries"] < spec.get("max_retries", 2):
                    problems.append("%s: retries %r < max_retries of %s" % (dag.dag_id, dag.kw["default_args"]["retries"], n))
    missing = sorted(set(expected) - set(seen))
    if missing:
        problems.append("not in any DAG: %s" % ", ".join(missing))
    for p in problems:
        print("check_airflow_dag: " + p, file=sys.stderr)
    print("check_airflow_dag: %d DAG(s), %d task(s), %d pipeline(s), %d problem(s)"
          % (len(FakeDAG.all), sum(len(d.tasks) for d in FakeDAG.all), len(seen), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
