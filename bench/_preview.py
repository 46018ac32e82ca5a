"""A floor for the no-change plan: an Automation API script that only previews Styx's
program of a task, as a whole process, the way such a script is usually written.

    python bench/_preview.py TASK.yaml     (STYX_HOME and PATH set as for styx)

It opens the stack with the Automation API's own select_stack (its `pulumi version` and
`stack select` included) and previews; nothing else: no outputs, no history, no plan.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi import automation as auto

from styx.engine import ensure_passphrase_file, find_engine
from styx.engine._workspace import _engine_env
from styx.home import styx_home
from styx.workflow import resolve_target
from styx.workflow._build import compile_target, program_for


def main() -> None:
    target = resolve_target(Path(sys.argv[1]))
    program = program_for(compile_target(target))
    engine = find_engine()
    assert engine is not None
    env = _engine_env(engine, ensure_passphrase_file(target.ref.passphrase_file))
    options = auto.LocalWorkspaceOptions(
        work_dir=str(styx_home() / "workspaces" / target.ref.project),
        pulumi_home=env["PULUMI_HOME"],
        env_vars=env,
        secrets_provider="passphrase",
        pulumi_command=auto.PulumiCommand(root=str(engine.bin_dir.parent)),
        project_settings=auto.ProjectSettings(
            name=target.ref.project, runtime="python",
            backend=auto.ProjectBackend(url=target.ref.backend_url),
        ),
    )
    stack = auto.select_stack(stack_name=target.ref.stack, project_name=target.ref.project,
                              program=program, opts=options)
    stack.preview()


if __name__ == "__main__":
    main()
