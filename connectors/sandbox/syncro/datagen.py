"""Syncro data: the generator (one function per resource) and churn."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connectors.sandbox import accounts
from connectors.sandbox.datagen import Gen
from connectors.sandbox.store import Store

from .invoices import InvoiceRoutes
from .records import (
    K_COMMENT,
    K_CONTACT,
    K_CUSTOMER,
    K_INVOICE,
    K_INVOICE_LINE,
    K_LINE,
    K_PRODUCT,
    K_TICKET,
    K_TIMER,
    cents,
    comment_record,
    contact_record,
    customer_record,
    line_item_record,
    money,
    product_record,
    timer_record,
    ts,
    user_obj,
)
from .tickets import TicketRoutes
from .vocab import (
    COMMENT_BODIES,
    COMMENT_SUBJECTS,
    DEFAULT_LABOR_PRODUCT_ID,
    HARDWARE,
    LABOR_PRODUCTS,
    OPEN_STATUSES,
    PRIORITIES,
    PROBLEM_TYPES,
    SUBJECTS,
    TICKET_TYPES,
)

if TYPE_CHECKING:
    from .emulator import SyncroSandbox

# --- generation ------------------------------------------------------------------------------
FIRST_IDS = {
    K_CUSTOMER: 21_000_001,
    K_CONTACT: 31_000_001,
    K_PRODUCT: 4_000_001,
    K_TICKET: 1_000_001,
    K_COMMENT: 50_000_001,
    K_LINE: 7_000_001,
    K_TIMER: 8_000_001,
    K_INVOICE: 1_500_001,
    K_INVOICE_LINE: 9_000_001,
    "syncro.ticket_number": 30_001,
    "syncro.invoice_number": 60_001,
}


LABOR_WEIGHTS = [
    (1190473, 50),
    (26118, 20),
    (26184, 6),
    (9269129, 8),
    (9269124, 4),
    (26117, 8),
    (68055, 4),
]


USERS = [u.user_id for u in accounts.SYNCRO_USERS]
TECHS = {u.user_id: u.full_name for u in accounts.SYNCRO_USERS}


def _fill(text: str, gen: Gen) -> str:
    if "{" not in text:
        return text
    return text.format(
        name=gen.pick("first", lambda f: f.first_name(), 400),
        company=gen.pick("company", lambda f: f.company(), 400),
        num=gen.rng.randrange(100000, 999999),
        day=gen.pick("weekday", lambda f: f.day_of_week(), 7),
    )


def _sentence(fake: Any) -> str:
    return fake.sentence(nb_words=12)


def _pick_labor(rng: Any) -> int:
    ids, weights = zip(*LABOR_WEIGHTS, strict=True)
    return rng.choices(ids, weights)[0]


def generate_syncro(v: SyncroSandbox, gen: Gen) -> None:
    """Fill the store: products (labor + hardware), customers (~n/25) with contacts, and n
    tickets with their comments, line items, timers and invoices. The random draws happen in
    one fixed order (products, customers and contacts, ticket times, then ticket by ticket),
    so a seed gives the same data set byte for byte."""
    store = v.sandbox.store
    products = generate_products(gen)
    store.put_many(K_PRODUCT, products.values())
    customers, contacts, contact_ids = generate_customers(gen)
    store.put_many(K_CUSTOMER, customers)
    store.put_many(K_CONTACT, contacts)
    tax_rate = Decimal(str(v.sandbox.config.syncro_tax_rate))
    ids = generate_tickets(gen, store, products, customers, contact_ids, tax_rate)
    for kind, next_id in ids.items():
        store.set_sequence(kind, next_id)
    store.set_sequence(K_CUSTOMER, FIRST_IDS[K_CUSTOMER] + len(customers))
    store.set_sequence(K_CONTACT, FIRST_IDS[K_CONTACT] + len(contacts))
    store.set_sequence(K_PRODUCT, FIRST_IDS[K_PRODUCT] + len(HARDWARE))


def generate_products(gen: Gen) -> dict[int, dict[str, Any]]:
    """The runbook's labor products (their real ids) and the hardware catalogue, by id."""
    products = {}
    for pid, _key, name, rate in LABOR_PRODUCTS:
        products[pid] = product_record(
            pid,
            name=name,
            description=name,
            category="Labor",
            retail=rate,
            cost="0.0",
            taxable=False,
            upc=None,
            maintain_stock=False,
        )
    for i, (name, category, retail, cost) in enumerate(HARDWARE):
        pid = FIRST_IDS[K_PRODUCT] + i
        products[pid] = product_record(
            pid,
            name=name,
            description=name,
            category=category,
            retail=retail,
            cost=cost,
            taxable=category != "Software",
            upc=gen.fake.ean13(),
            maintain_stock=category in ("Hardware", "Supplies"),
        )
    return products


def generate_customers(
    gen: Gen,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[int, list[tuple[int, str]]]]:
    """``(customers, contacts, {customer id: [(contact id, name)]})``: max(20, n/25)
    customers, three in four businesses with 1-3 contacts each."""
    customers: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    contact_ids: dict[int, list[tuple[int, str]]] = {}
    for i in range(max(20, gen.n // 25)):
        customer, domain, at = _customer(gen, FIRST_IDS[K_CUSTOMER] + i)
        customers.append(customer)
        if customer["business_name"]:
            for contact in _contacts(gen, customer["id"], domain, at, len(contacts)):
                contacts.append(contact)
                contact_ids.setdefault(customer["id"], []).append((contact["id"], contact["name"]))
    return customers, contacts, contact_ids


def _customer(gen: Gen, cid: int) -> tuple[dict[str, Any], str, datetime]:
    """One customer, its e-mail domain and its creation time."""
    rng, fake = gen.rng, gen.fake
    first, last = fake.first_name(), fake.last_name()
    business = fake.company() if rng.random() < 0.75 else None
    domain = (business or f"{last}family").lower().replace(" ", "").replace(",", "").replace(
        "-", ""
    )[:20] + ".example"
    at = gen.past(900, 280)
    c = customer_record(
        cid,
        first=first,
        last=last,
        business=business,
        email=f"{first.lower()}@{domain}",
        phone=fake.numerify("###-###-####"),
        address=fake.street_address(),
        city=fake.city(),
        state=fake.state_abbr(),
        zip_code=fake.zipcode(),
        at=at,
    )
    if rng.random() < 0.3:
        c["updated_at"] = ts(gen.past(270))
    return c, domain, at


def _contacts(gen: Gen, cid: int, domain: str, at: datetime, made: int) -> list[dict[str, Any]]:
    """1-3 contacts of business customer ``cid`` (``made`` contacts exist before them)."""
    fake = gen.fake
    out = []
    for _ in range(gen.rng.randint(1, 3)):
        cf, cl = fake.first_name(), fake.last_name()
        out.append(
            contact_record(
                FIRST_IDS[K_CONTACT] + made + len(out),
                cid,
                name=f"{cf} {cl}",
                email=f"{cf.lower()}.{cl.lower()}@{domain}",
                phone=fake.numerify("###-###-####"),
                at=at,
            )
        )
    return out


def generate_tickets(
    gen: Gen,
    store: Store,
    products: dict[int, dict[str, Any]],
    customers: list[dict[str, Any]],
    contact_ids: dict[int, list[tuple[int, str]]],
    tax_rate: Decimal,
) -> dict[str, int]:
    """n tickets spread over the history, each with 1-4 comments; worked tickets get line
    items and maybe a timer, Invoiced ones an invoice. Written in batches of 5 000 tickets;
    returns the next id per kind (and the next ticket and invoice numbers)."""
    created_times = sorted(gen.past() for _ in range(gen.n))
    ids = dict(FIRST_IDS)
    batch: dict[str, list[dict[str, Any]]] = {
        k: [] for k in (K_TICKET, K_COMMENT, K_LINE, K_TIMER, K_INVOICE, K_INVOICE_LINE)
    }

    def flush() -> None:
        for kind, rows in batch.items():
            if rows:
                store.put_many(kind, rows)
                rows.clear()

    for created in created_times:
        tid, number = ids[K_TICKET], ids["syncro.ticket_number"]
        ids[K_TICKET] += 1
        ids["syncro.ticket_number"] += 1
        customer = gen.rng.choice(customers)
        ticket = _ticket(gen, tid, number, customer, contact_ids, created)
        comments, last = _comments(gen, ids, ticket, customer, created)
        batch[K_COMMENT].extend(comments)
        status = ticket["status"]
        worked = status in ("Invoiced", "Resolved", "Closed") or (
            status == "In Progress" and gen.rng.random() < 0.5
        )
        items: list[dict[str, Any]] = []
        if worked:
            items, last = _line_items(gen, ids, ticket, products, created, last)
            if gen.rng.random() < 0.6:
                batch[K_TIMER].append(_work_timer(gen, ids, ticket, items, created))
        elif gen.rng.random() < 0.2:
            batch[K_TIMER].append(_troubleshooting_timer(gen, ids, ticket, created))
        if status in ("Resolved", "Invoiced", "Closed"):
            ticket["resolved_at"] = ts(last)
        if status == "Invoiced" and items:
            invoice, lines, last = _invoice(gen, ids, ticket, customer, items, last, tax_rate)
            batch[K_INVOICE].append(invoice)
            batch[K_INVOICE_LINE].extend(lines)
        batch[K_LINE].extend(items)
        ticket["updated_at"] = ts(last)
        batch[K_TICKET].append(ticket)
        if len(batch[K_TICKET]) >= 5000:
            flush()
    flush()
    return ids


def _ticket(
    gen: Gen,
    tid: int,
    number: int,
    customer: dict[str, Any],
    contact_ids: dict[int, list[tuple[int, str]]],
    created: datetime,
) -> dict[str, Any]:
    """One ticket of ``customer``: a status that fits its age, type, priority, assignee and
    (for business customers, mostly) a contact."""
    rng = gen.rng
    age_days = (gen.anchor - created).total_seconds() / 86400
    if age_days > 21:
        status = rng.choices(
            ["Invoiced", "Resolved", "Closed", *OPEN_STATUSES],
            [45, 30, 10, 3, 3, 3, 2, 2, 1, 1],
        )[0]
    else:
        status = rng.choices(
            [
                "New",
                "In Progress",
                "Waiting on Customer",
                "Scheduled",
                "Customer Reply",
                "Waiting for Parts",
                "Resolved",
                "Invoiced",
            ],
            [25, 25, 12, 8, 5, 5, 15, 5],
        )[0]
    ticket = TicketRoutes.new_ticket(
        tid,
        number,
        customer,
        subject=_fill(rng.choice(SUBJECTS), gen),
        at=created,
        status=status,
    )
    tt_id, tt_name = rng.choice(TICKET_TYPES)
    user_id = rng.choice(USERS) if rng.random() < 0.95 else None
    ticket.update(
        problem_type=rng.choice(PROBLEM_TYPES),
        priority=rng.choices(PRIORITIES, [5, 20, 65, 10])[0],
        ticket_type_id=tt_id,
        ticket_type_name=tt_name,
        user_id=user_id,
        user=user_obj(user_id),
    )
    if customer["id"] in contact_ids and rng.random() < 0.7:
        kid, kname = rng.choice(contact_ids[customer["id"]])
        ticket["contact_id"], ticket["contact_fullname"] = kid, kname
    return ticket


def _comments(
    gen: Gen,
    ids: dict[str, int],
    ticket: dict[str, Any],
    customer: dict[str, Any],
    created: datetime,
) -> tuple[list[dict[str, Any]], datetime]:
    """1-4 comments: the customer's initial issue, then technicians' updates (some hidden).
    Returns them and the time of the latest."""
    rng = gen.rng
    tid, user_id = ticket["id"], ticket["user_id"]
    comments = []
    last = created
    for c in range(rng.randint(1, 4)):
        at = created if c == 0 else gen.after(last, 72)
        last = max(last, at)
        tech_id = user_id or rng.choice(USERS)
        comment = comment_record(
            ids[K_COMMENT],
            tid,
            subject="Initial Issue" if c == 0 else rng.choice(COMMENT_SUBJECTS[1:]),
            body=_fill(rng.choice(COMMENT_BODIES), gen) if c else gen.pick("sentence", _sentence),
            tech=TECHS[tech_id] if c else (ticket.get("contact_fullname") or customer["fullname"]),
            hidden=c > 0 and rng.random() < 0.3,
            user_id=tech_id if c else None,
            at=at,
        )
        ids[K_COMMENT] += 1
        comments.append(comment)
        if c == 0:
            ticket["comments"] = [comment]
    return comments, last


def _line_items(
    gen: Gen,
    ids: dict[str, int],
    ticket: dict[str, Any],
    products: dict[int, dict[str, Any]],
    created: datetime,
    last: datetime,
) -> tuple[list[dict[str, Any]], datetime]:
    """1-3 labor line items of a worked ticket; returns them and the latest activity time."""
    rng = gen.rng
    tid, user_id = ticket["id"], ticket["user_id"]
    items = []
    for pos in range(rng.choices([1, 2, 3], [70, 25, 5])[0]):
        product = products[_pick_labor(rng)]
        quantity = Decimal(rng.choice([25, 50, 50, 75, 100, 100, 150, 200, 300])) / 100
        at = gen.after(created, 96)
        last = max(last, at)
        item = line_item_record(
            ids[K_LINE],
            tid,
            user_id=user_id or rng.choice(USERS),
            product_id=product["id"],
            name=product["name"],
            description=_fill(rng.choice(COMMENT_BODIES), gen),
            quantity=quantity,
            taxable=rng.random() < 0.15,
            cost_cents=0,
            retail_cents=cents(product["price_retail"]),
            position=pos + 1,
            at=at,
            category="Labor",
        )
        ids[K_LINE] += 1
        items.append(item)
    return items, last


def _work_timer(
    gen: Gen,
    ids: dict[str, int],
    ticket: dict[str, Any],
    items: list[dict[str, Any]],
    created: datetime,
) -> dict[str, Any]:
    """A finished timer on a worked ticket, usually already recorded as its first line item."""
    rng = gen.rng
    start = gen.after(created, 48)
    minutes = rng.choice([15, 30, 45, 60, 90, 120])
    timer = timer_record(
        ids[K_TIMER],
        ticket["id"],
        user_id=ticket["user_id"] or rng.choice(USERS),
        start=start,
        end=start + timedelta(minutes=minutes),
        notes=gen.pick("sentence", _sentence),
        product_id=items[0]["product_id"],
        billable=True,
        at=start + timedelta(minutes=minutes),
    )
    ids[K_TIMER] += 1
    if rng.random() < 0.7:
        timer["recorded"] = True
        timer["ticket_line_item_id"] = items[0]["id"]
    return timer


def _troubleshooting_timer(
    gen: Gen, ids: dict[str, int], ticket: dict[str, Any], created: datetime
) -> dict[str, Any]:
    """A short, unrecorded timer on a ticket that saw no billed work yet."""
    rng = gen.rng
    start = gen.after(created, 24)
    timer = timer_record(
        ids[K_TIMER],
        ticket["id"],
        user_id=ticket["user_id"] or rng.choice(USERS),
        start=start,
        end=start + timedelta(minutes=rng.choice([10, 20, 30])),
        notes="Troubleshooting",
        product_id=DEFAULT_LABOR_PRODUCT_ID,
        billable=True,
        at=start,
    )
    ids[K_TIMER] += 1
    return timer


def _invoice(
    gen: Gen,
    ids: dict[str, int],
    ticket: dict[str, Any],
    customer: dict[str, Any],
    items: list[dict[str, Any]],
    last: datetime,
    tax_rate: Decimal,
) -> tuple[dict[str, Any], list[dict[str, Any]], datetime]:
    """The invoice of an Invoiced ticket made from its line items (marked converted), taxed at
    ``tax_rate``, paid when older than 30 days (or by chance). Returns it, its lines and the
    latest activity time."""
    iid = ids[K_INVOICE]
    ids[K_INVOICE] += 1
    inv_at = gen.after(last, 48)
    invoice = InvoiceRoutes.new_invoice(
        iid,
        str(ids["syncro.invoice_number"]),
        customer,
        ticket_id=ticket["id"],
        date=inv_at,
        at=inv_at,
        user_id=ticket["user_id"],
    )
    ids["syncro.invoice_number"] += 1
    lines = []
    for pos, item in enumerate(items, 1):
        item["converted"] = True
        lines.append(
            InvoiceRoutes.invoice_line_from_ticket_item(ids[K_INVOICE_LINE], iid, item, pos, inv_at)
        )
        ids[K_INVOICE_LINE] += 1
    subtotal = sum((Decimal(x["price"]) * Decimal(x["quantity"]) for x in lines), Decimal(0))
    taxable = sum(
        (Decimal(x["price"]) * Decimal(x["quantity"]) for x in lines if x["taxable"]),
        Decimal(0),
    )
    tax = (taxable * tax_rate).quantize(Decimal("0.01"))
    invoice.update(subtotal=money(subtotal), tax=money(tax), total=money(subtotal + tax))
    if (gen.anchor - inv_at).days > 30 or gen.rng.random() < 0.3:
        invoice.update(is_paid=True, verified_paid=True, updated_at=ts(gen.after(inv_at, 24 * 30)))
    return invoice, lines, max(last, inv_at)
