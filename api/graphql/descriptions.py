"""Descriptions for the parts of the schema whose declarations carry none, so that every type, field, argument
and enum value is documented (GraphiQL's docs, generated client types, the schema lint).

A description written beside its declaration in `api/graphql/types.py` or `api/graphql/schema.py` wins; this fills the
rest. The parts every type shares (ids, keys, connections, edges) are described once here, by rule, not per type.
"""

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

BY_NAME = {  # a field or argument of this name, on any type
    "id": "The global id: opaque, stable across loads, unique across types; `node(id:)` fetches the object.",
    "key": "The stable key from the seed files, such as `us-russia-talks-istanbul-2025-02-27`.",
    "filter": "Conditions that all must hold; null for none.",
    "orderBy": "The order of the listing, a keyset order: pages stay consistent while you walk them.",
}
CONNECTION = {
    "edges": "The records of this page, each with its cursor. Paginate through `edges` (Apollo's "
    "`relayStylePagination` merges pages by them).",
    "nodes": "The records of this page, without cursors.",
    "pageInfo": "Where this page sits in the listing: pass `endCursor` as `after` for the next one.",
}
EDGE = {
    "": "A record of a page, with its cursor.",
    "cursor": "Pass as `after` to get the records after this one.",
    "node": "The record.",
}

SPECIFIC = {
    "Query": "The entry points: listings (Relay connections with keyset cursors) and single records by key.",
    "Query.node(id)": "A global id, as returned in any object's `id`.",
    "Query.meetings": "Meetings, by date: earliest day, then latest (undated ones, and those with no earliest day, "
    "last).",
    "Query.statements": "Statements, by their reported date: earliest day, then latest (undated ones, and those "
    "with no earliest day, last).",
    "Query.meeting": "A meeting by its key, or null.",
    "Query.statement": "A statement by its key, or null.",
    "Query.topic": "A topic by its key, or null.",
    "Query.person": "A person by their key, or null.",
    "Query.organization": "An organization by its key, or null.",
    "Query.source": "A source by its key, or null.",
    "Query.meeting(key)": "The meeting's key.",
    "Query.statement(key)": "The statement's key.",
    "Query.topic(key)": "The topic's key.",
    "Query.person(key)": "The person's key.",
    "Query.organization(key)": "The organization's key.",
    "Query.source(key)": "The source's key.",
    "PageInfo": "Where a page sits in its listing.",
    "PageInfo.hasNextPage": "Whether records follow this page.",
    "PageInfo.hasPreviousPage": "Whether this page was asked for with `after` (records precede it).",
    "PageInfo.startCursor": "The cursor of the page's first record; null for an empty page.",
    "PageInfo.endCursor": "The cursor of the page's last record, to pass as `after`; null for an empty page.",
    "Person": "A person who headed or joined a delegation, or made a statement.",
    "Person.country": "The country the person represents, if known.",
    "Person.wikidataId": "The person's Wikidata item, such as `Q7747`.",
    "Organization": "An organization that made statements, such as a ministry.",
    "Organization.country": "The country of the organization, if it has one.",
    "Organization.wikidataId": "The organization's Wikidata item, such as `Q7747`.",
    "Topic": "A subject meetings and statements are about.",
    "Topic.label(language)": "A BCP 47 language tag, such as `id`; null for English.",
    "Source.outlet": "The publication, such as `Koran Jakarta`.",
    "Source.title": "The headline.",
    "Source.url": "Where the source was published, if online.",
    "Source.dateline": "The place and date the report gives itself, as printed.",
    "Source.text": "The full text; direct quotes are checked against it.",
    "Meeting.title": "A title: the editors' wording, else the one most reports use (ties: the earliest report's).",
    "Meeting.status": "Held or planned, as the latest reports say.",
    "Meeting.format": "In person, by phone or by video.",
    "Meeting.city": "The city it was held in.",
    "Meeting.hostCountry": "The country it was held in.",
    "Meeting.round": "Its number in a series of talks, from 1.",
    "Meeting.summary": "A short summary: the editors' wording, else the one most reports give (ties: the earliest "
    "report's).",
    "Meeting.delegations": "The delegations, in the order of the earliest report.",
    "Meeting.topics": "What the meeting was about.",
    "MeetingStatus": "Whether a meeting took place.",
    "MeetingStatus.HELD": "It took place.",
    "MeetingStatus.PLANNED": "It was announced and has not taken place, as of the reports.",
    "MeetingFormat": "How the delegations met.",
    "MeetingFormat.IN_PERSON": "Face to face.",
    "MeetingFormat.PHONE_CALL": "By telephone.",
    "MeetingFormat.VIDEO_CALL": "By video link.",
    "MeetingOrder.DATE_ASC": "Oldest first.",
    "MeetingOrder.DATE_DESC": "Newest first.",
    "StatementOrder.DATE_ASC": "Oldest first.",
    "StatementOrder.DATE_DESC": "Newest first.",
    "StatementKind": "How a statement is reported.",
    "StatementKind.DIRECT_QUOTE": "The speaker's own words, verbatim in the source.",
    "StatementKind.PARAPHRASE": "The source's account of what was said.",
    # Relations and fields with arguments, generated from `catalog.py`.
    "Source.meetings": "Meetings this source reports, oldest first.",
    "Source.statements": "Statements this source reports, oldest first.",
    "Person.delegations": "Delegations this person headed or belonged to.",
    "Person.statements": "Statements this person made, oldest first.",
    "Organization.statements": "Statements attributed to this organization, oldest first.",
    "Topic.label": "The label in `language` (BCP 47) when there is one, else in English.",
    "Topic.meetings": "Meetings about this topic, oldest first.",
    "Topic.statements": "Statements about this topic, oldest first.",
    "Delegation.sources": "The sources that state this delegation, in report order.",
    "Meeting.previous": "The meeting this one follows up.",
    "Meeting.followUps": "Meetings that follow this one up, oldest first.",
    "Meeting.participants": "The countries of the delegations.",
    "Meeting.statements": "Statements about this meeting, oldest first.",
    "Meeting.sources": "The sources that report this meeting.",
    "Meeting.reports": "What each source said about this meeting, in report order (publication time, then source key).",
    "DelegationReport.head": "The head of the delegation this source names.",
    "DelegationReport.members": "The members this source names, in its order.",
    "DelegationReport.source": "The source that states this delegation.",
    "MeetingReport.previous": "The meeting this one follows up, according to this source.",
    "MeetingReport.source": "The source that gives this report.",
    "MeetingReport.delegations": "The delegations as this source states them, in its order.",
    "MeetingReport.topics": "The topics as this source lists them, in its order.",
    "Statement.translation": "The text translated into `language` (BCP 47), when a translation exists.",
    "Statement.translations": "Every translation of the text, by language tag.",
    "Statement.meeting": "The meeting the statement is about.",
    "Statement.sources": "The sources that report this statement, in report order.",
    "Statement.reports": (
        "What each source said of this statement, in report order (publication time, then source key)."
    ),
    "StatementReport.source": "The source that gives this report.",
    "StatementReport.translation": "This source's translation of its text into `language` (BCP 47), if it gives one.",
    "Evidence.quotes": "The source's words that support it, in the order cited.",
    "Evidence.source": "The source whose report it is.",
    **{
        f"{t}.evidence": "How its fields are known: each report's evidence, in report order, then field order."
        for t in (
            "Source",
            "Person",
            "Organization",
            "Topic",
            "Delegation",
            "Meeting",
            "DelegationReport",
            "MeetingReport",
            "Statement",
        )
    },
    **{
        f"{t}.disputes": "The facts its reports disagree on, each with the editorial decision that settles it."
        for t in ("Person", "Organization", "Topic", "Delegation", "Meeting", "Statement")
    },
    **{
        f"{t}.decisions": "The editors' decisions about its fields, by editorial file, in the file's order."
        for t in ("Person", "Organization", "Topic", "Delegation", "Meeting", "Statement")
    },
    **{
        f"{t}.names": "Every spelling of the name the reports give, in report order, with the sources using each."
        for t in ("Person", "Organization")
    },
    "Dispute.values": "The values the reports give, in report order of the first report giving each.",
    "DisputedValue.sources": "The sources that give this value, in report order.",
    "NameReport.sources": "The sources that spell the name so, in report order.",
    "DatePrecision": "How precisely a date is known.",
    "DatePrecision.DAY": "To the day: `2025-02-27`.",
    "DatePrecision.MONTH": "To the month: `2025-02`.",
    "DatePrecision.YEAR": "To the year: `2025`.",
    "DatePrecision.RANGE": "Between two days, either of them open: `2025-02-25/2025-02-28`, `../2025-03-01`.",
    "Basis": "How a fact is known from its source.",
    "Basis.STATED": "The source's words say it (its quotes are them).",
    "Basis.INFERRED": "Derived from the source's words by reasoning (a weekday resolved to a date); the note says how.",
    "Basis.ASSUMED": "Not in the source: an assumption of the editors; the note says why.",
    "Basis.EXTERNAL": "From a reference outside the source (a Wikidata id); the note names it.",
    "MeetingFilter.status": "Held or planned.",
    "MeetingFilter.format": "How the delegations met.",
    "MeetingFilter.hostCountry": "The ISO 3166-1 alpha-2 code of the host country.",
    "MeetingFilter.dateFrom": "Dated on or after this day: a date whose span has a day on or after it.",
    "MeetingFilter.dateTo": "Dated on or before this day: a date whose span has a day on or before it.",
    "StatementFilter.speaker": "A person key: who said it.",
    "StatementFilter.organization": "An organization key: to whom it is attributed.",
    "StatementFilter.meeting": "A meeting key: what it is about.",
    "StatementFilter.topic": "A topic key.",
    "StatementFilter.kind": "Quoted or paraphrased.",
    "StatementFilter.language": "The BCP 47 language tag of the original text.",
    "StatementFilter.dateFrom": "Dated on or after this day: a reported date whose span has a day on or after it.",
    "StatementFilter.dateTo": "Dated on or before this day: a reported date whose span has a day on or before it.",
    "DelegationFilter": "All given conditions must hold.",
    "DelegationFilter.country": "The ISO 3166-1 alpha-2 code of the delegation's country.",
    "Delegation.country": "The country the delegation represents.",
    "Delegation.headRole": "The head's role: the editors' wording, else the one most reports use (ties: the earliest "
    "report's).",
    "Delegation.meeting": "The meeting the delegation went to.",
    "Delegation.head": "Who headed the delegation, if known.",
    "Delegation.members": "The other members, in report order.",
    "Statement.text": "The text, in its original language.",
    "Statement.kind": "Quoted verbatim or paraphrased.",
    "Statement.occasion": "Where or when it was said, as the source puts it (an interview, a briefing).",
    "Statement.translation(language)": "A BCP 47 language tag, such as `en`.",
    "Statement.speaker": "Who said it, if a person.",
    "Statement.organization": "The organization it is attributed to.",
    "Statement.topics": "What it is about.",
    "Statement.source": "The source that reports it (of several, the earliest in report order: see `sources`).",
    "StatementReport.translation(language)": "A BCP 47 language tag, such as `en`.",
}


def describe(schema: GraphQLSchema) -> None:
    """Fill in every missing description of `schema` (graphql-core's, in place) from the rules above."""
    for name, named in schema.type_map.items():
        if name.startswith("__"):
            continue
        edge = EDGE if name.endswith("Edge") else {}
        connection = CONNECTION if name.endswith("Connection") else {}
        named.description = named.description or SPECIFIC.get(name) or edge.get("")
        if isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                value.description = value.description or SPECIFIC.get(f"{name}.{value_name}")
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            continue
        for field_name, field in named.fields.items():
            path = f"{name}.{field_name}"
            field.description = (
                field.description
                or SPECIFIC.get(path)
                or connection.get(field_name)
                or edge.get(field_name)
                or BY_NAME.get(field_name)
            )
            for arg_name, arg in getattr(field, "args", {}).items():
                arg.description = arg.description or SPECIFIC.get(f"{path}({arg_name})") or BY_NAME.get(arg_name)
