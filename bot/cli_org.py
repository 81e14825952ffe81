"""`zhibu org …`: build the organization tree and appoint offices from scripts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Config, ConfigError
from domain.compliance import MeetingType, Requirement, format_requirement, parse_requirement
from domain.orgs import BRANCH_ROLES, Kind, Level, Role
from domain.validation import Invalid
from services.authz import Actor
from services.compliance import requirements_of, set_requirements
from services.errors import ServiceError
from services.members import registration_branch
from services.orgs import ORG_NAME_MAX, create_org, get_org
from services.orgs_admin import tree
from services.orgs_roles import end_role, grant_role, roles_of_org
from storage.db import Database, DatabaseUnavailable

EXIT_FAILED = 1
EXIT_USAGE = 2
# The command line acts as a superadmin; user 0 is recorded as "no Telegram user" in the audit log.
CLI_ACTOR = Actor(user_id=0, superadmin=True)

# What operators read when a service refuses (the code follows in brackets for scripts).
REFUSALS: dict[str, str] = {
    "not_found": "not found",
    "org.not_found": "no such organization (or it was archived)",
    "org.bad_parent": "an organization of that level cannot go under that parent",
    "org.bad_kind": "that kind does not fit the level (see `zhibu org create --help`)",
    "org.text.empty": "the name is empty",
    "org.text.too_long": f"the name is longer than {ORG_NAME_MAX} characters",
    "member.not_found": "no active roster entry with that id in this organization",
    "user.unknown": "unknown Telegram user: they must have written to the bot first",
    "role.not_found": "no current office with that id",
    "role.not_for_committee": "branch offices cannot be held in a committee",
    "role.needs_party_group": "a party group leader needs --party-group (a group of this branch)",
    "requirements.not_committee": "meeting frequencies are set on committees only",
}


def _level(value: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(Level)}") from None


def _kind(value: str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(Kind)}") from None


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(Role)}") from None


def _meeting_type(value: str) -> MeetingType:
    try:
        return MeetingType(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(MeetingType)}") from None


def _setting(value: str) -> tuple[MeetingType, Requirement | None]:
    """TYPE=FREQUENCY, e.g. party_lesson=1/quarter, theme_day=month, heart_talk=off."""
    kind, sep, spec = value.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{value!r}: write TYPE=FREQUENCY, e.g. theme_day=month")
    parsed = parse_requirement(spec)
    if isinstance(parsed, Invalid):
        raise argparse.ArgumentTypeError(
            f"{spec!r} is not a frequency: COUNT/PERIOD or PERIOD (month, quarter, half_year, "
            "year), or off"
        )
    return _meeting_type(kind.strip()), parsed


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) <= 0 or len(value) > 19:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id")
    return int(value)


def add_org_parser(subparsers: Any, parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `zhibu org` and its actions to the top-level subparsers."""
    common = list(parents)
    org = subparsers.add_parser(
        "org",
        parents=common,
        help="organizations and offices (acts as a superadmin)",
        description="Create committees and branches and appoint offices, as a superadmin. "
        "Changes are recorded in the audit log without a Telegram user. "
        "Exit status 1 when the change is refused, 2 for bad arguments.",
    )
    sub = org.add_subparsers(dest="org_command", metavar="ACTION", required=True)
    listing = sub.add_parser(
        "list",
        parents=common,
        help="list organizations",
        description="List live organizations: id, level, kind, parent id, active members "
        "(in it and below it) and name.",
    )
    listing.add_argument("--tree", action="store_true", help="indent names under their parents")
    create = sub.add_parser(
        "create",
        parents=common,
        help="create an organization and print its id",
        description="Create a committee, general branch or branch and print the new id. "
        "Kinds: committee: comprehensive, industry, two_new; general_branch: general; "
        "branch: standard, joint, functional, guidance_station.",
    )
    create.add_argument("--level", type=_level, required=True, metavar="|".join(Level))
    create.add_argument("--kind", type=_kind, required=True, metavar="KIND")
    create.add_argument("--name", required=True, help=f"at most {ORG_NAME_MAX} characters")
    create.add_argument("--parent", type=_positive, metavar="ID", help="omit for a top committee")
    grant = sub.add_parser(
        "grant",
        parents=common,
        help="give an office and print its id",
        description="Give an office. Branch offices (secretary, deputy, …) go to a roster "
        "entry (--member); committee_admin and instructor to a Telegram user who has written "
        "to the bot (--user). A branch's new secretary ends the previous one's term.",
    )
    grant.add_argument("--org", type=_positive, required=True, metavar="ID")
    holder = grant.add_mutually_exclusive_group(required=True)
    holder.add_argument("--user", type=_positive, metavar="TELEGRAM_ID")
    holder.add_argument("--member", type=_positive, metavar="MEMBER_ID")
    grant.add_argument("--role", type=_role, required=True, metavar="|".join(Role))
    grant.add_argument("--party-group", type=_positive, metavar="ID", help="for group_leader")
    end = sub.add_parser(
        "end-role",
        parents=common,
        help="end an office today",
        description="End an office: its holder loses its rights at once.",
    )
    end.add_argument("role_id", type=_positive, metavar="ROLE_ID")
    roles = sub.add_parser(
        "roles",
        parents=common,
        help="list the offices held today in an organization",
        description="List the offices held today: role id, role, holder, since.",
    )
    roles.add_argument("--org", type=_positive, required=True, metavar="ID")
    link = sub.add_parser(
        "link",
        parents=common,
        help="print a branch's registration link",
        description="Print the deep link members open to register with a branch.",
    )
    link.add_argument("--org", type=_positive, required=True, metavar="ID")
    link.add_argument("--bot-username", required=True, help="the bot's @username, without the @")
    req = sub.add_parser(
        "requirements",
        parents=common,
        help="show or set a committee's meeting frequencies",
        description="Show the minimum meeting frequencies (三会一课) in force for an "
        "organization and where each comes from; with --set/--clear/--none, change a "
        "committee's own overrides for its subtree (audited). Types: "
        f"{', '.join(MeetingType)}. Frequencies: COUNT/PERIOD or PERIOD with PERIOD one of "
        "month, quarter, half_year, year (e.g. 1/quarter, 2/year, month), or off.",
    )
    req.add_argument("org_id", type=_positive, metavar="ORG_ID")
    req.add_argument(
        "--set",
        dest="settings",
        type=_setting,
        action="append",
        default=[],
        metavar="TYPE=FREQUENCY",
        help="require this frequency, e.g. 1/quarter",
    )
    req.add_argument(
        "--clear",
        type=_meeting_type,
        action="append",
        default=[],
        metavar="TYPE",
        help="drop this committee's override: the one above (or the default) holds",
    )
    req.add_argument(
        "--none",
        dest="off",
        type=_meeting_type,
        action="append",
        default=[],
        metavar="TYPE",
        help="not required in this committee's subtree",
    )


async def org_command(cfg: Config, args: argparse.Namespace) -> int:
    """Run one `zhibu org` action; 0 on success, 1 when refused, 2 for bad arguments."""
    action: str = args.org_command
    if action == "grant":
        branch_role = args.role in BRANCH_ROLES
        if branch_role and args.member is None:
            print(f"zhibu org: --role {args.role} needs --member", file=sys.stderr)
            return EXIT_USAGE
        if not branch_role and args.user is None:
            print(f"zhibu org: --role {args.role} needs --user", file=sys.stderr)
            return EXIT_USAGE
    db = Database(cfg.database.url)
    try:
        try:
            await db.ping()
        except DatabaseUnavailable as exc:
            raise ConfigError("database.url", f"cannot reach the database ({exc})") from None
        now = datetime.now(UTC)
        today = now.astimezone(ZoneInfo(cfg.bot.timezone)).date()
        await _run(db, action, args, now, today, tz=cfg.bot.timezone)
        return 0
    except ServiceError as exc:
        reason = REFUSALS.get(exc.code, "refused")
        print(f"zhibu org: {reason} [{exc.code}]", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await db.dispose()


async def _run(
    db: Database,
    action: str,
    args: argparse.Namespace,
    now: datetime,
    today: date,
    *,
    tz: str = "Asia/Shanghai",
) -> None:
    if action == "list":
        rows = await tree(db)
        print(f"{'id':>6}  {'level':<14}  {'kind':<16}  {'parent':>6}  {'members':>7}  name")
        for row in rows:
            org = row.org
            indent = "  " * row.depth if args.tree else ""
            parent = str(org.parent_id) if org.parent_id is not None else "-"
            print(
                f"{org.id:>6}  {org.level:<14}  {org.kind:<16}  {parent:>6}  "
                f"{row.members:>7}  {indent}{org.name}"
            )
    elif action == "create":
        created = await create_org(
            db, CLI_ACTOR, name=args.name, level=args.level, kind=args.kind,
            parent_id=args.parent, now=now, today=today,
        )  # fmt: skip
        print(created.id)
    elif action == "grant":
        granted = await grant_role(
            db, CLI_ACTOR, args.org, args.role, member_id=args.member, user_id=args.user,
            party_group_id=args.party_group, now=now, today=today,
        )  # fmt: skip
        print(f"{granted.id}\t{granted.role}\t{granted.holder}")
    elif action == "end-role":
        await end_role(db, CLI_ACTOR, args.role_id, now=now, today=today)
        print(f"role {args.role_id} ended")
    elif action == "roles":
        await get_org(db, args.org)  # NotFound for an unknown organization, not an empty list
        for view in await roles_of_org(db, args.org, today):
            holder = f"member {view.member_id}" if view.member_id else f"user {view.user_id}"
            group = f"\t{view.party_group}" if view.party_group else ""
            print(f"{view.id}\t{view.role}\t{view.holder}\t{holder}\tsince {view.start_on}{group}")
    elif action == "link":
        branch = await registration_branch(db, args.org)
        from handlers.members_registration import registration_link  # when used: see cli_members

        print(registration_link(args.bot_username.lstrip("@"), branch.id))
    elif action == "requirements":
        changes: dict[MeetingType, Requirement | None] = dict(args.settings)
        changes.update({kind: None for kind in args.off})
        if changes or args.clear:
            frequencies = await set_requirements(
                db, CLI_ACTOR, args.org_id, changes=changes, clear=args.clear, now=now,
                today=today, default_tz=tz,
            )  # fmt: skip
        else:
            frequencies = await requirements_of(db, CLI_ACTOR, args.org_id, today, tz)
        print(f"{'type':<22}  {'frequency':<12}  source")
        for line in frequencies.lines:
            source = (
                "set here" if line.own else f"set by {line.source}" if line.source else "default"
            )
            print(f"{line.type.value:<22}  {format_requirement(line.effective):<12}  {source}")
