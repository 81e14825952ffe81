"""Organizations, member stages, roles and who may do what."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """Where an organization sits in the tree."""

    COMMITTEE = "committee"  # 综合党委 / 行业党委 / 两新工委
    GENERAL_BRANCH = "general_branch"  # 党总支
    BRANCH = "branch"  # 党支部


class Kind(StrEnum):
    """What sort of committee or branch it is."""

    COMPREHENSIVE = "comprehensive"  # 综合党委
    INDUSTRY = "industry"  # 行业党委
    TWO_NEW = "two_new"  # 两新工委
    GENERAL = "general"  # 党总支
    STANDARD = "standard"  # 党支部
    JOINT = "joint"  # 联合党支部: up to ~5 small units
    FUNCTIONAL = "functional"  # 功能型党支部
    GUIDANCE_STATION = "guidance_station"  # 指导站党支部


KINDS_BY_LEVEL: dict[Level, tuple[Kind, ...]] = {
    Level.COMMITTEE: (Kind.COMPREHENSIVE, Kind.INDUSTRY, Kind.TWO_NEW),
    Level.GENERAL_BRANCH: (Kind.GENERAL,),
    Level.BRANCH: (Kind.STANDARD, Kind.JOINT, Kind.FUNCTIONAL, Kind.GUIDANCE_STATION),
}

# Which levels may sit directly under which (None: the top of the tree).
ALLOWED_PARENTS: dict[Level, tuple[Level | None, ...]] = {
    Level.COMMITTEE: (None, Level.COMMITTEE),
    Level.GENERAL_BRANCH: (Level.COMMITTEE,),
    Level.BRANCH: (Level.COMMITTEE, Level.GENERAL_BRANCH),
}


class Stage(StrEnum):
    """A person's stage on the way into the party, or 群众 for non-members in the group."""

    APPLICANT = "applicant"  # 入党申请人
    ACTIVIST = "activist"  # 入党积极分子
    CANDIDATE = "candidate"  # 发展对象
    PROBATIONARY = "probationary"  # 预备党员
    FULL = "full"  # 正式党员
    MASSES = "masses"  # 群众


# The order people pick from: most members are full members.
STAGE_CHOICES: tuple[Stage, ...] = (
    Stage.FULL,
    Stage.PROBATIONARY,
    Stage.ACTIVIST,
    Stage.CANDIDATE,
    Stage.APPLICANT,
    Stage.MASSES,
)

PARTY_MEMBER_STAGES = frozenset({Stage.FULL, Stage.PROBATIONARY})
# Probationary members may not vote or be elected: quorum and votes count full members only.
VOTING_STAGES = frozenset({Stage.FULL})


class Status(StrEnum):
    """Where a roster entry stands."""

    ACTIVE = "active"  # on the roster (linked to a Telegram user or not yet)
    LEFT = "left"  # left the branch (history kept)
    TRANSFERRED = "transferred"  # 组织关系转接: moved to another branch (history kept)
    DELETED = "deleted"  # the person deleted their account: anonymized


class RegistrationStatus(StrEnum):
    """Where a registration request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # withdrawn by the applicant or superseded


class Role(StrEnum):
    """Offices held in an organization, each with a start and an end date."""

    SECRETARY = "secretary"  # 书记
    DEPUTY = "deputy"  # 副书记
    ORGANIZATION = "organization"  # 组织委员
    PROPAGANDA = "propaganda"  # 宣传委员
    DISCIPLINE = "discipline"  # 纪检委员
    GROUP_LEADER = "group_leader"  # 党小组长 (of one party group)
    INSTRUCTOR = "instructor"  # 党建指导员: read access and reminders for several branches
    DUES_KEEPER = "dues_keeper"  # 党费管理员
    INFO_OFFICER = "info_officer"  # 信息员
    COMMITTEE_ADMIN = "committee_admin"  # manages everything under a committee


BRANCH_ROLES: tuple[Role, ...] = (
    Role.SECRETARY,
    Role.DEPUTY,
    Role.ORGANIZATION,
    Role.PROPAGANDA,
    Role.DISCIPLINE,
    Role.GROUP_LEADER,
    Role.DUES_KEEPER,
    Role.INFO_OFFICER,
)
# Roles of which a branch has at most one holder at a time.
SINGLE_HOLDER_ROLES = frozenset({Role.SECRETARY})


class Permission(StrEnum):
    """Things a person may do for an organization."""

    VIEW_ROSTER = "view_roster"  # names, stages, roles, linked or not, last activity
    VIEW_PERSONAL = "view_personal"  # phones and other personal details
    MANAGE_MEMBERS = "manage_members"  # approve, import, edit, move, mark left
    MANAGE_ROLES = "manage_roles"
    BIND_GROUP = "bind_group"
    MANAGE_ORGS = "manage_orgs"  # create organizations under this one
    SEND_NOTICE = "send_notice"  # broadcast notices to the organization's members
    # Schedule meetings and run sign-in (a group leader: only for their own party group).
    MANAGE_MEETINGS = "manage_meetings"
    # Keep the dues: confirm standards and payments, remit, publish the disclosure.
    KEEP_DUES = "keep_dues"
    # See each member's dues (amounts and months); others see branch totals and statuses.
    VIEW_DUES = "view_dues"


_BRANCH_ADMIN = frozenset(
    {
        Permission.VIEW_ROSTER,
        Permission.VIEW_PERSONAL,
        Permission.MANAGE_MEMBERS,
    }
)

# A committee admin may do everything below the committee except keep or see each member's
# dues: a committee sees its branches' dues as totals and statuses (an amount reveals an
# income bracket), and its own 党费管理员 keeps the committee's dues.
COMMITTEE_PERMISSIONS = frozenset(Permission) - {Permission.KEEP_DUES, Permission.VIEW_DUES}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SECRETARY: _BRANCH_ADMIN
    | {
        Permission.MANAGE_ROLES,
        Permission.BIND_GROUP,
        Permission.SEND_NOTICE,
        Permission.MANAGE_MEETINGS,
        Permission.VIEW_DUES,
    },
    Role.DEPUTY: _BRANCH_ADMIN | {Permission.SEND_NOTICE, Permission.MANAGE_MEETINGS},
    # The organization member usually keeps the dues (or a 党费管理员 does).
    Role.ORGANIZATION: _BRANCH_ADMIN
    | {
        Permission.SEND_NOTICE,
        Permission.MANAGE_MEETINGS,
        Permission.KEEP_DUES,
        Permission.VIEW_DUES,
    },
    # Study and publicity are the propaganda member's work; reporting the information officer's.
    Role.PROPAGANDA: frozenset({Permission.VIEW_ROSTER, Permission.SEND_NOTICE}),
    Role.DISCIPLINE: frozenset({Permission.VIEW_ROSTER}),
    # A group leader's meetings are limited to their own party group (services check which).
    Role.GROUP_LEADER: frozenset({Permission.VIEW_ROSTER, Permission.MANAGE_MEETINGS}),
    # Instructors guide, they do not administer: no phones, no changes.
    Role.INSTRUCTOR: frozenset({Permission.VIEW_ROSTER}),
    Role.DUES_KEEPER: frozenset(
        {Permission.VIEW_ROSTER, Permission.KEEP_DUES, Permission.VIEW_DUES}
    ),
    Role.INFO_OFFICER: frozenset({Permission.VIEW_ROSTER, Permission.SEND_NOTICE}),
    Role.COMMITTEE_ADMIN: COMMITTEE_PERMISSIONS,
}

# Roles that carry their permissions down to every organization below.
INHERITED_ROLES = frozenset({Role.COMMITTEE_ADMIN, Role.INSTRUCTOR})

ALL_PERMISSIONS = frozenset(Permission)


def permissions_for(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    """The union of what these roles allow."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def is_admin_role(role: Role) -> bool:
    """Roles whose holders may change the roster (approvers of registrations)."""
    return Permission.MANAGE_MEMBERS in ROLE_PERMISSIONS[role]
