"""How `sam build` will group the template's functions into builds, from SAM
CLI's own code: the stacks as `sam build` reads them (language extensions
expanded, as samconfig.toml asks), each function's FunctionBuildDefinition,
and SAM's own equality between them (runtime, CodeUri, Metadata,
architecture...). Fails unless there are exactly BUILDS builds: one
cargo-lambda run, one link per binary (docs/deploy.md, "Two binaries").

Usage: build_plan.py TEMPLATE BUILDS   (with the SAM CLI's Python: .venv-tools)
"""

import sys

from samcli.lib.build.build_graph import FunctionBuildDefinition
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main():
    stacks, _ = SamLocalStackProvider.get_stacks(sys.argv[1], language_extensions_enabled=True)
    functions = list(SamFunctionProvider(stacks).get_all())
    builds = []  # [definition, [function names]]
    for function in functions:
        definition = FunctionBuildDefinition(
            function.runtime,
            function.codeuri,
            None,
            function.packagetype,
            function.architecture,
            function.metadata,
            function.handler,
        )
        for build in builds:
            if build[0] == definition:
                build[1].append(function.name)
                break
        else:
            builds.append([definition, [function.name]])
    for definition, names in builds:
        print(f"one build ({definition.metadata.get('BuildProperties')}): {len(names)} functions: {', '.join(names)}")
    expected = int(sys.argv[2])
    if len(builds) != expected or not functions:
        print(f"sam build would build {len(builds)} times, not {expected}: the runtime, CodeUri and Metadata of the functions of one binary must match")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
