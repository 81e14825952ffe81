"""The one registry of refusals: a service's error code → the catalog key that explains it.

Services raise `ServiceError("meeting.closed")`; every handler turns the code into words
through `error_key` (the press decorator does it for buttons). A feature may word a shared
code its own way (the /org menu says "you cannot change this organization" for any
authorization failure); those few overrides are listed here too, so there is one place to
look. `tests/unit/test_error_registry.py` proves every code raised in services/ has an entry
and every key exists in both languages.
"""

from __future__ import annotations

from typing import Literal

Feature = Literal[
    "notices", "meetings", "minutes", "ledger", "org", "compliance", "import", "forms", "dues"
]

GENERIC = "error.generic"

ERRORS: dict[str, str] = {
    "auth.denied": "error.auth.denied",
    "auth.view_roster": "error.auth.view_roster",
    "auth.view_personal": "error.auth.denied",
    "auth.manage_members": "error.auth.manage_members",
    "auth.manage_roles": "error.auth.manage_roles",
    "auth.bind_group": "error.auth.bind_group",
    "auth.manage_orgs": "error.auth.manage_orgs",
    "auth.keep_dues": "error.auth.keep_dues",
    "auth.view_dues": "error.auth.view_dues",
    "not_found": "error.not_found",
    "org.not_found": "error.org.not_found",
    "org.bad_kind": "error.org.bad_parent",
    "org.bad_parent": "error.org.bad_parent",
    "org.text.empty": "error.input.text_empty",
    "org.text.too_long": "error.input.text_too_long",
    "input.name.empty": "error.input.name_empty",
    "input.name.too_long": "error.input.name_too_long",
    "input.name.too_short": "error.input.name_too_short",
    "input.name.bad_chars": "error.input.name_bad_chars",
    "input.phone.invalid": "error.input.phone_invalid",
    "input.reason_empty": "error.input.reason_empty",
    "input.reason_too_long": "error.input.reason_too_long",
    "registration.already_member": "error.registration.already_member",
    "registration.phone_taken": "error.registration.phone_taken",
    "registration.bad_unit": "error.registration.bad_unit",
    "registration.not_found": "error.registration.not_found",
    "registration.already_approved": "error.registration.already_decided",
    "registration.already_rejected": "error.registration.already_decided",
    "registration.already_cancelled": "error.registration.cancelled",
    "member.not_found": "error.member.not_found",
    "member.not_registered": "error.member.not_registered",
    "member.bad_transfer_target": "error.member.bad_transfer_target",
    "role.not_found": "error.not_found",
    "role.needs_party_group": "error.role.needs_party_group",
    "role.not_for_committee": "error.role.not_for_committee",
    "user.unknown": "error.user.unknown",
    "stale": "callback.invalid",
    "import.no_session": "import.no_session",
    "import.stale": "callback.invalid",
    "auth.send_notice": "notice.error.denied",
    "notice.not_found": "notice.error.not_found",
    "notice.recalled": "notice.error.recalled",
    "notice.no_ack": "notice.error.no_ack",
    "notice.title_empty": "notice.error.title_empty",
    "notice.title_too_long": "notice.error.title_too_long",
    "notice.body_too_long": "notice.error.body_too_long",
    "notice.no_audience": "notice.error.no_audience",
    "notice.bad_category": "notice.error.bad_category",
    "notice.bad_ack": "notice.error.bad_category",
    "notice.past": "notice.error.past",
    "notice.bad_time": "notice.error.bad_time",
    "notice.body_empty": "notice.error.body_empty",
    "notice.deadline_before_send": "notice.error.deadline_before_send",
    "notice.send_time_passed": "notice.error.send_time_passed",
    "notice.deadline_passed": "notice.error.deadline_passed",
    "notice.use_buttons": "notice.error.use_buttons",
    "notice.no_media_here": "notice.error.no_media_here",
    "auth.manage_meetings": "meeting.error.denied",
    "meeting.not_found": "meeting.error.not_found",
    "meeting.closed": "meeting.error.closed",
    "meeting.cancelled": "meeting.error.cancelled",
    "meeting.bad_time": "meeting.error.bad_time",
    "meeting.reason_long": "meeting.error.too_long",
    "meeting.past": "meeting.error.past",
    "meeting.no_type": "meeting.error.no_type",
    "meeting.group_type_needs_group": "meeting.error.group_type",
    "meeting.bad_person": "callback.invalid",
    "meeting.outside": "meeting.error.outside",
    "meeting.note_long": "meeting.error.too_long",
    "meeting.place_empty": "meeting.error.empty",
    "meeting.place_long": "meeting.error.too_long",
    "meeting.topic_empty": "meeting.error.empty",
    "meeting.topic_long": "meeting.error.too_long",
    "meeting.agenda_empty": "meeting.error.empty",
    "meeting.agenda_long": "meeting.error.too_long",
    "meeting.text_empty": "meeting.error.empty",
    "meeting.edit_too_long": "meeting.edit.too_long",
    "meeting.not_open": "meeting.signin.not_open",
    "auth.minutes": "minutes.error.denied",
    "minutes.not_yet": "minutes.error.not_yet",
    "minutes.missing": "minutes.error.missing",
    "minutes.too_long": "minutes.error.too_long_saved",
    "minutes.photos": "minutes.error.photos",
    "minutes.text_empty": "minutes.error.empty",
    "minutes.text_too_long": "minutes.error.too_long",
    "auth.ledger": "ledger.denied",
    "range.invalid": "ledger.error.range_invalid",
    "ledger.bad_range": "ledger.error.range_order",
    "range.order": "ledger.error.range_order",
    "range.too_long": "ledger.error.range_too_long",
    "range.future": "ledger.error.range_future",
    "org.bad_office": "org.error.bad_office",
    "org.role_ended": "org.error.role_ended",
    "org.bad_handle": "org.error.bad_handle",
    "requirements.not_committee": "compliance.req.not_committee",
    "import.not_branch": "import.not_branch",
    "import.conflict": "import.conflict",
    # forms (信息报送)
    "form.title.empty": "form.error.title_empty",
    "form.title.too_long": "form.error.title_too_long",
    "form.question.empty": "form.error.question_empty",
    "form.question.too_long": "form.error.question_too_long",
    "form.intro.too_long": "form.error.intro_too_long",
    "form.no_questions": "form.error.no_questions",
    "form.too_many_questions": "form.error.too_many_questions",
    "form.choices.too_few": "form.error.choices_too_few",
    "form.choices.too_many": "form.error.choices_too_many",
    "form.choices.too_long": "form.error.choices_too_long",
    "form.columns.none": "form.error.columns_none",
    "form.show_if.order": "form.error.show_if_order",
    "form.show_if.source": "form.error.show_if_source",
    "form.bounds.invalid": "form.error.bounds_invalid",
    "form.bounds.order": "form.error.bounds_order",
    "form.no_audience": "form.error.no_audience",
    "form.deadline_past": "form.error.deadline_past",
    "form.not_found": "form.error.not_found",
    "form.closed": "form.error.closed",
    "form.too_late": "form.error.too_late",
    "form.not_yours": "form.error.not_yours",
    "form.incomplete": "form.error.incomplete",
    "form.locked": "form.error.locked",
    "form.anonymous_final": "form.error.anonymous_final",
    "form.comment.empty": "form.error.comment_empty",
    "form.comment.too_long": "form.error.comment_too_long",
    "form.anonymous_review": "form.error.anonymous_review",
    "form.roster.phone_invalid": "form.error.roster_phone_invalid",
    "form.roster.phone_taken": "form.error.roster_phone_taken",
    "form.roster.unit_too_long": "form.error.roster_unit_too_long",
    "form.export.too_few": "form.error.export_too_few",
    "form.answer.empty": "form.error.answer_empty",
    "form.answer.too_long": "form.error.answer_too_long",
    "form.answer.id_card": "form.error.answer_id_card",
    "form.answer.number": "form.error.answer_number",
    "form.answer.integer": "form.error.answer_integer",
    "form.answer.decimals": "form.error.answer_decimals",
    "form.answer.too_small": "form.error.answer_too_small",
    "form.answer.too_large": "form.error.answer_too_large",
    "form.answer.date": "form.error.answer_date",
    "form.answer.phone": "form.error.answer_phone",
    "form.answer.use_buttons": "form.error.answer_use_buttons",
    "form.row.cells": "form.error.row_cells",
    "form.row.yes_no": "form.error.row_yes_no",
    "form.row.number": "form.error.row_number",
    "form.row.integer": "form.error.row_integer",
    "form.row.decimals": "form.error.row_decimals",
    "form.row.too_small": "form.error.row_too_small",
    "form.row.too_large": "form.error.row_too_large",
    "form.row.date": "form.error.row_date",
    "form.row.phone": "form.error.row_phone",
    "form.row.too_long": "form.error.row_too_long",
    "form.row.empty": "form.error.row_empty",
    "form.rows.too_many": "form.error.rows_too_many",
    "form.members.too_many": "form.error.members_too_many",
    "form.answer.required": "form.error.answer_required",
    "form.chase.recent": "form.chase.error.recent",
    "form.build.columns_too_many": "form.build.error.columns_too_many",
    "form.build.column_bad": "form.build.error.column_bad",
    "form.build.column_too_long": "form.build.error.column_too_long",
    "form.build.column_type": "form.build.error.column_type",
    "form.build.column_twice": "form.build.error.column_twice",
    "form.build.move_condition": "form.build.error.move_condition",
    "form.build.intro_empty": "form.build.error.intro_empty",
    "form.build.unit_empty": "form.build.error.unit_empty",
    "form.build.unit_too_long": "form.build.error.unit_too_long",
    "form.build.bounds_whole": "form.build.error.bounds_whole",
    "form.build.hint_empty": "form.build.error.hint_empty",
    "form.build.hint_too_long": "form.build.error.hint_too_long",
    "form.build.no_condition_source": "form.build.error.no_condition_source",
    "form.build.condition_values": "form.build.error.condition_values",
    "form.build.bad_time": "form.build.error.bad_time",
    "form.build.due_day": "form.build.error.due_day",
    "form.build.file_too_large": "form.build.error.file_too_large",
    "form.build.file_empty": "form.build.error.file_empty",
    "form.build.file_old_excel": "form.build.error.file_old_excel",
    "form.build.file_type": "form.build.error.file_type",
    "form.build.file_corrupt": "form.build.error.file_corrupt",
    "form.build.file_encoding": "form.build.error.file_encoding",
    "form.build.file_no_header": "form.build.error.file_no_header",
    "form.build.file_too_many_columns": "form.build.error.file_too_many_columns",
    # dues standards (申报, 确认)
    "dues.not_member": "dues.error.not_member",
    "dues.declaration.gone": "dues.error.declaration_gone",
    "dues.farmer.missing": "dues.error.farmer_missing",
    "dues.farmer.range": "dues.error.farmer_range",
    "dues.amount.invalid": "dues.error.amount_invalid",
    "dues.amount.range": "dues.error.amount_range",
    "dues.base.range": "dues.error.base_range",
    "dues.base.missing": "dues.error.base_missing",
    "dues.reason.empty": "dues.error.reason_empty",
    "dues.reason.too_long": "dues.error.reason_too_long",
    "dues.table.incomplete": "dues.error.table_incomplete",
    # dues: payments (我已交纳, 确认 / 退回, the month grid)
    "dues.months.none": "dues.pay.error.months_none",
    "dues.months.invalid": "dues.pay.error.months_invalid",
    "dues.months.too_far_ahead": "dues.pay.error.too_far_ahead",
    "dues.months.too_far_back": "dues.pay.error.too_far_back",
    "dues.months.not_owed": "dues.pay.error.not_owed",
    "dues.extra.too_large": "dues.pay.error.extra_too_large",
    "dues.proof.invalid": "dues.pay.error.proof_invalid",
    "dues.pay.not_member": "dues.pay.error.not_member",
    "dues.pay.no_standard": "dues.pay.error.no_standard",
    "dues.pay.nothing_owed": "dues.pay.error.nothing_owed",
    "dues.claim.not_found": "dues.pay.error.claim_not_found",
    "dues.claim.own": "dues.pay.error.own",
    "dues.claim.changed": "dues.pay.error.changed",
    "dues.grid.already_paid": "dues.grid.error.already_paid",
    "dues.grid.nothing_to_correct": "dues.grid.error.nothing",
    "dues.grid.no_standard": "dues.grid.error.no_standard",
    "dues.grid.exempt": "dues.grid.error.exempt",
    "dues.ledger.bad_year": "dues.ledger.error.bad_year",
    "dues.import.file_too_large": "dues.import.error.file_too_large",
    "dues.import.file_no_rows": "dues.import.error.file_no_rows",
    "dues.import.file_type": "dues.import.error.file_type",
    "dues.import.file_corrupt": "dues.import.error.file_corrupt",
    "dues.import.file_old_excel": "dues.import.error.file_old_excel",
    "dues.import.file_encoding": "dues.import.error.file_encoding",
    "dues.import.file_missing_column": "dues.import.error.file_missing_column",
    "dues.import.file_too_many_rows": "dues.import.error.file_too_many_rows",
}

# How a feature words a code that other features word differently.
OVERRIDES: dict[Feature, dict[str, str]] = {
    "notices": {
        "auth.denied": "notice.error.denied",
        "org.not_found": "notice.error.org_gone",
    },
    "org": {
        "auth.denied": "org.error.denied",
        "auth.manage_orgs": "org.error.denied",
        "auth.manage_roles": "org.error.denied",
        "auth.bind_group": "org.error.denied",
        "auth.view_roster": "org.error.denied",
        "org.not_found": "org.error.gone",
        "role.not_found": "org.error.gone",
        "org.text.empty": "org.error.name_empty",
        "org.text.too_long": "org.error.name_too_long_short",
        "user.unknown": "org.error.user_unknown",
    },
    "compliance": {
        "auth.manage_orgs": "org.error.denied",
        "org.not_found": "org.error.gone",
    },
    "import": {
        "org.not_found": "import.not_branch",
    },
}

# Problems found in one row of a roster file (domain.members_roster's codes).
ROW_ERRORS: dict[str, str] = {
    "name.empty": "import.error.name_empty",
    "name.too_long": "import.error.name_too_long",
    "name.too_short": "import.error.name_too_short",
    "name.bad_chars": "import.error.name_bad_chars",
    "name.duplicate": "import.error.name_duplicate",
    "name.ambiguous": "import.error.name_ambiguous",
    "phone.invalid": "import.error.phone_invalid",
    "phone.scientific": "import.error.phone_scientific",
    "phone.duplicate": "import.error.phone_duplicate",
    "phone.taken": "import.error.phone_taken",
    "stage.empty": "import.error.stage_empty",
    "stage.unknown": "import.error.stage_unknown",
    "role.unknown": "import.error.role_unknown",
    "role.needs_party_group": "import.error.role_needs_party_group",
    "role.taken": "import.error.role_taken",
    "role.not_allowed": "import.error.role_not_allowed",
    "text.empty": "import.error.text_empty",
    "text.too_long": "import.error.text_too_long",
    "date.invalid": "import.error.date_invalid",
    "date.future": "import.error.date_future",
    "date.order": "import.error.date_order",
    "row.same_member": "import.error.same_member",
}
ROW_GENERIC = "import.error.generic"

# Why a whole roster file was refused.
FILE_ERRORS: dict[str, str] = {
    "file.too_large": "import.file.too_large",
    "file.no_rows": "import.file.no_rows",
    "file.too_many_rows": "import.file.too_many_rows",
    "file.missing_column": "import.file.missing_column",
    "file.duplicate_column": "import.file.duplicate_column",
    "file.corrupt": "import.file.corrupt",
    "file.type": "import.file.type",
    "file.old_excel": "import.file.old_excel",
    "file.encoding": "import.file.encoding",
}
FILE_GENERIC = "import.file.corrupt"


def error_key(code: str, feature: Feature | None = None) -> str:
    """The catalog key explaining a refusal code (in `feature`'s wording where it has one)."""
    if feature is not None:
        key = OVERRIDES.get(feature, {}).get(code)
        if key is not None:
            return key
    return ERRORS.get(code, GENERIC)


def row_error_key(code: str) -> str:
    """The catalog key explaining a problem of one roster row."""
    return ROW_ERRORS.get(code, ROW_GENERIC)


def file_error_key(code: str) -> str:
    """The catalog key explaining why a roster file was refused."""
    return FILE_ERRORS.get(code, FILE_GENERIC)


# Party dues, the monthly cycle: talks, remittances (wt-dues-cycle).
ERRORS.update(
    {
        "dues.member.not_found": "dues.cycle.error.member_gone",
        "dues.talk.empty": "dues.cycle.error.talk_empty",
        "dues.talk.too_long": "dues.cycle.error.talk_too_long",
        "dues.talk.date": "dues.cycle.error.talk_date",
        "dues.talk.date_range": "dues.cycle.error.talk_date_range",
        "dues.remit.no_committee": "dues.cycle.error.no_committee",
        "dues.remit.period": "dues.cycle.error.remit_period",
        "dues.remit.period_future": "dues.cycle.error.remit_period_future",
        "dues.remit.amount": "dues.cycle.error.remit_amount",
        "dues.remit.date_future": "dues.cycle.error.remit_date_future",
        "dues.remit.not_found": "dues.cycle.error.remit_gone",
    }
)


# Party dues, disclosure 党费公示 (wt-dues-disclose).
ERRORS.update(
    {
        "dues.disclose.not_ended": "dues.disclose.error.not_ended",
        "dues.disclose.already": "dues.disclose.error.already",
        "dues.disclose.mode_changed": "dues.disclose.error.mode_changed",
        "dues.disclose.no_group": "dues.disclose.error.no_group",
    }
)


# Party dues, standards set in bulk from a sheet (wt-dues-import).
ERRORS.update(
    {
        "dues.bulk.file_too_large": "dues.bulk.error.file_too_large",
        "dues.bulk.file_no_rows": "dues.import.error.file_no_rows",
        "dues.bulk.file_type": "dues.bulk.error.file_type",
        "dues.bulk.file_corrupt": "dues.import.error.file_corrupt",
        "dues.bulk.file_old_excel": "dues.import.error.file_old_excel",
        "dues.bulk.file_encoding": "dues.import.error.file_encoding",
        "dues.bulk.file_missing_column": "dues.bulk.error.file_missing_column",
        "dues.bulk.file_too_many_rows": "dues.bulk.error.file_too_many_rows",
    }
)


# Party dues: a committee's local rate table, hardship reductions and exemptions
# (wt-dues-rates).
ERRORS.update(
    {
        "dues.rates.not_committee": "dues.rates.error.not_committee",
        "dues.rates.changed": "dues.rates.error.changed",
        "dues.rates.unchanged": "dues.rates.error.unchanged",
        "dues.rates.rate_invalid": "dues.rates.error.rate_invalid",
        "dues.rates.range_invalid": "dues.rates.error.range_invalid",
        "dues.table.open_end": "dues.rates.error.open_end",
        "dues.table.order": "dues.rates.error.order",
        "dues.table.rate": "dues.rates.error.rate",
        "dues.table.falling": "dues.rates.error.falling",
        "dues.table.fixed": "dues.rates.error.fixed",
        "dues.table.farmer": "dues.rates.error.farmer",
        "dues.exempt.query_too_long": "dues.exempt.error.query_too_long",
        "dues.exempt.amount_range": "dues.exempt.error.amount_range",
        "dues.exempt.month_invalid": "dues.exempt.error.month_invalid",
        "dues.exempt.from_range": "dues.exempt.error.from_range",
        "dues.exempt.until_before": "dues.exempt.error.until_before",
        "dues.exempt.too_long": "dues.exempt.error.too_long",
        "dues.exempt.date_invalid": "dues.exempt.error.date_invalid",
        "dues.exempt.agreed_range": "dues.exempt.error.agreed_range",
        "dues.exempt.text_empty": "dues.exempt.error.text_empty",
        "dues.exempt.text_too_long": "dues.exempt.error.text_too_long",
        "dues.exempt.overlap": "dues.exempt.error.overlap",
        "dues.exempt.not_lower": "dues.exempt.error.not_lower",
        "dues.exempt.not_found": "dues.exempt.error.not_found",
        "dues.exempt.over": "dues.exempt.error.over",
        "dues.exempt.no_standard": "dues.exempt.error.no_standard",
    }
)


# 上缴: the keeper's 上缴党费 and the committee's 上缴情况 (wt-dues-remit).
ERRORS.update(
    {
        "dues.remit.period_long": "dues.remit.error.period_long",
        "dues.remit.amount_invalid": "dues.remit.error.amount_invalid",
        "dues.remit.amount_large": "dues.remit.error.amount_large",
        "dues.remit.date": "dues.remit.error.date",
        "dues.remit.date_early": "dues.remit.error.date_early",
        "dues.board.denied": "dues.board.denied",
        "dues.board.query_empty": "dues.board.query_empty",
        "dues.board.query_long": "dues.board.query_long",
    }
)


# Pickers that reach everything (issue 14, items 5, 6, 8).
ERRORS.update(
    {
        "picker.find_empty": "picker.error.find_empty",
    }
)


# 党费设置: a branch's dues settings changed by its keepers (wt-dues-settings).
ERRORS.update(
    {
        "dues.settings.not_branch": "dues.settings.error.not_branch",
        "dues.settings.day_range": "dues.settings.error.day_range",
        "dues.settings.ahead_range": "dues.settings.error.ahead_range",
        "dues.settings.back_range": "dues.settings.error.back_range",
        "dues.settings.every_invalid": "dues.settings.error.every_invalid",
        "dues.settings.not_number": "dues.settings.error.not_number",
    }
)


# Approvers' copies say who decided (issue 14, item 8c).
ERRORS.update(
    {
        "registration.decided_by": "error.registration.decided_by",
    }
)


# /import's branch chooser on the shared picker (wt-pickers3).
ERRORS.update({"import.not_admin": "import.not_admin"})
