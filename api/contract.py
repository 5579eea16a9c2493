"""The committed SDL is the public contract; this tells how the current schema differs from it, and whether a
consumer's operations still run against it."""

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
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    NoUnusedFragmentsRule,
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


def check_operations(folder: Path, sdl: str | None = None) -> list[str]:
    """Each `.graphql` document under `folder` (a consumer's operations) that does not validate against the
    working schema, as `FILE: message` lines; empty when every one would run.

    Fragments may live in files of their own, as codegen projects keep them: each file is validated with the
    fragments of every other file beside its own, and an error is reported once, against the file it is in. Type
    definitions (a copy of a schema in the folder) are not operations and are left out."""
    schema = build_schema(sdl if sdl is not None else print_sdl())
    problems: list[str] = []
    documents: dict[Path, list[ExecutableDefinitionNode]] = {}
    for path in sorted(folder.rglob("*.graphql")):
        try:
            document = parse(Source(path.read_text(encoding="utf-8"), str(path)))
        except GraphQLSyntaxError as error:
            problems.append(f"{path}: {error.message}")
            continue
        except UnicodeDecodeError:
            problems.append(f"{path}: not UTF-8 text")
            continue
        documents[path] = [d for d in document.definitions if isinstance(d, ExecutableDefinitionNode)]
    fragments = {d.name.value: d for ds in documents.values() for d in ds if isinstance(d, FragmentDefinitionNode)}
    rules = [rule for rule in specified_rules if rule is not NoUnusedFragmentsRule]
    seen: set[tuple[str, str]] = set()
    for path, definitions in documents.items():
        own = {d.name.value for d in definitions if isinstance(d, FragmentDefinitionNode)}
        borrowed = [fragment for name, fragment in fragments.items() if name not in own]
        for invalid in validate(schema, DocumentNode(definitions=(*definitions, *borrowed)), rules):
            where = invalid.source.name if invalid.source is not None else str(path)
            if (where, invalid.message) not in seen:
                seen.add((where, invalid.message))
                problems.append(f"{where}: {invalid.message}")
    return problems
