"""A strict Telegram Bot API emulator for tests (see README.md in this folder)."""

from .emulator import Emulator, EmulatorTimeout, PendingUpdate, Webhook
from .faults import ApiError, Fault, FloodLimits, Hold, RequestRecord
from .formatting import parse_html, strip_html, utf16_len
from .model import (
    Button,
    CallbackAnswer,
    CallbackQuery,
    CannotSend,
    EmuChat,
    EmuFile,
    EmulatorError,
    EmuMessage,
    EmuUser,
    ManualClock,
    Member,
)

__all__ = [
    "ApiError",
    "Button",
    "CallbackAnswer",
    "CallbackQuery",
    "CannotSend",
    "EmuChat",
    "EmuFile",
    "EmuMessage",
    "EmuUser",
    "Emulator",
    "EmulatorError",
    "EmulatorTimeout",
    "Fault",
    "FloodLimits",
    "Hold",
    "ManualClock",
    "Member",
    "PendingUpdate",
    "RequestRecord",
    "Webhook",
    "parse_html",
    "strip_html",
    "utf16_len",
]
