"""The Syncro emulator behaves like the spec and the runbook say the real one does."""

from __future__ import annotations

import httpx
import pytest

from connectors.sandbox import accounts


def test_me_answers_the_user_the_token_belongs_to_by_header_and_by_query(sandbox):
    with sandbox.client("syncro", user_id=1737) as header_client:
        assert header_client.get("/me").json()["user_id"] == 1737
    with sandbox.client("syncro", user_id=1760, auth="query") as query_client:
        me = query_client.get("/me").json()
    assert (me["user_id"], me["user_name"]) == (1760, "Rob Keller")


def test_an_unknown_token_is_refused_with_401(sandbox):
    with sandbox.client("syncro", token="sx-not-a-token") as client:
        response = client.get("/tickets")
    assert response.status_code == 401
    assert "error" in response.json()


def test_tickets_list_pages_fifty_newest_first_with_the_short_meta(syncro):
    body = syncro.get("/tickets").json()
    assert len(body["tickets"]) == 50
    assert body["meta"] == {"total_pages": 2, "page": 1}
    ids = [t["id"] for t in body["tickets"]]
    assert ids == sorted(ids, reverse=True)
    second = syncro.get("/tickets", params={"page": 2}).json()
    assert len(second["tickets"]) == 10
    assert not set(ids) & {t["id"] for t in second["tickets"]}


def test_ticket_list_items_carry_only_the_initial_comment(sandbox, syncro):
    tid = max(
        sandbox.syncro.ticket_ids(),
        key=lambda t: len(sandbox.syncro.ticket_records(t)["comments"]),
    )
    assert len(sandbox.syncro.ticket_records(tid)["comments"]) > 1
    listed = syncro.get(
        "/tickets", params={"query": str(sandbox.syncro.ticket_records(tid)["ticket"]["number"])}
    )
    item = next(t for t in listed.json()["tickets"] if t["id"] == tid)
    assert len(item["comments"]) == 1
    detail = syncro.get(f"/tickets/{tid}").json()["ticket"]
    assert len(detail["comments"]) == len(sandbox.syncro.ticket_records(tid)["comments"])


def test_ticket_filters_by_status_customer_and_not_closed(syncro):
    new = syncro.get("/tickets", params={"status": "New"}).json()["tickets"]
    assert new and {t["status"] for t in new} == {"New"}
    not_closed = syncro.get("/tickets", params={"status": "Not Closed"}).json()["tickets"]
    assert not {"Resolved", "Closed"} & {t["status"] for t in not_closed}
    customer_id = new[0]["customer_id"]
    mine = syncro.get("/tickets", params={"customer_id": customer_id}).json()["tickets"]
    assert {t["customer_id"] for t in mine} == {customer_id}


def test_comment_wrapped_in_a_comment_key_is_rejected_as_blank(syncro, ticket_id):
    response = syncro.post(
        f"/tickets/{ticket_id}/comment", json={"comment": {"subject": "Update", "body": "Hi"}}
    )
    assert response.status_code == 422
    assert response.json() == {
        "success": False,
        "message": ["Body can't be blank", "Subject can't be blank"],
    }


def test_comment_without_a_subject_is_rejected(syncro, ticket_id):
    response = syncro.post(f"/tickets/{ticket_id}/comment", json={"body": "Hi"})
    assert response.status_code == 422
    assert response.json()["message"] == ["Subject can't be blank"]


def test_comment_answer_is_wrapped_attributed_and_ignores_billing_fields(
    sandbox, syncro, ticket_id
):
    response = syncro.post(
        f"/tickets/{ticket_id}/comment",
        json={
            "subject": "Update",
            "body": "Fixed",
            "hidden": True,
            "product_id": 1190473,
            "minutes_spent": 30,
            "bill_time_now": True,
        },
        headers={"Idempotency-Key": "abc"},
    )
    assert response.status_code == 200
    comment = response.json()["comment"]
    assert (
        comment["user_id"] == 1750
        and comment["tech"] == "Howard Enos"
        and comment["hidden"] is True
    )
    assert "minutes_spent" not in comment and "product_id" not in comment
    assert not sandbox.syncro.ticket_records(ticket_id)["line_items"]


def test_the_same_comment_posted_twice_makes_two_comments(sandbox, syncro, ticket_id):
    before = len(sandbox.syncro.ticket_records(ticket_id)["comments"])
    for _ in range(2):
        syncro.post(
            f"/tickets/{ticket_id}/comment",
            json={"subject": "Update", "body": "Same"},
            headers={"Idempotency-Key": "k1"},
        )
    assert len(sandbox.syncro.ticket_records(ticket_id)["comments"]) == before + 2


def test_a_comment_moves_the_tickets_updated_at(sandbox, syncro, ticket_id):
    sandbox.clock.advance(3600)
    syncro.post(f"/tickets/{ticket_id}/comment", json={"subject": "Update", "body": "x"})
    ticket = syncro.get(f"/tickets/{ticket_id}").json()["ticket"]
    assert ticket["updated_at"] == "2026-05-01T10:00:00.000Z"


@pytest.mark.parametrize("missing", ["name", "description"])
def test_add_line_item_needs_both_name_and_description(syncro, ticket_id, missing):
    body = {"name": "Labor - Remote Business", "description": "Work", "product_id": 1190473}
    del body[missing]
    response = syncro.post(f"/tickets/{ticket_id}/add_line_item", json=body)
    assert response.status_code == 422
    assert response.json()["errors"] == f"{missing.capitalize()} can't be blank"
    assert "params" in response.json()


def test_only_price_retail_sets_a_line_items_price(syncro, ticket_id):
    base = {"name": "Custom", "description": "Work", "quantity": 1}
    ignored = syncro.post(
        f"/tickets/{ticket_id}/add_line_item",
        json={**base, "price": 99, "retail_price": 99, "rate": 99, "price_cents": 9900},
    ).json()
    assert ignored["price_retail"] == 0 and ignored["retail_cents"] == 0
    priced = syncro.post(
        f"/tickets/{ticket_id}/add_line_item", json={**base, "price_retail": 42.5}
    ).json()
    assert priced["retail_cents"] == 4250 and priced["price_retail"] == 42.5


def test_line_item_price_comes_from_the_product_and_taxable_defaults_to_true(syncro, ticket_id):
    item = syncro.post(
        f"/tickets/{ticket_id}/add_line_item",
        json={
            "product_id": 26118,
            "quantity": 0.5,
            "name": "Labor - Onsite Business",
            "description": "Onsite",
        },
    ).json()
    assert item["price_retail"] == 150 and item["quantity"] == "0.5"
    assert item["taxable"] is True  # the labor product is not taxable, the API default still is
    explicit = syncro.post(
        f"/tickets/{ticket_id}/add_line_item",
        json={
            "product_id": 26118,
            "quantity": 1,
            "name": "x",
            "description": "y",
            "taxable": False,
        },
    ).json()
    assert explicit["taxable"] is False


def test_update_line_item_answers_wrapped_and_remove_answers_success(syncro, ticket_id):
    item = syncro.post(
        f"/tickets/{ticket_id}/add_line_item", json={"name": "a", "description": "b"}
    ).json()
    updated = syncro.put(
        f"/tickets/{ticket_id}/update_line_item",
        json={"ticket_line_item_id": item["id"], "quantity": 2},
    )
    assert updated.json()["ticket_line_item"]["quantity"] == "2.0"
    removed = syncro.post(
        f"/tickets/{ticket_id}/remove_line_item", json={"ticket_line_item_id": item["id"]}
    )
    assert removed.json() == {"success": True, "message": ""}


def test_timer_entry_without_start_at_gets_the_ruby_error(syncro, ticket_id):
    response = syncro.post(f"/tickets/{ticket_id}/timer_entry", json={"duration_minutes": 30})
    assert response.status_code == 422
    assert response.json() == {"error": "no implicit conversion of nil into String"}


def test_timer_entry_computes_the_end_and_defaults_user_and_labor_product(syncro, ticket_id):
    timer = syncro.post(
        f"/tickets/{ticket_id}/timer_entry",
        json={"start_at": "2026-05-01T07:00:00Z", "duration_minutes": 45, "notes": "Fix"},
    ).json()
    assert timer["end_time"] == "2026-05-01T07:45:00.000Z"
    assert (timer["user_id"], timer["product_id"], timer["recorded"]) == (1750, 1190473, False)
    assert timer["active_duration"] == 2700


def test_update_timer_entry_ignores_duration_minutes(syncro, ticket_id):
    timer = syncro.post(
        f"/tickets/{ticket_id}/timer_entry",
        json={"start_at": "2026-05-01T07:00:00Z", "duration_minutes": 45},
    ).json()
    updated = syncro.put(
        f"/tickets/{ticket_id}/update_timer_entry",
        json={"timer_entry_id": timer["id"], "duration_minutes": 90, "notes": "n"},
    ).json()
    assert updated["end_time"] == timer["end_time"] and updated["active_duration"] == 2700
    assert updated["notes"] == "n"


def test_charging_a_timer_twice_creates_two_line_items(sandbox, syncro, ticket_id):
    timer = syncro.post(
        f"/tickets/{ticket_id}/timer_entry",
        json={"start_at": "2026-05-01T07:00:00Z", "duration_minutes": 30},
    ).json()
    first = syncro.post(
        f"/tickets/{ticket_id}/charge_timer_entry", json={"timer_entry_id": timer["id"]}
    ).json()
    second = syncro.post(
        f"/tickets/{ticket_id}/charge_timer_entry", json={"timer_entry_id": timer["id"]}
    ).json()
    assert first["recorded"] is True and second["recorded"] is True
    items = sandbox.syncro.ticket_records(ticket_id)["line_items"]
    assert [(i["name"], i["quantity"]) for i in items] == [("Labor - Remote Business", "0.5")] * 2


def test_invoice_from_a_ticket_takes_its_line_items_not_its_timers_nor_body_line_items(
    sandbox, syncro, ticket_id
):
    syncro.post(
        f"/tickets/{ticket_id}/add_line_item",
        json={
            "product_id": 1190473,
            "quantity": 1,
            "name": "Labor - Remote Business",
            "description": "Work",
            "taxable": False,
        },
    )
    syncro.post(
        f"/tickets/{ticket_id}/timer_entry",
        json={"start_at": "2026-05-01T07:00:00Z", "duration_minutes": 60},
    )
    created = syncro.post(
        "/invoices",
        json={
            "ticket_id": ticket_id,
            "category": "Standard",
            "line_items": [{"item": "Extra", "price": 500, "quantity": 1}],
        },
    )
    assert created.status_code == 200
    invoice = created.json()["invoice"]
    assert "line_items" not in invoice
    assert invoice["ticket_id"] == ticket_id and invoice["total"] == "125.0"
    fetched = syncro.get(f"/invoices/{invoice['id']}").json()["invoice"]
    assert [(li["item"], li["price"], li["quantity"]) for li in fetched["line_items"]] == [
        ("Labor - Remote Business", "125.0", "1.0")
    ]
    by_number = syncro.get(f"/invoices/{invoice['number']}").json()["invoice"]
    assert by_number["id"] == invoice["id"]


def test_two_invoice_posts_for_one_ticket_make_two_invoices(sandbox, syncro, ticket_id):
    syncro.post(
        f"/tickets/{ticket_id}/add_line_item",
        json={"name": "a", "description": "b", "price_retail": 10},
    )
    syncro.post("/invoices", json={"ticket_id": ticket_id})
    syncro.post("/invoices", json={"ticket_id": ticket_id})
    assert len(sandbox.syncro.ticket_records(ticket_id)["invoices"]) == 2


def test_ticket_create_requires_a_customer_and_ignores_line_items(sandbox, syncro):
    refused = syncro.post("/tickets", json={"subject": "No customer"})
    assert refused.status_code == 422 and refused.json() == {"error": "Customer required field"}
    customer_id = syncro.get("/customers").json()["customers"][0]["id"]
    created = syncro.post(
        "/tickets",
        json={
            "customer_id": customer_id,
            "subject": "New PC",
            "line_items": [{"name": "x"}],
            "comments_attributes": [{"subject": "Initial Issue", "body": "Please help"}],
        },
    )
    ticket = created.json()["ticket"]
    assert ticket["status"] == "New" and len(ticket["comments"]) == 1 and ticket["line_items"] == []


def test_ticket_update_with_a_blank_subject_uses_the_success_false_shape(syncro, ticket_id):
    response = syncro.put(f"/tickets/{ticket_id}", json={"subject": ""})
    assert response.status_code == 422
    assert response.json() == {"success": False, "message": ["Subject can't be blank"]}


def test_ticket_settings_list_statuses_and_the_default_labor_product(syncro):
    settings = syncro.get("/tickets/settings").json()
    assert "Invoiced" in settings["ticket_status_list"]
    assert settings["default_labor_product_id"] == 1190473


def test_products_include_the_runbooks_labor_products_and_have_no_meta(sandbox, syncro):
    body = syncro.get("/products").json()
    assert "meta" not in body
    names = {p["id"]: p["name"] for p in body["products"]}
    assert names[1190473] == "Labor - Remote Business"
    assert names[26117] == "Fee - Travel Time"
    assert sandbox.syncro.labor_product_id("website") == 68055


def test_users_list_is_pairs_of_id_and_name(syncro):
    assert [1735, "Michael Swanson"] in syncro.get("/users").json()["users"]


def test_since_updated_at_returns_only_tickets_changed_after_it(sandbox, syncro):
    sandbox.clock.advance(86400)
    since = sandbox.clock.now().isoformat()
    sandbox.clock.advance(60)
    changed = sandbox.churn(10)["syncro"]
    found = syncro.get("/tickets", params={"since_updated_at": since}).json()["tickets"]
    assert {t["id"] for t in found} == set(changed["updated"]) | set(changed["created"])


def test_syncro_limits_each_client_address_to_180_requests_a_minute(sandbox):
    sandbox.configure(syncro_rate_limit_per_minute=5)
    with sandbox.client("syncro") as a, sandbox.client("syncro", client_addr="10.0.0.2") as b:
        codes = [a.get("/me").status_code for _ in range(6)]
        assert codes == [200] * 5 + [429]
        limited = a.get("/me")
        assert limited.text == "Retry later\n" and "retry-after" not in limited.headers
        assert b.get("/me").status_code == 200
        sandbox.configure(syncro_retry_after=True)
        assert int(a.get("/me").headers["retry-after"]) > 0
        sandbox.clock.advance(61)
        assert a.get("/me").status_code == 200


def test_the_default_syncro_limit_is_180(sandbox):
    assert sandbox.config.syncro_rate_limit_per_minute == 180


def test_ledger_lists_every_write_with_its_user_status_and_records(sandbox, ticket_id):
    with sandbox.client("syncro", user_id=1737) as winter:
        winter.post(f"/tickets/{ticket_id}/comment", json={"body": "no subject"})
        ok = winter.post(f"/tickets/{ticket_id}/comment", json={"subject": "s", "body": "b"}).json()
        winter.get(f"/tickets/{ticket_id}")
    entries = sandbox.ledger.writes(vendor="syncro", path="/tickets/*/comment")
    assert [(e.status, e.auth, e.records) for e in entries] == [
        (422, "user:1737", []),
        (
            200,
            "user:1737",
            [{"kind": "syncro.comment", "id": ok["comment"]["id"], "op": "created"}],
        ),
    ]
    assert entries[1].body == {"subject": "s", "body": "b"}


def test_bad_json_body_gets_a_400(syncro, ticket_id):
    response = syncro.post(
        f"/tickets/{ticket_id}/comment",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_query_parameters_merge_into_params_like_rails(syncro, ticket_id):
    response = syncro.post(
        f"/tickets/{ticket_id}/comment", params={"subject": "From query", "body": "b"}
    )
    assert response.json()["comment"]["subject"] == "From query"


def test_unknown_subdomain_is_not_found(sandbox):
    user = accounts.syncro_user_by_id(1735)
    with httpx.Client(transport=sandbox.transport(), base_url="http://sandbox.invalid") as client:
        response = client.get(
            "/syncro/other/api/v1/me", headers={"Authorization": f"Bearer {user.token}"}
        )
    assert response.status_code == 404
