"""Who may do what (domain/orgs.py) and what people may type (domain/validation.py)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain.orgs import (
    ALLOWED_PARENTS,
    BRANCH_ROLES,
    INHERITED_ROLES,
    KINDS_BY_LEVEL,
    PARTY_MEMBER_STAGES,
    ROLE_PERMISSIONS,
    SINGLE_HOLDER_ROLES,
    STAGE_CHOICES,
    VOTING_STAGES,
    Kind,
    Level,
    Permission,
    Role,
    Stage,
    is_admin_role,
    permissions_for,
)
from domain.validation import (
    NAME_MAX,
    Invalid,
    clean_text,
    mask_phone,
    parse_date,
    parse_phone,
    parse_real_name,
    parse_short_text,
)

P = Permission

# ---------------------------------------------------------------- permissions by role


def test_secretary_may_bind_groups_and_manage_roles() -> None:
    granted = permissions_for({Role.SECRETARY})
    assert {P.BIND_GROUP, P.MANAGE_ROLES, P.MANAGE_MEMBERS, P.VIEW_PERSONAL} <= granted


def test_secretary_may_not_create_organizations() -> None:
    assert P.MANAGE_ORGS not in permissions_for({Role.SECRETARY})


@pytest.mark.parametrize("role", [Role.DEPUTY, Role.ORGANIZATION])
def test_deputy_and_organization_member_manage_members_but_not_roles_or_groups(
    role: Role,
) -> None:
    granted = permissions_for({role})
    assert {P.VIEW_ROSTER, P.VIEW_PERSONAL, P.MANAGE_MEMBERS} <= granted
    assert P.MANAGE_ROLES not in granted
    assert P.BIND_GROUP not in granted


def test_instructor_views_the_roster_but_not_personal_data() -> None:
    granted = permissions_for({Role.INSTRUCTOR})
    assert granted == {P.VIEW_ROSTER}
    assert P.VIEW_PERSONAL not in granted


@pytest.mark.parametrize("role", [Role.DISCIPLINE, Role.DUES_KEEPER])
def test_other_committee_offices_only_view_the_roster(role: Role) -> None:
    dues = {P.KEEP_DUES, P.VIEW_DUES} if role is Role.DUES_KEEPER else set()
    assert permissions_for({role}) == {P.VIEW_ROSTER} | dues
    assert not is_admin_role(role)


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION])
def test_branch_admins_manage_meetings(role: Role) -> None:
    assert P.MANAGE_MEETINGS in permissions_for({role})


def test_group_leaders_view_the_roster_and_manage_their_groups_meetings() -> None:
    assert permissions_for({Role.GROUP_LEADER}) == {P.VIEW_ROSTER, P.MANAGE_MEETINGS}
    assert not is_admin_role(Role.GROUP_LEADER)


@pytest.mark.parametrize("role", [Role.PROPAGANDA, Role.INFO_OFFICER])
def test_propaganda_and_information_officers_also_send_notices(role: Role) -> None:
    assert permissions_for({role}) == {P.VIEW_ROSTER, P.SEND_NOTICE}
    assert not is_admin_role(role)


def test_committee_admin_may_do_everything_but_keep_or_see_each_members_dues() -> None:
    granted = permissions_for({Role.COMMITTEE_ADMIN})
    assert granted == frozenset(Permission) - {Permission.KEEP_DUES, Permission.VIEW_DUES}
    keepers = {Role.ORGANIZATION, Role.DUES_KEEPER}
    assert {r for r in Role if Permission.KEEP_DUES in permissions_for({r})} == keepers


def test_no_roles_grant_nothing() -> None:
    assert permissions_for(set()) == frozenset()


def test_permissions_of_several_roles_are_their_union() -> None:
    assert permissions_for({Role.INSTRUCTOR, Role.DEPUTY}) == (
        ROLE_PERMISSIONS[Role.DEPUTY] | ROLE_PERMISSIONS[Role.INSTRUCTOR]
    )


def test_every_role_has_permissions_and_every_role_views_the_roster() -> None:
    for role in Role:
        assert P.VIEW_ROSTER in ROLE_PERMISSIONS[role], role


def test_only_roster_keepers_are_admin_roles() -> None:
    admins = {role for role in Role if is_admin_role(role)}
    assert admins == {Role.SECRETARY, Role.DEPUTY, Role.ORGANIZATION, Role.COMMITTEE_ADMIN}


def test_only_committee_admins_and_instructors_reach_down() -> None:
    assert {Role.COMMITTEE_ADMIN, Role.INSTRUCTOR} == INHERITED_ROLES


def test_branch_offices_exclude_committee_offices() -> None:
    assert Role.COMMITTEE_ADMIN not in BRANCH_ROLES
    assert Role.INSTRUCTOR not in BRANCH_ROLES
    assert {Role.SECRETARY} == SINGLE_HOLDER_ROLES


def test_personal_data_always_comes_with_the_roster() -> None:
    for role in Role:
        if P.VIEW_PERSONAL in ROLE_PERMISSIONS[role]:
            assert P.VIEW_ROSTER in ROLE_PERMISSIONS[role]


# ---------------------------------------------------------------- the tree and stages


def test_committees_sit_at_the_top_or_under_committees_only() -> None:
    assert ALLOWED_PARENTS[Level.COMMITTEE] == (None, Level.COMMITTEE)
    assert None not in ALLOWED_PARENTS[Level.BRANCH]
    assert Level.BRANCH not in ALLOWED_PARENTS[Level.BRANCH]
    assert Level.BRANCH not in ALLOWED_PARENTS[Level.GENERAL_BRANCH]


def test_every_kind_belongs_to_exactly_one_level() -> None:
    seen = [kind for kinds in KINDS_BY_LEVEL.values() for kind in kinds]
    assert sorted(seen) == sorted(Kind)
    assert Kind.JOINT in KINDS_BY_LEVEL[Level.BRANCH]


def test_only_full_members_vote_and_probationary_members_are_party_members() -> None:
    assert {Stage.FULL} == VOTING_STAGES
    assert {Stage.FULL, Stage.PROBATIONARY} == PARTY_MEMBER_STAGES
    assert STAGE_CHOICES[0] == Stage.FULL
    assert sorted(STAGE_CHOICES) == sorted(Stage)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("王芳", "王芳"),
        ("  王  芳 ", "王 芳"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽•买买提"),
        ("欧阳娜娜", "欧阳娜娜"),
        ("John Smith", "John Smith"),
        ("Jean-Pierre", "Jean-Pierre"),
        ("王\u200b芳", "王芳"),  # a zero-width space pasted from a chat
        ("王\t芳\n", "王 芳"),
    ],
)
def test_real_names_are_accepted_and_cleaned(typed: str, expected: str) -> None:
    assert parse_real_name(typed) == expected


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "name.empty"),
        ("   \u200b ", "name.empty"),
        ("王" * (NAME_MAX + 1), "name.too_long"),
        ("王" * 201, "name.too_long"),
        ("王芳2", "name.bad_chars"),
        ("王芳２", "name.bad_chars"),  # full-width digit
        ("王芳😀", "name.bad_chars"),
        ("<b>王芳</b>", "name.bad_chars"),
        ("王芳<script>", "name.bad_chars"),
        ("王芳@example", "name.bad_chars"),
        ("王", "name.too_short"),
    ],
)
def test_bad_names_are_refused_with_a_code(typed: str, code: str) -> None:
    assert parse_real_name(typed) == Invalid(code)


def test_a_name_of_exactly_the_limit_is_accepted() -> None:
    assert parse_real_name("王" * NAME_MAX) == "王" * NAME_MAX


@given(st.text())
@example("王芳２")
@example("e\u200d\u0301")
def test_parse_real_name_never_raises_and_accepts_only_clean_names(text: str) -> None:
    result = parse_real_name(text)
    if isinstance(result, str):
        assert result == clean_text(result)
        assert 1 <= len(result) <= NAME_MAX
        assert not any(ch.isdigit() for ch in result)


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "008613800138000",
        "(+86) 138-0013-8000",
        "１３８００１３８０００",  # full-width digits from a Chinese keyboard
        "＋８６ １３８ ００１３ ８０００",
        " 13800138000\n",
    ],
)
def test_phones_as_people_write_them_are_accepted(typed: str) -> None:
    assert parse_phone(typed) == "13800138000"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "23800138000",  # leading 2
        "12800138000",  # 1 followed by 2
        "+1 13800138000",
        "1380013800a",
        "138\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667",  # Arabic-Indic digits
        "电话13800138000",
    ],
)
def test_bad_phones_are_refused(typed: str) -> None:
    assert parse_phone(typed) == Invalid("phone.invalid")


@given(st.text())
@example("138\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667")
def test_parse_phone_never_raises_and_yields_eleven_ascii_digits(text: str) -> None:
    result = parse_phone(text)
    if isinstance(result, str):
        assert len(result) == 11
        assert result.isascii()
        assert result.isdigit()
        assert result[0] == "1"
    else:
        assert result == Invalid("phone.invalid")


@given(
    st.sampled_from("13456789"),
    st.text(alphabet=st.characters(categories=["Nd"]), min_size=9, max_size=9),
)
def test_digits_of_other_scripts_never_leak_into_a_phone(second: str, rest: str) -> None:
    result = parse_phone("1" + second + rest)
    assert result == ("1" + second + rest) or result == Invalid("phone.invalid")


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_every_mobile_number_survives_formatting(number: str) -> None:
    spaced = f"+86 {number[:3]} {number[3:7]}-{number[7:]}"
    wide = unicodedata.normalize("NFKC", number).translate(
        {ord(d): chr(ord(d) - ord("0") + ord("０")) for d in "0123456789"}
    )
    assert parse_phone(spaced) == number
    assert parse_phone(wide) == number
    assert parse_phone(number) == number


def test_mask_phone_shows_the_first_three_and_last_four_digits() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("1234") == "****"
    assert mask_phone("") == "****"


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_phones_hide_the_middle(number: str) -> None:
    masked = mask_phone(number)
    assert masked.startswith(number[:3])
    assert masked.endswith(number[-4:])
    assert number[3:7] not in masked[3:7]
    assert len(masked) == 11


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "typed",
    [
        "2024-07-01",
        "2024-7-1",
        "2024/7/1",
        "2024.07.01",
        "2024年7月1日",
        "2024年07月01",
        "20240701",
        "２０２４－０７－０１",  # full-width
        " 2024-07-01 ",
    ],
)
def test_dates_in_the_usual_formats_are_accepted(typed: str) -> None:
    assert parse_date(typed) == date(2024, 7, 1)


@pytest.mark.parametrize(
    "typed",
    ["2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "0000-01-01", "20241301",
     "", "tomorrow", "07/01/2024", "2024-07", "2024-07-01 10:00"],
)  # fmt: skip
def test_impossible_or_unknown_dates_are_refused(typed: str) -> None:
    assert parse_date(typed) == Invalid("date.invalid")


def test_leap_day_is_a_date() -> None:
    assert parse_date("2024-02-29") == date(2024, 2, 29)


@given(st.text())
def test_parse_date_never_raises(text: str) -> None:
    result = parse_date(text)
    assert isinstance(result, date | Invalid)


@given(st.dates(min_value=date(1000, 1, 1)))
def test_every_date_round_trips_through_each_format(day: date) -> None:
    for typed in (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
    ):
        assert parse_date(typed) == day, typed


# ---------------------------------------------------------------- free text


# Letters, combining marks, control/format characters and spaces: the mixes that matter.
_TRICKY = st.text(alphabet=st.sampled_from("aeA 王\t\n\u0301\u0308\u200d\u200b\x00\u3000"))


@given(st.text() | _TRICKY)
@example("e\u200d\u0301")  # removing a control character must not leave text un-normalized
@example("a\u0000 \u0000b")
def test_clean_text_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once
    assert once == once.strip()
    assert "  " not in once
    assert unicodedata.is_normalized("NFC", once)


@given(st.text())
def test_clean_text_leaves_no_control_characters(text: str) -> None:
    assert all(unicodedata.category(ch)[0] != "C" for ch in clean_text(text))


def test_short_text_is_limited_and_must_not_be_empty() -> None:
    assert parse_short_text("  某某科技有限公司 ", 20) == "某某科技有限公司"
    assert parse_short_text(" \u200b ", 20) == Invalid("text.empty")
    assert parse_short_text("字" * 21, 20) == Invalid("text.too_long")
    assert parse_short_text("字" * 20, 20) == "字" * 20
