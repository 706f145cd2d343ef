"""TOTP codes computed in the tests (django_otp.oath), on a clock the tests move."""

from __future__ import annotations

import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp import models as totp_models


class Clock:
    """Stands in for the `time` module inside django-otp's TOTP device model."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 30 * 30 + 5)  # 5 s into a 30-second step

    def time(self) -> float:
        return self.now

    def step(self, n: int = 1) -> None:
        self.now += 30 * n


def install_clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(totp_models, "time", clock)
    return clock


def code_for(device, at: float, offset_steps: int = 0) -> str:
    """The 6-digit code `device` shows at Unix time `at` (+ `offset_steps` steps)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device, at: float) -> str:
    """A code no step in the device's tolerance window accepts."""
    valid = {code_for(device, at, k) for k in (-1, 0, 1)}
    guess = 123456
    while f"{guess:06d}" in valid:
        guess += 1
    return f"{guess:06d}"
