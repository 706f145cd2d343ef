"""FieldCamp v1 emulator (placeholder until implemented)."""

from __future__ import annotations

from typing import Any

from connectors.sandbox.app import Request, Response, Vendor, json_response


class FieldCampSandbox(Vendor):
    name = "fieldcamp"

    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        return json_response({"message": "not implemented"}, 501)

    def generate(self, gen: Any) -> None:
        pass

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        return {}
