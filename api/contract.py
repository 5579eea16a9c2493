"""The committed SDL is the public contract; this tells how the current schema differs from it, and whether a
consumer's operations still run against it."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from graphql import (
    DocumentNode,
    ExecutableDefinitionNode,
    FragmentDefinitionNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLEnumValue,
    GraphQLError,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    NoUnusedFragmentsRule,
    OperationDefinitionNode,
    Source,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
    specified_rules,
    specified_scalar_types,
    validate,
)

from .graphql.schema import print_sdl

SDL_PATH = files("diplo.schema_files") / "schema.graphql"  # schema/schema.graphql, installed or in a checkout


@dataclass(frozen=True)
class SchemaChange:
    severity: str  # "breaking", "dangerous" or "safe"; or "notice", of what is not a change (a deprecation)
    description: str

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.description}"


def compare(committed: str, current: str) -> list[SchemaChange]:
    """Every difference between two SDLs, each with its class: breaking and dangerous ones as graphql-core
    classifies them, then the safe ones (additions, descriptions, @specifiedBy), whatever else there is."""
    if committed == current:
        return []
    old, new = build_schema(committed), build_schema(current)
    changes = [SchemaChange("breaking", c.description) for c in find_breaking_changes(old, new)]
    changes += [SchemaChange("dangerous", c.description) for c in find_dangerous_changes(old, new)]
    changes += [SchemaChange("safe", description) for description in _safe_changes(old, new)]
    return changes or [SchemaChange("safe", "the printed SDL differs only in order or layout")]


Described = GraphQLNamedType | GraphQLField | GraphQLArgument | GraphQLInputField | GraphQLEnumValue


def _members(named: GraphQLNamedType) -> dict[str, Described]:
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        return dict(named.fields)
    if isinstance(named, GraphQLEnumType):
        return dict(named.values)
    return {}


def _safe_changes(old: GraphQLSchema, new: GraphQLSchema) -> Iterator[str]:
    """What graphql-core does not classify because no client can break on it."""
    for name, named in sorted(new.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:  # built in: there as soon as used
            continue
        before = old.type_map.get(name)
        if before is None:
            yield f"{name} was added."
            continue
        yield from _description(name, before, named)
        url = getattr(named, "specified_by_url", None)
        if url != getattr(before, "specified_by_url", None):
            yield f"{name} is now @specifiedBy({url})."
        old_members = _members(before)
        for member, now in _members(named).items():
            path = f"{name}.{member}"
            if member not in old_members:
                if not isinstance(named, GraphQLInputObjectType | GraphQLEnumType):  # graphql-core's (dangerous)
                    yield f"{path} was added."
                continue
            yield from _description(path, old_members[member], now)
            if isinstance(now, GraphQLField) and isinstance(was := old_members[member], GraphQLField):
                for arg, value in now.args.items():
                    if arg in was.args:
                        yield from _description(f"{path}({arg}:)", was.args[arg], value)


def _description(path: str, before: Described, now: Described) -> Iterator[str]:
    if before.description != now.description:
        yield f"The description of {path} changed."


def deprecations(sdl: str) -> list[SchemaChange]:
    """Every deprecated field, argument, input field and enum value of `sdl`, with its reason: what a consumer
    should move off before it is removed."""
    notices = []
    for name, named in sorted(build_schema(sdl).type_map.items()):
        for member, value in _members(named).items():
            reason = getattr(value, "deprecation_reason", None)
            if reason is not None:
                notices.append(SchemaChange("notice", f"{name}.{member} is deprecated: {reason}"))
    return notices


def check_committed(path: Traversable = SDL_PATH) -> list[SchemaChange]:
    return compare(path.read_text(encoding="utf-8"), print_sdl())


@dataclass(frozen=True)
class OperationProblem:
    """Why one operation (or fragment) of a consumer's folder would not run: where, in which definition, and why."""

    file: str
    line: int
    column: int
    definition: str | None  # the operation's name (`anonymous` without one), `fragment NAME`, or None (syntax)
    message: str

    def __str__(self) -> str:
        named = f" {self.definition}:" if self.definition is not None else ""
        return f"{self.file}:{self.line}:{self.column}:{named} {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "operation": self.definition,
                "message": self.message}  # fmt: skip


@dataclass(frozen=True)
class OperationsReport:
    """What `check_operations` found in a folder: how many operations, and every problem."""

    operations: int
    problems: list[OperationProblem]


def _definition_name(definition: ExecutableDefinitionNode) -> str:
    if isinstance(definition, FragmentDefinitionNode):
        return f"fragment {definition.name.value}"
    return definition.name.value if definition.name is not None else "anonymous"


def _problem(error: GraphQLError, path: Path, documents: dict[str, list[ExecutableDefinitionNode]]) -> OperationProblem:
    """The problem at the error's first place, named by the definition that holds it."""
    file = error.source.name if error.source is not None else str(path)
    line, column = (error.locations[0].line, error.locations[0].column) if error.locations else (1, 1)
    position = next(iter(error.positions), None) if error.positions else None
    holding = [
        _definition_name(d)
        for d in documents.get(file, [])
        if position is not None and d.loc is not None and d.loc.start <= position < d.loc.end
    ]
    return OperationProblem(file, line, column, holding[0] if holding else None, error.message)


def _graphql_files(folder: Path) -> list[Path]:
    """The `.graphql` files under `folder`, sorted; folders that vanish or cannot be read while walked are passed."""
    found = [Path(top) / name for top, _, names in os.walk(folder) for name in names if name.endswith(".graphql")]
    return sorted(found)


def check_operations(folder: Path, sdl: str | None = None) -> OperationsReport:
    """Each `.graphql` document under `folder` (a consumer's operations) checked against the working schema: how
    many operations there are, and each problem at its file, line and column, with the operation it is in.

    Fragments may live in files of their own, as codegen projects keep them: each file is validated with the
    fragments of every other file beside its own, and an error is reported once, against the file it is in. Type
    definitions (a copy of a schema in the folder) are not operations and are left out."""
    schema = build_schema(sdl if sdl is not None else print_sdl())
    problems: list[OperationProblem] = []
    documents: dict[str, list[ExecutableDefinitionNode]] = {}
    for path in _graphql_files(folder):
        try:
            data = path.read_bytes()
            document = parse(Source(data.decode("utf-8"), str(path)))
        except GraphQLSyntaxError as error:
            problems.append(_problem(error, path, documents))
            continue
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            problems.append(OperationProblem(str(path), line, 1, None, "not UTF-8 text"))
            continue
        except OSError as error:
            problems.append(OperationProblem(str(path), 1, 1, None, f"cannot read: {error.strerror}"))
            continue
        documents[str(path)] = [d for d in document.definitions if isinstance(d, ExecutableDefinitionNode)]
    every = [d for ds in documents.values() for d in ds]
    fragments = {d.name.value: d for d in every if isinstance(d, FragmentDefinitionNode)}
    rules = [rule for rule in specified_rules if rule is not NoUnusedFragmentsRule]
    seen: set[tuple[str, int, int, str]] = set()
    for file, definitions in documents.items():
        own = {d.name.value for d in definitions if isinstance(d, FragmentDefinitionNode)}
        borrowed = [fragment for name, fragment in fragments.items() if name not in own]
        for invalid in validate(schema, DocumentNode(definitions=(*definitions, *borrowed)), rules):
            problem = _problem(invalid, Path(file), documents)
            if (problem.file, problem.line, problem.column, problem.message) not in seen:
                seen.add((problem.file, problem.line, problem.column, problem.message))
                problems.append(problem)
    operations = sum(isinstance(d, OperationDefinitionNode) for d in every)
    return OperationsReport(operations, problems)
